/*
 * The sender's value buffer: one FIFO queue per account, oldest first,
 * plus the accounting of every value accepted and not yet finished, which
 * covers values taken out of the queues for a request or a bisection too.
 * The buffer is bounded in values, bytes and age; the oldest queued values
 * are dropped first, and every drop is counted by reason.  With a spool,
 * finished values are released from it.
 */
#ifndef BOT_SENDQ_H
#define BOT_SENDQ_H

#include <stddef.h>
#include <stdint.h>

#include "values.h"

struct spool;
struct sendq;

/* Why values were given up on. */
enum sendq_drop {
	SENDQ_DROP_FULL,    /* buffer over its byte/count bound */
	SENDQ_DROP_OLD,     /* buffered longer than max_age_ms */
	SENDQ_DROP_REFUSED, /* refused by the backend, or unusable */
	SENDQ_DROP_STALE,   /* too old to be sent with POST */
};

struct sendq_drops {
	uint64_t total;
	uint64_t full;
	uint64_t old;
	uint64_t refused;
	uint64_t stale;
};

/* A buffer bounded to max_values values and max_bytes bytes (0: no
 * bound) and max_age_ms milliseconds in the queue (<= 0: no bound).
 * Returns a new buffer owned by the caller. */
struct sendq *sendq_new(
    size_t max_values, size_t max_bytes, int64_t max_age_ms);

/* Frees the queued values, not those taken out.  Nothing is released from
 * the spool: undelivered values stay there.  NULL is a no-op. */
void sendq_free(struct sendq *q);

/* Finished values are released from sp (borrowed, may be NULL) from now
 * on. */
void sendq_set_spool(struct sendq *q, struct spool *sp);

/* The index of the account's queue, created empty if missing.  Accounts
 * are never removed: indexes run from 0 to sendq_accounts() - 1 and stay
 * valid for the buffer's life. */
size_t sendq_index(struct sendq *q, int64_t account_id);
size_t sendq_accounts(const struct sendq *q);
int64_t sendq_account_id(const struct sendq *q, size_t i);
/* Values waiting in queue i. */
size_t sendq_len(const struct sendq *q, size_t i);

/* Queues a new value last in queue i and counts it in the buffer.  The
 * item (and its path) moves into the queue. */
void sendq_push(struct sendq *q, size_t i, const struct value *it);

/* The oldest value of queue i (borrowed, valid until the queue changes),
 * or NULL when it is empty. */
const struct value *sendq_head(const struct sendq *q, size_t i);

/* Takes the oldest value out of non-empty queue i into *out (the caller
 * owns its path now).  It still counts in the buffer until it is passed to
 * sendq_done or sendq_drop, or put back with sendq_unshift. */
void sendq_pop(struct sendq *q, size_t i, struct value *out);

/* Puts n values taken out before back at the front of queue i, in their
 * order.  The items move into the queue; the array stays the caller's. */
void sendq_unshift(
    struct sendq *q, size_t i, const struct value *items, size_t n);

/* Values taken out leave the buffer: delivered (done) or given up on
 * (drop, counted by why).  Frees their paths and sets them to NULL; the
 * array stays the caller's. */
void sendq_done(struct sendq *q, struct value *items, size_t n);
void sendq_drop(
    struct sendq *q, struct value *items, size_t n, enum sendq_drop why);

/* Drops the oldest queued values while the buffer is over its value or
 * byte bound, and warns (rate-limited).  Values taken out cannot be
 * dropped.  Returns how many were dropped. */
size_t sendq_enforce_limits(struct sendq *q);

/* Drops queued values older than the age bound at monotonic time now_ms
 * and warns (rate-limited).  Returns how many were dropped. */
size_t sendq_expire(struct sendq *q, int64_t now_ms);

/* Values and bytes in the buffer: queued or taken out. */
size_t sendq_values(const struct sendq *q);
size_t sendq_bytes(const struct sendq *q);
/* Copies the drop counters to *d (caller-owned). */
void sendq_get_drops(const struct sendq *q, struct sendq_drops *d);

/* Frees n items' paths and the array, outside any accounting (teardown of
 * values taken out).  NULL is a no-op. */
void sendq_items_free(struct value *items, size_t n);

#endif
