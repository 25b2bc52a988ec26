/*
 * Exponential backoff with jitter (the "full jitter" of the AWS
 * architecture note, with a floor).  The delay doubles with each
 * consecutive failure up to a cap and is drawn uniformly below it, so the
 * expected wait is about half the cap, while the floor bounds the attempt
 * rate.  The generator is a small xorshift64*: jitter needs spread, not
 * secrecy, and a seed makes unit tests repeatable.
 */
#include "backoff.h"

#include <time.h>
#include <unistd.h>

/* splitmix64: turns any seed, even 0 or a small counter, into a good
 * non-zero state. */
static uint64_t
backoff_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x != 0 ? x : 0x2545f4914f6cdd1dULL;
}

static uint64_t
backoff_random(struct backoff *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545f4914f6cdd1dULL;
}

void
backoff_init(struct backoff *b, int64_t min_ms, int64_t max_ms, uint64_t seed)
{
	struct timespec ts;

	if (min_ms < 1)
		min_ms = 1;
	if (max_ms < min_ms)
		max_ms = min_ms;
	b->min_ms = min_ms;
	b->max_ms = max_ms;
	b->failures = 0;
	if (seed == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
		    ((uint64_t)getpid() << 40);
	}
	b->rng = backoff_mix(seed);
}

int64_t
backoff_ceiling(const struct backoff *b, unsigned failures)
{
	int64_t c = b->min_ms;
	unsigned i;

	/* Doubling stops at the cap, so this cannot overflow. */
	for (i = 1; i < failures && c < b->max_ms; i++)
		c *= 2;
	return c < b->max_ms ? c : b->max_ms;
}

int64_t
backoff_next(struct backoff *b)
{
	int64_t hi;
	uint64_t span;

	if (b->failures < 1000)
		b->failures++;
	hi = backoff_ceiling(b, b->failures);
	span = (uint64_t)(hi - b->min_ms) + 1;
	return b->min_ms + (int64_t)(backoff_random(b) % span);
}

void
backoff_reset(struct backoff *b)
{
	b->failures = 0;
}
