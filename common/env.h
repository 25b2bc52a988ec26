/*
 * Typed readers for environment variables.  A malformed value is a
 * start-up error: the reader logs one line naming the variable and what is
 * wrong, then exits (fatalx).
 */
#ifndef BOT_ENV_H
#define BOT_ENV_H

#include <signal.h>
#include <stdint.h>

#include "attrs.h"

/* Returns the variable's value (borrowed from the environment) or def when
 * it is unset or empty. */
const char *env_str(const char *name, const char *def);

/* Parses an integer in [min, max] (full-string check); def when unset. */
int64_t env_int(const char *name, int64_t def, int64_t min, int64_t max);

/* Parses 1/0, true/false, yes/no, on/off; def when unset. */
int env_bool(const char *name, int def);

/* Parses an integer in [min, max] from s; -1 with err filled when it is
 * not one.  For config values that come from files or JSON strings. */
int env_parse_int(const char *s, int64_t min, int64_t max, int64_t *out,
    char *err, size_t errlen) BOT_WUR;

/* Strips leading and trailing white space in place; returns s. */
char *env_trim(char *s);

/* Reads a secret from the variable name, or from the file named by
 * name_FROM_FILE.  While that file does not exist, logs once and retries
 * every retry_ms until *stop becomes non-zero (then returns NULL).  The
 * result is trimmed and owned by the caller; NULL if neither is set. */
char *env_secret(const char *name, int retry_ms, volatile sig_atomic_t *stop);

#endif
