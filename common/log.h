/*
 * One line per event on stderr: timestamp, level, program name, message.
 * Every line passes through the redactor, so a registered secret (the bot
 * token) and the value of any "b=" URL parameter never reach the output,
 * and control characters are escaped, so text from the network cannot
 * forge a line or send terminal escapes.  Messages are redacted whole
 * before anything is cut to the line limit.
 */
#ifndef BOT_LOG_H
#define BOT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

enum log_level {
	LOG_LEVEL_NONE = -1, /* only fatal lines: for fuzzing and benchmarks */
	LOG_LEVEL_WARN = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_DEBUG = 2,
};

/* Rate limiter for one kind of repeated warning; zero-initialise it. */
struct log_limit {
	int64_t next_ms;     /* monotonic time when the next line may go out */
	unsigned suppressed; /* lines swallowed since the last one printed */
};

/* Sets the program name (borrowed, must outlive logging) and level. */
void log_init(const char *progname, enum log_level level);
enum log_level log_get_level(void);

/* Registers a secret that is replaced by "<redacted>" in every line.
 * The string is copied; NULL, "" or one of 256 bytes or more clears it
 * (bot tokens are 36-character UUIDs, checked before this is called). */
void log_set_secret(const char *secret);

/* Copies in to out (size outlen, always NUL-terminated) with the value of
 * every "b=" query parameter and every registered secret replaced.
 * Returns the length written. */
size_t log_redact(const char *in, char *out, size_t outlen);

/* Makes untrusted text (a body, a name; len bytes, NULs allowed) safe to
 * log: redacts as log_redact does, then escapes control characters (\n,
 * \r, \t, \xNN for the others below 0x20 and 0x7f), then cuts to fit out
 * (size outlen, always NUL-terminated), never inside an escape.  The whole
 * input is read first, so a cut never shows part of a secret.  Returns
 * the input bytes shown: less than len when the text was cut. */
size_t log_sanitize(const char *in, size_t len, char *out, size_t outlen);

void log_warn(const char *fmt, ...) BOT_PRINTF(1, 2); /* adds strerror */
void log_warnx(const char *fmt, ...) BOT_PRINTF(1, 2);
void log_info(const char *fmt, ...) BOT_PRINTF(1, 2);
void log_debug(const char *fmt, ...) BOT_PRINTF(1, 2);
void fatal(const char *fmt, ...) BOT_PRINTF(1, 2) BOT_NORETURN;
void fatalx(const char *fmt, ...) BOT_PRINTF(1, 2) BOT_NORETURN;

/* Logs a warning through lim: at most one line per interval_ms, the next
 * printed line says how many were suppressed in between. */
void log_warnx_limited(struct log_limit *lim, int64_t interval_ms,
    const char *fmt, ...) BOT_PRINTF(3, 4);

#endif
