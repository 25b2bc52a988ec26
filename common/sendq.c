/*
 * The bounded value buffer.  Each account has a ring of values, oldest at
 * head; the rings only grow, except that a drained backlog gives its memory
 * back.  n_values and n_bytes count every value from sendq_push until
 * sendq_done or sendq_drop, wherever it is meanwhile, so the bounds hold
 * for the whole buffer; only queued values can be dropped to meet them.
 * A value's cost is an estimate of the memory it really takes.
 */
#include "sendq.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "spool.h"
#include "xmalloc.h"

#define SENDQ_LOG_MS 60000

/* One account's values: a ring, oldest at head. */
struct sendq_ring {
	int64_t account_id;
	struct value *ring;
	size_t cap, head, len;
};

struct sendq {
	size_t max_values, max_bytes;
	int64_t max_age_ms;
	struct spool *spool;

	struct sendq_ring *rings;
	size_t n_rings;
	size_t n_values, n_bytes; /* everything buffered */
	struct sendq_drops drops;
	struct log_limit full_limit, old_limit;
};

struct sendq *
sendq_new(size_t max_values, size_t max_bytes, int64_t max_age_ms)
{
	struct sendq *q;

	q = xcalloc(1, sizeof(*q));
	q->max_values = max_values;
	q->max_bytes = max_bytes;
	q->max_age_ms = max_age_ms;
	return q;
}

void
sendq_free(struct sendq *q)
{
	size_t i, k;

	if (q == NULL)
		return;
	for (i = 0; i < q->n_rings; i++) {
		struct sendq_ring *r = &q->rings[i];

		for (k = 0; k < r->len; k++)
			free(r->ring[(r->head + k) % r->cap].path);
		free(r->ring);
	}
	free(q->rings);
	free(q);
}

void
sendq_set_spool(struct sendq *q, struct spool *sp)
{
	q->spool = sp;
}

/* --- the rings ------------------------------------------------------- */

static size_t
sendq_item_cost(const struct value *it)
{
	/* The item, its path and malloc's bookkeeping: what it really
	 * takes in memory, so the byte bound means something. */
	return sizeof(*it) + strlen(it->path) + 1 + 16;
}

static struct value *
sendq_at(const struct sendq_ring *r, size_t i)
{
	return &r->ring[(r->head + i) % r->cap];
}

static void
sendq_grow(struct sendq_ring *r)
{
	size_t ncap = r->cap ? r->cap * 2 : 64, i;
	struct value *n;

	n = xreallocarray(NULL, ncap, sizeof(*n));
	for (i = 0; i < r->len; i++)
		n[i] = *sendq_at(r, i);
	free(r->ring);
	r->ring = n;
	r->cap = ncap;
	r->head = 0;
}

static void
sendq_ring_pop(struct sendq_ring *r, struct value *out)
{
	*out = r->ring[r->head];
	r->head = (r->head + 1) % r->cap;
	r->len--;
	if (r->len == 0 && r->cap > 1024) {
		/* Give a drained backlog's memory back. */
		free(r->ring);
		r->ring = NULL;
		r->cap = 0;
		r->head = 0;
	}
}

size_t
sendq_index(struct sendq *q, int64_t account_id)
{
	size_t i;

	for (i = 0; i < q->n_rings; i++)
		if (q->rings[i].account_id == account_id)
			return i;
	q->rings = xreallocarray(q->rings, q->n_rings + 1, sizeof(*q->rings));
	memset(&q->rings[q->n_rings], 0, sizeof(*q->rings));
	q->rings[q->n_rings].account_id = account_id;
	return q->n_rings++;
}

size_t
sendq_accounts(const struct sendq *q)
{
	return q->n_rings;
}

int64_t
sendq_account_id(const struct sendq *q, size_t i)
{
	return q->rings[i].account_id;
}

size_t
sendq_len(const struct sendq *q, size_t i)
{
	return q->rings[i].len;
}

void
sendq_push(struct sendq *q, size_t i, const struct value *it)
{
	struct sendq_ring *r = &q->rings[i];

	if (r->len == r->cap)
		sendq_grow(r);
	r->ring[(r->head + r->len) % r->cap] = *it;
	r->len++;
	q->n_values++;
	q->n_bytes += sendq_item_cost(it);
}

const struct value *
sendq_head(const struct sendq *q, size_t i)
{
	const struct sendq_ring *r = &q->rings[i];

	return r->len > 0 ? sendq_at(r, 0) : NULL;
}

void
sendq_pop(struct sendq *q, size_t i, struct value *out)
{
	sendq_ring_pop(&q->rings[i], out);
}

void
sendq_unshift(struct sendq *q, size_t i, const struct value *items, size_t n)
{
	struct sendq_ring *r = &q->rings[i];
	size_t k;

	/* Last first, so that items[0] ends up at the head. */
	for (k = n; k > 0; k--) {
		if (r->len == r->cap)
			sendq_grow(r);
		r->head = (r->head + r->cap - 1) % r->cap;
		r->ring[r->head] = items[k - 1];
		r->len++;
	}
}

/* --- accounting ------------------------------------------------------ */

/* Values leave the buffer for good (delivered or dropped): release their
 * spool records, runs of consecutive records at a time, and free them. */
void
sendq_done(struct sendq *q, struct value *items, size_t n)
{
	size_t i, run = 0;
	uint32_t seg = 0, rec = 0;

	for (i = 0; i < n; i++) {
		size_t cost = sendq_item_cost(&items[i]);

		q->n_values--;
		q->n_bytes -= cost < q->n_bytes ? cost : q->n_bytes;
		if (items[i].seg != seg || items[i].rec != rec + run) {
			spool_release(q->spool, seg, rec, run);
			seg = items[i].seg;
			rec = items[i].rec;
			run = 0;
		}
		run++;
		free(items[i].path);
		items[i].path = NULL;
	}
	spool_release(q->spool, seg, rec, run);
}

void
sendq_drop(struct sendq *q, struct value *items, size_t n, enum sendq_drop why)
{
	q->drops.total += n;
	switch (why) {
	case SENDQ_DROP_FULL:
		q->drops.full += n;
		break;
	case SENDQ_DROP_OLD:
		q->drops.old += n;
		break;
	case SENDQ_DROP_REFUSED:
		q->drops.refused += n;
		break;
	case SENDQ_DROP_STALE:
		q->drops.stale += n;
		break;
	}
	sendq_done(q, items, n);
}

/* --- bounds ---------------------------------------------------------- */

static int
sendq_over_limits(const struct sendq *q)
{
	return (q->max_values > 0 && q->n_values > q->max_values) ||
	    (q->max_bytes > 0 && q->n_bytes > q->max_bytes);
}

/* Values in flight or being bisected cannot be dropped, so with a full
 * buffer a request's worth of older values may survive newer ones. */
size_t
sendq_enforce_limits(struct sendq *q)
{
	struct value it;
	size_t n = 0, i;

	while (sendq_over_limits(q)) {
		struct sendq_ring *oldest = NULL;

		for (i = 0; i < q->n_rings; i++) {
			struct sendq_ring *r = &q->rings[i];

			if (r->len > 0 &&
			    (oldest == NULL ||
			        sendq_at(r, 0)->enq_ms <
			            sendq_at(oldest, 0)->enq_ms))
				oldest = r;
		}
		if (oldest == NULL)
			break;
		sendq_ring_pop(oldest, &it);
		sendq_drop(q, &it, 1, SENDQ_DROP_FULL);
		n++;
	}
	if (n > 0)
		log_warnx_limited(&q->full_limit, SENDQ_LOG_MS,
		    "values: buffer full (%zu values, %zu bytes); the oldest "
		    "are dropped (%llu so far)",
		    q->n_values, q->n_bytes, (unsigned long long)q->drops.full);
	return n;
}

/* The rings are oldest first: only their heads need a look. */
size_t
sendq_expire(struct sendq *q, int64_t now_ms)
{
	struct value it;
	size_t i, n = 0;

	if (q->max_age_ms <= 0)
		return 0;
	for (i = 0; i < q->n_rings; i++) {
		struct sendq_ring *r = &q->rings[i];

		while (r->len > 0 &&
		    now_ms - sendq_at(r, 0)->enq_ms > q->max_age_ms) {
			sendq_ring_pop(r, &it);
			sendq_drop(q, &it, 1, SENDQ_DROP_OLD);
			n++;
		}
	}
	if (n > 0)
		log_warnx_limited(&q->old_limit, SENDQ_LOG_MS,
		    "values: %zu values buffered longer than %lld s dropped "
		    "(%llu so far)",
		    n, (long long)(q->max_age_ms / 1000),
		    (unsigned long long)q->drops.old);
	return n;
}

size_t
sendq_values(const struct sendq *q)
{
	return q->n_values;
}

size_t
sendq_bytes(const struct sendq *q)
{
	return q->n_bytes;
}

void
sendq_get_drops(const struct sendq *q, struct sendq_drops *d)
{
	*d = q->drops;
}

void
sendq_items_free(struct value *items, size_t n)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		free(items[i].path);
	free(items);
}
