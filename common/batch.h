/*
 * Request bodies for the values API: a JSON array of {"p", "v", "t"}
 * objects (PUT, which the backend upserts on (path, t)) or of {"p", "v"}
 * (POST, stamped on arrival).  batch_take fills one request from the head
 * of an account's queue without repeating a (path, t) (or, for POST, a
 * path) and within a value and byte bound.
 */
#ifndef BOT_BATCH_H
#define BOT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"
#include "buf.h"
#include "log.h"
#include "sendq.h"

struct batch_spec {
	size_t max_values;           /* values per request, >= 1 */
	size_t max_bytes;            /* body size */
	int post;                    /* POST: no "t", one value per path */
	double wall_s;               /* now on the wall clock, for POST */
	int64_t post_max_age_ms;     /* POST: older values are dropped */
	struct log_limit *big_limit; /* borrowed: rate limit of the warning
	                                about a value too big for a request */
};

/* Appends the JSON array of items[0..n) to out (made with buf_init_text),
 * with "t" when with_t.  Items are borrowed. */
void batch_encode(
    const struct value *items, size_t n, int with_t, struct buf *out);

/* Takes values from the head of queue i of q for one request, oldest
 * first, and appends their JSON array to body (caller-owned, empty).  It
 * stops before a value that repeats one already taken, before the body
 * would exceed spec->max_bytes, or at spec->max_values.  On the way it
 * drops (through q) a value too big for any request, with a warning, and
 * for POST the values too old for it, counted in *n_stale.  Returns the
 * number of values taken; *items is then a new array of them, owned by the
 * caller, or NULL when none was taken.  body is made with buf_init_text. */
size_t batch_take(struct sendq *q, size_t i, const struct batch_spec *spec,
    struct buf *body, struct value **items, size_t *n_stale);

#endif
