/*
 * An extraction's mode: "value" posts what the filter yielded, "delta"
 * the change since the previous poll and "rate" that change per second
 * between the times the two answers arrived.  A key seen for the first
 * time, or whose counter went down, gives nothing for that poll.
 */
#ifndef BOT_APIMODE_H
#define BOT_APIMODE_H

#include <stddef.h>

#include "apifilter.h"
#include "attrs.h"

enum apimode {
	APIMODE_VALUE = 0,
	APIMODE_DELTA,
	APIMODE_RATE,
};

struct apimode_prev {
	char *key;
	double v;
};

/* The previous poll's values of one extraction; zero-initialise it. */
struct apimode_state {
	struct apimode_prev *prev; /* sorted by key */
	size_t n;
	double t; /* when the previous answer arrived (Unix seconds) */
};

typedef void apimode_emit_fn(void *arg, const char *key, double v);

/* Parses "value", "delta" or "rate".  0, or -1 for anything else. */
int apimode_parse(const char *s, enum apimode *m) BOT_WUR;
const char *apimode_name(enum apimode m);

/* Sorts items[0..n) by key (a repeated key keeps its last value), calls
 * emit for each value the mode gives for an answer that arrived at t,
 * and remembers them for the next poll (value mode remembers nothing).
 * Returns how many values were emitted. */
size_t apimode_apply(struct apimode_state *st, enum apimode m,
    struct apifilter_item *items, size_t n, double t, apimode_emit_fn *emit,
    void *arg);

/* Forgets the previous poll (e.g. after a failed one keeps it: callers
 * decide). */
void apimode_state_release(struct apimode_state *st);

#endif
