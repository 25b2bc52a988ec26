/*
 * Retry-After parsing without the C library's locale-dependent strptime:
 * a small cursor reads the three HTTP-date forms and a days-from-civil
 * formula turns the broken-down UTC time into Unix seconds.  Whitespace
 * around the value is allowed; anything else that does not fit is refused
 * rather than guessed at.
 */
#include "retry_after.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define RETRY_AFTER_MAX_S (365LL * 24 * 3600)

static const char *const ra_months[12] = {"Jan", "Feb", "Mar", "Apr", "May",
    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const ra_days[7] = {
    "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const ra_long_days[7] = {"Monday", "Tuesday", "Wednesday",
    "Thursday", "Friday", "Saturday", "Sunday"};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
ra_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
ra_word(const char **p, const char *const *list, size_t n, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strlen(list[i]) == len && strncmp(*p, list[i], len) == 0) {
			*p += len;
			return (int)i;
		}
	}
	return -1;
}

/* Reads exactly min..max digits. */
static int
ra_num(const char **p, int min, int max, int *out)
{
	int n = 0, v = 0;

	while (n < max && isdigit((unsigned char)(*p)[n])) {
		v = v * 10 + ((*p)[n] - '0');
		n++;
	}
	if (n < min)
		return -1;
	*p += n;
	*out = v;
	return 0;
}

static int
ra_char(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

/* "HH:MM:SS" */
static int
ra_time(const char **p, int *h, int *mi, int *s)
{
	if (ra_num(p, 2, 2, h) == -1 || ra_char(p, ':') == -1 ||
	    ra_num(p, 2, 2, mi) == -1 || ra_char(p, ':') == -1 ||
	    ra_num(p, 2, 2, s) == -1)
		return -1;
	return 0;
}

static int
ra_month(const char **p)
{
	return ra_word(p, ra_months, 12, 3);
}

int
retry_after_date(const char *s, int64_t *epoch_s)
{
	const char *p = s;
	int y = 0, mon, d, h, mi, sec;
	size_t wlen = 0;

	while (isalpha((unsigned char)p[wlen]))
		wlen++;
	if (p[wlen] == ',') {
		if (wlen == 3) {
			/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
			if (ra_word(&p, ra_days, 7, 3) < 0 ||
			    ra_char(&p, ',') == -1 || ra_char(&p, ' ') == -1 ||
			    ra_num(&p, 2, 2, &d) == -1 ||
			    ra_char(&p, ' ') == -1 ||
			    (mon = ra_month(&p)) < 0 ||
			    ra_char(&p, ' ') == -1 ||
			    ra_num(&p, 4, 4, &y) == -1 ||
			    ra_char(&p, ' ') == -1)
				return -1;
		} else {
			/* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
			if (ra_word(&p, ra_long_days, 7, wlen) < 0 ||
			    ra_char(&p, ',') == -1 || ra_char(&p, ' ') == -1 ||
			    ra_num(&p, 2, 2, &d) == -1 ||
			    ra_char(&p, '-') == -1 ||
			    (mon = ra_month(&p)) < 0 ||
			    ra_char(&p, '-') == -1 ||
			    ra_num(&p, 2, 2, &y) == -1 ||
			    ra_char(&p, ' ') == -1)
				return -1;
			/* Two-digit years: the RFC's "not more than 50
			 * years in the future" rule, fixed on 1970. */
			y += y < 70 ? 2000 : 1900;
		}
		if (ra_time(&p, &h, &mi, &sec) == -1 || strcmp(p, " GMT") != 0)
			return -1;
	} else if (wlen == 3) {
		/* asctime: Sun Nov  6 08:49:37 1994 */
		if (ra_word(&p, ra_days, 7, 3) < 0 || ra_char(&p, ' ') == -1 ||
		    (mon = ra_month(&p)) < 0 || ra_char(&p, ' ') == -1)
			return -1;
		if (*p == ' ')
			p++;
		if (ra_num(&p, 1, 2, &d) == -1 || ra_char(&p, ' ') == -1 ||
		    ra_time(&p, &h, &mi, &sec) == -1 ||
		    ra_char(&p, ' ') == -1 || ra_num(&p, 4, 4, &y) == -1 ||
		    *p != '\0')
			return -1;
	} else {
		return -1;
	}
	if (d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	*epoch_s = ra_days_from_civil(y, mon + 1, d) * 86400 + h * 3600 +
	    mi * 60 + sec;
	return 0;
}

int
retry_after_parse(const char *value, double now_s, int64_t *delay_ms)
{
	char tmp[64];
	size_t start = 0, end = strlen(value), i;
	int64_t secs = 0, when;
	double d;

	while (start < end && isspace((unsigned char)value[start]))
		start++;
	while (end > start && isspace((unsigned char)value[end - 1]))
		end--;
	if (start == end || end - start >= sizeof(tmp))
		return -1;
	memcpy(tmp, value + start, end - start);
	tmp[end - start] = '\0';
	if (isdigit((unsigned char)tmp[0])) {
		for (i = 0; tmp[i] != '\0'; i++) {
			if (!isdigit((unsigned char)tmp[i]))
				return -1;
			if (secs < RETRY_AFTER_MAX_S)
				secs = secs * 10 + (tmp[i] - '0');
		}
		if (secs > RETRY_AFTER_MAX_S)
			secs = RETRY_AFTER_MAX_S;
		*delay_ms = secs * 1000;
		return 0;
	}
	if (retry_after_date(tmp, &when) == -1)
		return -1;
	d = ((double)when - now_s) * 1000.0;
	if (d < 0)
		d = 0;
	if (d > (double)RETRY_AFTER_MAX_S * 1000.0)
		d = (double)RETRY_AFTER_MAX_S * 1000.0;
	*delay_ms = (int64_t)d;
	return 0;
}
