/*
 * Settings tables: each module or bot lists the environment variables it
 * reads once, with default, range and help text.  The readers, the range
 * checks and --help all come from that table (readers are built on env.c,
 * so a malformed value is still a start-up error naming the variable).
 */
#ifndef BOT_SETTINGS_H
#define BOT_SETTINGS_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

/* One environment variable.  A table is an array ended by an entry whose
 * name is NULL. */
struct setting {
	const char *name;
	/* The default as --help and the README show it; NULL: none.  For
	 * settings_int/settings_bool it must be a whole number, except where
	 * the caller computes the default (settings_int_computed): then it
	 * states the rule. */
	const char *def;
	/* The range of an integer setting; min == max == 0: not an integer. */
	int64_t min, max;
	const char *help; /* one sentence or two, wrapped by settings_help */
};

/* The entry called name in table t.  A name not in the table is a bug in
 * the caller: fatal (exit 1). */
const struct setting *settings_find(const struct setting *t, const char *name);

/* The integer in the entry's range, its default when unset.  Fatal when
 * the value is malformed or out of range (naming the variable), or when
 * the entry is not an integer with a numeric default (a bug). */
int64_t settings_int(const struct setting *t, const char *name);

/* As settings_int, with the entry's minimum raised to min (a bound that
 * depends on another setting, stated in the help text). */
int64_t settings_int_at_least(
    const struct setting *t, const char *name, int64_t min);

/* As settings_int, with a default the caller computed from other settings
 * (the entry's def states the rule). */
int64_t settings_int_computed(
    const struct setting *t, const char *name, int64_t def);

/* The value (borrowed from the environment), else the entry's default
 * (NULL when it has none); unset and empty are the same. */
const char *settings_str(const struct setting *t, const char *name);

/* 1/0, true/false, yes/no, on/off; the entry's default ("0" or "1") when
 * unset.  Fatal on anything else. */
int settings_bool(const struct setting *t, const char *name);

/* env_secret on name: both name and name_FROM_FILE must be in t. */
char *settings_secret(const struct setting *t, const char *name, int retry_ms,
    volatile sig_atomic_t *stop);

/* Prints t for --help: one entry per variable, its name in a column,
 * the help text wrapped beside it, then "[default: D; MIN..MAX]" (either
 * part left out when the entry has none).  t may be NULL. */
void settings_help(FILE *f, const struct setting *t);

#endif
