/*
 * The logging API of the OpenBSD daemons, one line per event on stderr.
 * Every message is formatted into a fixed buffer, then redacted (the
 * registered secret and any "b=" URL parameter value), then written with a
 * single write so lines from different threads do not interleave.
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

/* True when the b= at in[i] starts a query parameter, not part of a word. */
static int
log_is_param(const char *in, size_t i)
{
	return in[i] == 'b' && in[i + 1] == '=' &&
	    (i == 0 || in[i - 1] == '?' || in[i - 1] == '&' ||
	        in[i - 1] == ' ' || in[i - 1] == ';');
}

size_t
log_redact(const char *in, char *out, size_t outlen)
{
	static const char mask[] = "<redacted>";
	size_t slen = strlen(log_secret), i = 0, o = 0;

	if (outlen == 0)
		return 0;
	while (in[i] != '\0' && o + 1 < outlen) {
		int skip = 0;

		if (slen > 0 && strncmp(in + i, log_secret, slen) == 0) {
			skip = (int)slen;
		} else if (log_is_param(in, i)) {
			out[o++] = 'b';
			if (o + 1 < outlen)
				out[o++] = '=';
			i += 2;
			while (in[i] != '\0' && in[i] != '&' && in[i] != ' ' &&
			    in[i] != '"' && in[i] != '\'' && in[i] != '#')
				i++;
			skip = -1;
		}
		if (skip == 0) {
			out[o++] = in[i++];
			continue;
		}
		if (skip > 0)
			i += (size_t)skip;
		for (size_t k = 0; mask[k] != '\0' && o + 1 < outlen; k++)
			out[o++] = mask[k];
	}
	out[o] = '\0';
	return o;
}

static void
log_vwrite(const char *level, const char *fmt, va_list ap, int errnum)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 128], clean[LOG_LINE_MAX];
	struct timespec ts;
	struct tm tm;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum != 0) {
		size_t len = strlen(msg);

		snprintf(
		    msg + len, sizeof(msg) - len, ": %s", strerror(errnum));
	}
	log_redact(msg, clean, sizeof(clean));
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
	char msg[LOG_LINE_MAX];
	int64_t now = timer_now_ms();
	va_list ap;

	if (lim->next_ms != 0 && now < lim->next_ms) {
		lim->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lim->suppressed > 0)
		log_warnx("%s (%u similar messages suppressed)", msg,
		    lim->suppressed);
	else
		log_warnx("%s", msg);
	lim->suppressed = 0;
	lim->next_ms = now + interval_ms;
}
