/*
 * Exponential backoff with full jitter above a floor: after the k-th
 * consecutive failure the next attempt waits a uniformly random time in
 * [min_ms, min(max_ms, min_ms * 2^(k-1))].  The floor keeps a client that
 * is backing off at no more than one attempt per min_ms; the jitter keeps
 * many bots that lost the same backend from retrying in lockstep.
 */
#ifndef BOT_BACKOFF_H
#define BOT_BACKOFF_H

#include <stdint.h>

struct backoff {
	int64_t min_ms;
	int64_t max_ms;
	unsigned failures; /* consecutive failures so far */
	uint64_t rng;      /* xorshift64* state, never 0 */
};

/* Prepares b (caller-owned) for delays in [min_ms, max_ms]; max_ms is
 * raised to min_ms when smaller.  seed 0 picks one from the clock and pid. */
void backoff_init(
    struct backoff *b, int64_t min_ms, int64_t max_ms, uint64_t seed);

/* Counts one more failure and returns the delay before the next attempt. */
int64_t backoff_next(struct backoff *b);

/* The upper end of the delay range after `failures` failures (>= 1). */
int64_t backoff_ceiling(const struct backoff *b, unsigned failures);

/* Forgets the failures after a success. */
void backoff_reset(struct backoff *b);

#endif
