/*
 * The one set of rules for reading JSON that the backend, job files and
 * bots' credentials send (jobs.c, jobfetch.c, entsync.c, bots' config
 * parsers):
 *   - a member of the wrong type reads as absent (jsonx_int, jsonx_str);
 *   - an id is a JSON integer in 1..2^53;
 *   - a number is a JSON number or a string holding exactly one (the UI
 *     stores "3" and 3 alike); absent, null or a blank string mean the
 *     default; a range and wholeness are checked with one wording;
 *   - text is parsed with a bounded nesting depth and no trailing data.
 */
#ifndef BOT_JSONX_H
#define BOT_JSONX_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct json_object;

/* The largest id: JSON numbers above it lose precision in JavaScript. */
#define JSONX_MAX_ID (INT64_C(1) << 53)

/* jsonx_number flags. */
#define JSONX_WHOLE 1u /* the number must be whole */
#define JSONX_JSON_ONLY                                                        \
	2u                /* a JSON number only, not a string (fields          \
	                     the backend's schema types as numbers) */
#define JSONX_REQUIRED 4u /* jsonx_bool: an absent member is an error */

/* obj[key] when it is an integer, else -1 (ids are positive). */
int64_t jsonx_int(struct json_object *obj, const char *key);

/* obj[key] when it is a string (borrowed from obj), else NULL. */
const char *jsonx_str(struct json_object *obj, const char *key);

/* Reads obj[key] when it may be missing: 0 with *out the string (borrowed
 * from obj), or NULL when obj is NULL or the member is absent or null;
 * -1 with err "KEY must be a string" when it has another type. */
int jsonx_opt_str(struct json_object *obj, const char *key, const char **out,
    char *err, size_t errlen) BOT_WUR;

/* Reads obj[key] as a boolean into *out (1 or 0); JSON null, and absence
 * unless flags has JSONX_REQUIRED, give def.  0, or -1 with err "KEY is
 * missing" or "KEY must be true or false, got X" (callers may prefix it). */
int jsonx_bool(struct json_object *obj, const char *key, int def,
    unsigned flags, int *out, char *err, size_t errlen) BOT_WUR;

/* Sets *out to obj[key] when it is a JSON integer in 1..JSONX_MAX_ID and
 * returns 0; -1 (out untouched) when absent or anything else. */
int jsonx_id(struct json_object *obj, const char *key, int64_t *out) BOT_WUR;

/* 1 when v (a member, NULL when absent or JSON null) means "not set":
 * NULL or a string of blanks only. */
int jsonx_blank(struct json_object *v);

/* Reads obj[key] (obj may be NULL) by the number rule above into *out:
 * def when absent, null or blank; then it must lie in [min, max] (and be
 * whole with JSONX_WHOLE).  Returns 0, or -1 with err "KEY must be a
 * number, got X" or "KEY must be a (whole) number from MIN to MAX, got V"
 * (callers may prefix it). */
int jsonx_number(struct json_object *obj, const char *key, double def,
    double min, double max, unsigned flags, double *out, char *err,
    size_t errlen) BOT_WUR;

/* A new reference to obj[key] when it is an object, a new empty object
 * when absent or null, NULL when it has another type. */
struct json_object *jsonx_object(struct json_object *obj, const char *key);

/* Parses all of text[0..len) with at most max_depth levels of nesting.
 * 0 with *out (owned by the caller; a JSON null gives NULL), or -1 with
 * err ("not valid JSON: <reason>" or "... trailing data at byte N"). */
int jsonx_parse(const char *text, size_t len, int max_depth,
    struct json_object **out, char *err, size_t errlen) BOT_WUR;

#endif
