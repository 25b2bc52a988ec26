/*
 * The logging API of the OpenBSD daemons, one line per event on stderr.
 * Every message is formatted whole, then redacted (the registered secret
 * and any "b=" URL parameter value) and its control characters escaped,
 * and only then cut to the line limit, so a cut never shows part of a
 * secret and nothing forges a line.  It is written with a single write so
 * lines from different threads do not interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "timer.h"

#define LOG_LINE_MAX 2048

static const char *log_progname = "bot";
static enum log_level log_level = LOG_LEVEL_INFO;
static char log_secret[256];

void
log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

void
log_set_secret(const char *secret)
{
	if (secret == NULL || strlen(secret) >= sizeof(log_secret))
		log_secret[0] = '\0';
	else
		memcpy(log_secret, secret, strlen(secret) + 1);
}

/* True when the b= at in[i] (of len bytes) starts a query parameter, not
 * part of a word. */
static int
log_is_param(const char *in, size_t len, size_t i)
{
	return i + 1 < len && in[i] == 'b' && in[i + 1] == '=' &&
	    (i == 0 || in[i - 1] == '?' || in[i - 1] == '&' ||
	        in[i - 1] == ' ' || in[i - 1] == ';');
}

/* Appends text to out (size outlen) at *o when all of it fits before the
 * NUL; returns 0, or -1 (nothing appended) when it does not. */
static int
log_put(char *out, size_t outlen, size_t *o, const char *text, size_t n)
{
	if (*o + n + 1 > outlen)
		return -1;
	memcpy(out + *o, text, n);
	*o += n;
	return 0;
}

/* The filter behind log_redact and log_sanitize: reads all of in[0..len)
 * (so a secret is recognised whole wherever the output ends), writes what
 * fits.  With escape, control characters become \n, \r, \t or \xNN, never
 * split.  Returns the input bytes represented in out. */
static size_t
log_filter(const char *in, size_t len, char *out, size_t outlen, int escape,
    size_t *out_len)
{
	static const char mask[] = "<redacted>";
	size_t slen = strlen(log_secret), i = 0, o = 0, k;
	char esc[8];

	*out_len = 0;
	if (outlen == 0)
		return 0;
	while (i < len) {
		unsigned char ch = (unsigned char)in[i];

		if (slen > 0 && len - i >= slen &&
		    memcmp(in + i, log_secret, slen) == 0) {
			/* A cut mask is harmless; the secret is never shown. */
			for (k = 0; mask[k] != '\0' && o + 1 < outlen; k++)
				out[o++] = mask[k];
			if (mask[k] != '\0')
				break;
			i += slen;
		} else if (log_is_param(in, len, i)) {
			for (k = 0; k < 2 && o + 1 < outlen; k++)
				out[o++] = in[i + k];
			i += 2;
			while (i < len && (unsigned char)in[i] >= 0x20 &&
			    in[i] != '&' && in[i] != ' ' && in[i] != '"' &&
			    in[i] != '\'' && in[i] != '#')
				i++;
			for (k = 0; mask[k] != '\0' && o + 1 < outlen; k++)
				out[o++] = mask[k];
			if (mask[k] != '\0')
				break;
		} else if (escape && (ch < 0x20 || ch == 0x7f)) {
			if (ch == '\n')
				snprintf(esc, sizeof(esc), "\\n");
			else if (ch == '\r')
				snprintf(esc, sizeof(esc), "\\r");
			else if (ch == '\t')
				snprintf(esc, sizeof(esc), "\\t");
			else
				snprintf(esc, sizeof(esc), "\\x%02x", ch);
			if (log_put(out, outlen, &o, esc, strlen(esc)) == -1)
				break;
			i++;
		} else if (!escape && ch == '\0') {
			break;
		} else {
			if (o + 1 >= outlen)
				break;
			out[o++] = in[i++];
		}
	}
	out[o] = '\0';
	*out_len = o;
	return i;
}

size_t
log_redact(const char *in, char *out, size_t outlen)
{
	size_t n;

	(void)log_filter(in, strlen(in), out, outlen, 0, &n);
	return n;
}

size_t
log_sanitize(const char *in, size_t len, char *out, size_t outlen)
{
	size_t n;

	return log_filter(in, len, out, outlen, 1, &n);
}

/* Formats fmt in full into *msg: the stack buffer small when it fits,
 * else a new allocation (*heap, to be freed).  Returns the length, or -1
 * when it cannot be formatted whole. */
static int
log_format(char *small, size_t smallsize, const char **msg, char **heap,
    const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	*heap = NULL;
	*msg = small;
	va_copy(aq, ap);
	n = vsnprintf(small, smallsize, fmt, aq);
	va_end(aq);
	if (n < 0 || (size_t)n < smallsize)
		return n;
	/* Cutting before redacting could leave part of a secret: format it
	 * whole.  No xmalloc here: it logs on failure. */
	*heap = malloc((size_t)n + 1);
	if (*heap == NULL)
		return -1;
	vsnprintf(*heap, (size_t)n + 1, fmt, ap);
	*msg = *heap;
	return n;
}

static void
log_vwrite(const char *level, const char *fmt, va_list ap, int errnum)
{
	char small[LOG_LINE_MAX], line[LOG_LINE_MAX + 128], clean[LOG_LINE_MAX];
	const char *msg;
	char *heap, *full = NULL;
	struct timespec ts;
	struct tm tm;
	size_t len;
	int n;

	n = log_format(small, sizeof(small), &msg, &heap, fmt, ap);
	if (n < 0) {
		msg = "(a log message that could not be formatted)";
		n = (int)strlen(msg);
	}
	len = (size_t)n;
	if (errnum != 0) {
		const char *es = strerror(errnum);

		full = malloc(len + strlen(es) + 3);
		if (full != NULL) {
			memcpy(full, msg, len);
			memcpy(full + len, ": ", 2);
			memcpy(full + len + 2, es, strlen(es) + 1);
			msg = full;
			len += 2 + strlen(es);
		}
	}
	/* Redact the whole message first, then escape control characters
	 * (one event, one line: nothing from the network forges a line),
	 * then cut to the line limit. */
	(void)log_sanitize(msg, len, clean, sizeof(clean));
	free(full);
	free(heap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: %s\n",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, level, log_progname, clean);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to report a failing stderr. */
	}
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (log_level < LOG_LEVEL_WARN)
		return;
	va_start(ap, fmt);
	log_vwrite("WARN", fmt, ap, saved);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LEVEL_WARN)
		return;
	va_start(ap, fmt);
	log_vwrite("WARN", fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_vwrite("INFO", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite("DEBUG", fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("FATAL", fmt, ap, saved);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite("FATAL", fmt, ap, 0);
	va_end(ap);
	exit(1);
}

void
log_warnx_limited(
    struct log_limit *lim, int64_t interval_ms, const char *fmt, ...)
{
	char small[LOG_LINE_MAX], *heap;
	const char *msg;
	int64_t now = timer_now_ms();
	va_list ap;
	int n;

	if (lim->next_ms != 0 && now < lim->next_ms) {
		lim->suppressed++;
		return;
	}
	/* Whole, so that log_vwrite redacts before it cuts. */
	va_start(ap, fmt);
	n = log_format(small, sizeof(small), &msg, &heap, fmt, ap);
	va_end(ap);
	if (n < 0)
		msg = "(a log message that could not be formatted)";
	if (lim->suppressed > 0)
		log_warnx("%s (%u similar messages suppressed)", msg,
		    lim->suppressed);
	else
		log_warnx("%s", msg);
	free(heap);
	lim->suppressed = 0;
	lim->next_ms = now + interval_ms;
}
