/*
 * Settings tables: lookup, typed readers on top of env.c, and the --help
 * formatter.  A wrong name or a table entry of the wrong kind is a
 * programming error and stops the bot at once, so a table and its readers
 * cannot drift apart unnoticed.
 */
#include "settings.h"

#include <stdio.h>
#include <string.h>

#include "env.h"
#include "log.h"

#define SETTINGS_COL   25 /* where help text starts */
#define SETTINGS_WIDTH 78 /* longest line, when words allow */

const struct setting *
settings_find(const struct setting *t, const char *name)
{
	for (; t != NULL && t->name != NULL; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	fatalx("settings: %s is not in the settings table (a bug)", name);
}

/* The integer entry called name; fatal when it is not one. */
static const struct setting *
settings_find_int(const struct setting *t, const char *name)
{
	const struct setting *s = settings_find(t, name);

	if (s->min >= s->max)
		fatalx("settings: %s has no integer range (a bug)", name);
	return s;
}

/* The entry's default as a number in its range; fatal when it is not. */
static int64_t
settings_def_int(const struct setting *s, int64_t min)
{
	char err[BOT_ERRLEN];
	int64_t def;

	if (s->def == NULL ||
	    env_parse_int(s->def, min, s->max, &def, err, sizeof(err)) == -1)
		fatalx("settings: %s has no usable default (a bug)", s->name);
	return def;
}

int64_t
settings_int(const struct setting *t, const char *name)
{
	const struct setting *s = settings_find_int(t, name);

	return env_int(name, settings_def_int(s, s->min), s->min, s->max);
}

int64_t
settings_int_at_least(const struct setting *t, const char *name, int64_t min)
{
	const struct setting *s = settings_find_int(t, name);

	if (min < s->min)
		min = s->min;
	return env_int(name, settings_def_int(s, s->min), min, s->max);
}

int64_t
settings_int_computed(const struct setting *t, const char *name, int64_t def)
{
	const struct setting *s = settings_find_int(t, name);

	return env_int(name, def, s->min, s->max);
}

const char *
settings_str(const struct setting *t, const char *name)
{
	return env_str(name, settings_find(t, name)->def);
}

int
settings_bool(const struct setting *t, const char *name)
{
	const struct setting *s = settings_find(t, name);
	int def;

	if (s->def != NULL && strcmp(s->def, "1") == 0)
		def = 1;
	else if (s->def != NULL && strcmp(s->def, "0") == 0)
		def = 0;
	else
		fatalx("settings: %s has no 0/1 default (a bug)", name);
	return env_bool(name, def);
}

char *
settings_secret(const struct setting *t, const char *name, int retry_ms,
    volatile sig_atomic_t *stop)
{
	char fname[128];

	settings_find(t, name);
	snprintf(fname, sizeof(fname), "%s_FROM_FILE", name);
	settings_find(t, fname);
	return env_secret(name, retry_ms, stop);
}

/* Writes one word (len bytes of w) at *col: after a space, or on a new
 * indented line when it would pass the width; *fresh: nothing written
 * in the text column of this line yet (no space needed). */
static void
settings_word(FILE *f, const char *w, size_t len, size_t *col, int *fresh)
{
	if (!*fresh && *col + 1 + len > SETTINGS_WIDTH) {
		fprintf(f, "\n%*s", SETTINGS_COL, "");
		*col = SETTINGS_COL;
	} else if (!*fresh) {
		fputc(' ', f);
		(*col)++;
	}
	fwrite(w, 1, len, f);
	*col += len;
	*fresh = 0;
}

/* The "[default: D; MIN..MAX]" that ends an entry, or "" for neither. */
static void
settings_tail(const struct setting *s, char *out, size_t size)
{
	int ranged = s->min < s->max;

	if (s->def != NULL && ranged)
		snprintf(out, size, "[default: %s; %lld..%lld]", s->def,
		    (long long)s->min, (long long)s->max);
	else if (s->def != NULL)
		snprintf(out, size, "[default: %s]", s->def);
	else if (ranged)
		snprintf(out, size, "[%lld..%lld]", (long long)s->min,
		    (long long)s->max);
	else
		out[0] = '\0';
}

void
settings_help(FILE *f, const struct setting *t)
{
	char tail[256];
	size_t col, n;
	const char *p;
	int fresh;

	for (; t != NULL && t->name != NULL; t++) {
		/* The name, then the text at SETTINGS_COL, or two spaces
		 * after a name too long for the column. */
		fprintf(f, "  %s", t->name);
		col = 2 + strlen(t->name);
		n = col + 2 <= SETTINGS_COL ? SETTINGS_COL - col : 2;
		fprintf(f, "%*s", (int)n, "");
		col += n;
		fresh = 1;
		for (p = t->help != NULL ? t->help : "";; p += n) {
			p += strspn(p, " ");
			if (*p == '\0')
				break;
			n = strcspn(p, " ");
			settings_word(f, p, n, &col, &fresh);
		}
		settings_tail(t, tail, sizeof(tail));
		if (tail[0] != '\0')
			settings_word(f, tail, strlen(tail), &col, &fresh);
		fputc('\n', f);
	}
}
