/*
 * Unit tests for retry_after.c: delta-seconds, the three HTTP-date forms
 * of RFC 9110 (with the RFC's own example instant), dates in the past,
 * clamping and malformed values.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "retry_after.h"
#include "t.h"

#define RFC_EXAMPLE 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */

T_TEST(retry_after_seconds)
{
	int64_t ms = -1;

	T_EQ_INT(retry_after_parse("120", 0, &ms), 0);
	T_EQ_INT(ms, 120000);
	T_EQ_INT(retry_after_parse("  5 \t", 0, &ms), 0);
	T_EQ_INT(ms, 5000);
	T_EQ_INT(retry_after_parse("0", 0, &ms), 0);
	T_EQ_INT(ms, 0);
	/* Absurdly long waits are clamped to a year. */
	T_EQ_INT(retry_after_parse("99999999999999999999999", 0, &ms), 0);
	T_EQ_INT(ms, 365LL * 24 * 3600 * 1000);
}

T_TEST(retry_after_dates)
{
	static const char *const forms[] = {
	    "Sun, 06 Nov 1994 08:49:37 GMT",  /* IMF-fixdate */
	    "Sunday, 06-Nov-94 08:49:37 GMT", /* RFC 850 */
	    "Sun Nov  6 08:49:37 1994",       /* asctime */
	};
	int64_t when = 0, ms = -1;
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		T_EQ_INT(retry_after_date(forms[i], &when), 0);
		T_EQ_INT(when, RFC_EXAMPLE);
		T_EQ_INT(
		    retry_after_parse(forms[i], RFC_EXAMPLE - 30.5, &ms), 0);
		T_EQ_INT(ms, 30500);
	}
	/* In the past: retry now. */
	T_EQ_INT(retry_after_parse(forms[0], RFC_EXAMPLE + 100, &ms), 0);
	T_EQ_INT(ms, 0);
	T_EQ_INT(retry_after_date("Thu, 01 Jan 1970 00:00:00 GMT", &when), 0);
	T_EQ_INT(when, 0);
	T_EQ_INT(retry_after_date("Tue, 29 Feb 2028 23:59:59 GMT", &when), 0);
	T_EQ_INT(when, 1835481599);
	T_EQ_INT(
	    retry_after_date("Wednesday, 09-Jun-21 10:18:14 GMT", &when), 0);
	T_EQ_INT(when, 1623233894);
}

T_TEST(retry_after_matches_strftime)
{
	char s[64];
	struct tm tm;
	time_t t;
	int64_t when;

	/* Round trip through the C library's own formatting. */
	for (t = 0; t < 4102444800; t += 86400 * 37 + 3671) {
		gmtime_r(&t, &tm);
		strftime(s, sizeof(s), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		T_EQ_INT(retry_after_date(s, &when), 0);
		T_EQ_INT(when, (int64_t)t);
	}
}

T_TEST(retry_after_refuses_garbage)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "-5",
	    "5s",
	    "1.5",
	    "soon",
	    "Sun, 06 Nov 1994 08:49:37",
	    "Sun, 06 Nov 1994 08:49:37 UTC",
	    "Sun, 6 Nov 1994 08:49:37 GMT",
	    "Sun, 06 Nox 1994 08:49:37 GMT",
	    "Sun, 32 Nov 1994 08:49:37 GMT",
	    "Sun, 06 Nov 1994 24:49:37 GMT",
	    "Xyz, 06 Nov 1994 08:49:37 GMT",
	    "Sunday, 06 Nov 1994 08:49:37 GMT",
	    "Sun Nov  6 08:49:37 1994 GMT",
	    "Sun, 06 Nov 1994 08:49 GMT",
	};
	int64_t ms;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (retry_after_parse(bad[i], 0, &ms) != -1) {
			t_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
			return;
		}
	}
}
