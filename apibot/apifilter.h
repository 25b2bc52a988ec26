/*
 * jq filters for apibot: compiled once with libjq, shared by every
 * extraction with the same text, and run on a worker thread.  A run turns
 * the filter's outputs into (key suffix, number) items: numbers as they
 * are, booleans 1/0, numeric strings as numbers, objects by appending
 * their keys (made path-safe) to the suffix.  Other outputs are counted
 * as skipped.  Another thread may halt a run that takes too long.
 */
#ifndef BOT_APIFILTER_H
#define BOT_APIFILTER_H

#include <jv.h>
#include <stddef.h>

#include "attrs.h"

/* Most items one run may produce; a filter yielding more is a runaway. */
#define APIFILTER_MAX_ITEMS 10000
/* Longest key suffix (".a.b"), well under the backend's path limit. */
#define APIFILTER_KEYLEN 160
/* Objects nested deeper than this inside one output are skipped. */
#define APIFILTER_MAX_NEST 8
#define APIFILTER_MSGLEN   160

struct apifilter;

struct apifilter_item {
	char key[APIFILTER_KEYLEN]; /* "" or ".k1.k2", path-safe */
	double v;
};

struct apifilter_result {
	struct apifilter_item *items; /* owned; free with _result_release */
	size_t n, cap;
	unsigned skipped;           /* outputs of a type we do not post */
	char skipped_kind[16];      /* jq kind of the first one skipped */
	int error;                  /* the filter raised an error */
	int runaway;                /* halted, or more than MAX_ITEMS items */
	char msg[APIFILTER_MSGLEN]; /* why (error or runaway) */
};

/* Compiles text, or takes another reference to the filter already
 * compiled from the same text.  Loop thread only.  NULL with err when jq
 * refuses it or when it uses a builtin we forbid (input, inputs, debug,
 * stderr, env, $ENV, halt, halt_error, input_filename, import, include:
 * they read or write outside the answer). */
struct apifilter *apifilter_get(
    const char *text, char *err, size_t errlen) BOT_WUR;
/* Takes another reference.  Loop thread only. */
struct apifilter *apifilter_ref(struct apifilter *f);
/* Drops a reference (NULL is a no-op); the last one frees it.  Loop
 * thread only, and never while a run of it is under way. */
void apifilter_put(struct apifilter *f);
const char *apifilter_text(const struct apifilter *f);

/* Checks text against the forbidden builtins without compiling it.
 * 0, or -1 with err naming the first one found. */
int apifilter_check_text(const char *text, char *err, size_t errlen) BOT_WUR;

/* Runs f on input (borrowed) and fills r (zero it first).  Any thread;
 * runs of one filter are serialised. */
void apifilter_run(struct apifilter *f, jv input, struct apifilter_result *r);
/* Asks a run of f under way to stop (from another thread); it returns
 * soon after with r->runaway set.  No effect when f is not running. */
void apifilter_halt(struct apifilter *f);
void apifilter_result_release(struct apifilter_result *r);

/* Appends one path segment made from len bytes of key to out (which
 * holds outlen bytes and a NUL-terminated suffix): '.', then the key
 * with every run of bytes outside [0-9a-zA-Z_-] as one '-' (an empty key
 * becomes "-").  -1 when it does not fit (out unchanged). */
int apifilter_key_append(
    char *out, size_t outlen, const char *key, size_t len) BOT_WUR;

/* Reads a numeric string: optional blanks around a decimal number
 * (sign, digits, point, exponent; no hex, inf or nan).  0 with *v set
 * when finite, else -1. */
int apifilter_number(const char *s, size_t len, double *v) BOT_WUR;

/* Compiled filters alive (for tests). */
size_t apifilter_count(void);

#endif
