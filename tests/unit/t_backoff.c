/*
 * Unit tests for backoff.c: the first retry waits exactly the floor, each
 * later delay stays within [floor, floor * 2^(k-1)] capped at the maximum,
 * the jitter really spreads, a seed makes it repeatable, reset starts over.
 */
#include <stdint.h>

#include "backoff.h"
#include "t.h"

T_TEST(backoff_first_delay_is_the_floor)
{
	struct backoff b;

	backoff_init(&b, 1000, 60000, 42);
	T_EQ_INT(backoff_next(&b), 1000);
	T_EQ_INT(b.failures, 1);
}

T_TEST(backoff_delays_double_up_to_the_cap)
{
	struct backoff b;
	unsigned k, seed;

	T_EQ_INT(
	    backoff_ceiling(&(struct backoff){1000, 60000, 0, 1}, 1), 1000);
	for (seed = 1; seed < 200; seed++) {
		backoff_init(&b, 1000, 60000, seed);
		for (k = 1; k <= 20; k++) {
			int64_t d = backoff_next(&b);
			int64_t hi = k >= 7 ? 60000 : 1000LL << (k - 1);

			T_EQ_INT(backoff_ceiling(&b, k), hi);
			T_ASSERT(d >= 1000);
			T_ASSERT(d <= hi);
		}
	}
}

T_TEST(backoff_jitter_spreads_and_seed_repeats)
{
	struct backoff a, b;
	int64_t lo = INT64_MAX, hi = 0, sum = 0;
	unsigned i, k;

	for (i = 0; i < 1000; i++) {
		int64_t d = 0;

		backoff_init(&a, 1000, 60000, i + 1);
		for (k = 0; k < 10; k++)
			d = backoff_next(&a); /* at the cap */
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		sum += d;
	}
	/* Uniform over [1, 60] s: both ends reached, mean near 30.5 s. */
	T_ASSERT(lo < 5000);
	T_ASSERT(hi > 55000);
	T_ASSERT(sum / 1000 > 27000 && sum / 1000 < 34000);

	backoff_init(&a, 1000, 60000, 7);
	backoff_init(&b, 1000, 60000, 7);
	for (k = 0; k < 30; k++)
		T_EQ_INT(backoff_next(&a), backoff_next(&b));
}

T_TEST(backoff_reset_and_odd_bounds)
{
	struct backoff b;
	unsigned k;

	backoff_init(&b, 1000, 8000, 3);
	for (k = 0; k < 5; k++)
		(void)backoff_next(&b);
	backoff_reset(&b);
	T_EQ_INT(backoff_next(&b), 1000);
	/* max below min is raised to min: a fixed delay. */
	backoff_init(&b, 5000, 10, 3);
	for (k = 0; k < 5; k++)
		T_EQ_INT(backoff_next(&b), 5000);
	/* Many failures never overflow. */
	backoff_init(&b, 1, INT64_MAX / 4, 9);
	for (k = 0; k < 2000; k++)
		T_ASSERT(backoff_next(&b) >= 1);
}
