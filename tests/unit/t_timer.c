/*
 * Unit tests for timer.c: heap order on (deadline, insertion sequence),
 * removal from any slot, re-arming from callbacks, and the rule that a
 * run never fires timers armed while it runs.
 */
#include <stdint.h>
#include <stdlib.h>

#include "t.h"
#include "timer.h"

#define NTIMERS 1000

/* What fired, in order: the timer's index and its deadline and sequence
 * at the moment it fired. */
struct fired {
	size_t n;
	int idx[2 * NTIMERS];
	int64_t deadline[2 * NTIMERS];
	uint64_t seq[2 * NTIMERS];
};

static struct fired fired;
static struct timer timers[NTIMERS];
static int timer_idx[NTIMERS];

static uint64_t rng_state;

/* A fixed-seed xorshift so that failures reproduce. */
static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
record_cb(struct timer *t, void *arg)
{
	if (fired.n < sizeof(fired.idx) / sizeof(fired.idx[0])) {
		fired.idx[fired.n] = *(int *)arg;
		fired.deadline[fired.n] = t->deadline_ms;
		fired.seq[fired.n] = t->seq;
	}
	fired.n++;
}

static void
setup(timer_cb *cb)
{
	size_t i;

	memset(&fired, 0, sizeof(fired));
	for (i = 0; i < NTIMERS; i++) {
		timer_idx[i] = (int)i;
		timer_init(&timers[i], cb, &timer_idx[i]);
	}
}

/* Checks the heap property and every timer's remembered slot. */
static int
heap_ok(const struct timer_heap *h)
{
	size_t i;

	for (i = 0; i < h->len; i++) {
		const struct timer *t = h->items[i], *p;

		if (t->heap_index != i)
			return 0;
		if (i == 0)
			continue;
		p = h->items[(i - 1) / 2];
		if (p->deadline_ms > t->deadline_ms ||
		    (p->deadline_ms == t->deadline_ms && p->seq > t->seq))
			return 0;
	}
	return 1;
}

T_TEST(timer_init_unarmed)
{
	struct timer t;

	timer_init(&t, record_cb, NULL);
	T_ASSERT(!timer_armed(&t));
	T_EQ_INT(t.heap_index == SIZE_MAX, 1);
}

T_TEST(timer_heap_orders_1000_random_deadlines)
{
	struct timer_heap h;
	size_t i;

	setup(record_cb);
	rng_state = 0x2545f4914f6cdd1dULL;
	timer_heap_init(&h);
	for (i = 0; i < NTIMERS; i++) {
		/* A narrow range so that many deadlines are equal. */
		timer_heap_add(&h, &timers[i], (int64_t)(rng() % 300));
		T_ASSERT(timer_armed(&timers[i]));
	}
	T_EQ_INT(h.len, NTIMERS);
	T_ASSERT(heap_ok(&h));
	T_EQ_INT(timer_heap_peek(&h)->deadline_ms, 0);

	T_EQ_INT(timer_heap_run(&h, INT64_MAX), NTIMERS);
	T_EQ_INT(fired.n, NTIMERS);
	T_EQ_INT(h.len, 0);
	T_ASSERT(timer_heap_peek(&h) == NULL);
	for (i = 1; i < NTIMERS; i++) {
		T_ASSERT(fired.deadline[i - 1] <= fired.deadline[i]);
		/* Equal deadlines fire in the order they were armed. */
		if (fired.deadline[i - 1] == fired.deadline[i])
			T_ASSERT(fired.idx[i - 1] < fired.idx[i]);
	}
	for (i = 0; i < NTIMERS; i++)
		T_ASSERT(!timer_armed(&timers[i]));
	timer_heap_release(&h);
}

T_TEST(timer_heap_run_stops_at_now)
{
	struct timer_heap h;
	size_t i, total = 0;
	int64_t now;

	setup(record_cb);
	rng_state = 0x9e3779b97f4a7c15ULL;
	timer_heap_init(&h);
	for (i = 0; i < NTIMERS; i++)
		timer_heap_add(&h, &timers[i], (int64_t)(rng() % 100000));
	for (now = 0; now < 100000; now += 1000) {
		size_t before = fired.n, k;

		total += timer_heap_run(&h, now);
		for (k = before; k < fired.n; k++)
			T_ASSERT(fired.deadline[k] <= now);
		if (timer_heap_peek(&h) != NULL)
			T_ASSERT(timer_heap_peek(&h)->deadline_ms > now);
		T_ASSERT(heap_ok(&h));
	}
	total += timer_heap_run(&h, 100000);
	T_EQ_INT(total, NTIMERS);
	T_EQ_INT(fired.n, NTIMERS);
	timer_heap_release(&h);
}

T_TEST(timer_equal_deadlines_fire_in_insertion_order)
{
	struct timer_heap h;
	int i;

	setup(record_cb);
	timer_heap_init(&h);
	for (i = 0; i < 50; i++)
		timer_heap_add(&h, &timers[i], 100);
	/* Re-arming at the same deadline moves a timer behind the others. */
	timer_heap_add(&h, &timers[3], 100);
	T_EQ_INT(h.len, 50);
	T_EQ_INT(timer_heap_run(&h, 99), 0);
	T_EQ_INT(timer_heap_run(&h, 100), 50);
	for (i = 0; i < 49; i++)
		T_EQ_INT(fired.idx[i], i < 3 ? i : i + 1);
	T_EQ_INT(fired.idx[49], 3);
	timer_heap_release(&h);
}

T_TEST(timer_remove_from_middle)
{
	struct timer_heap h;
	size_t i, k;

	setup(record_cb);
	rng_state = 0x1234567887654321ULL;
	timer_heap_init(&h);
	for (i = 0; i < NTIMERS; i++)
		timer_heap_add(&h, &timers[i], (int64_t)(rng() % 5000));
	/* Remove every third timer wherever it sits in the heap. */
	for (i = 0; i < NTIMERS; i += 3) {
		timer_heap_remove(&h, &timers[i]);
		T_ASSERT(!timer_armed(&timers[i]));
		T_ASSERT(heap_ok(&h));
	}
	/* Removing an unarmed timer is a no-op. */
	timer_heap_remove(&h, &timers[0]);
	T_EQ_INT(h.len, NTIMERS - (NTIMERS + 2) / 3);
	T_ASSERT(heap_ok(&h));
	T_EQ_INT(timer_heap_run(&h, INT64_MAX), NTIMERS - (NTIMERS + 2) / 3);
	for (k = 0; k < fired.n; k++) {
		T_ASSERT(fired.idx[k] % 3 != 0);
		if (k > 0)
			T_ASSERT(fired.deadline[k - 1] <= fired.deadline[k]);
	}
	timer_heap_release(&h);
}

T_TEST(timer_remove_root_and_last)
{
	struct timer_heap h;

	setup(record_cb);
	timer_heap_init(&h);
	timer_heap_add(&h, &timers[0], 10);
	timer_heap_add(&h, &timers[1], 20);
	timer_heap_add(&h, &timers[2], 30);
	timer_heap_remove(&h, &timers[0]);
	T_ASSERT(timer_heap_peek(&h) == &timers[1]);
	timer_heap_remove(&h, &timers[2]);
	T_EQ_INT(h.len, 1);
	T_ASSERT(heap_ok(&h));
	timer_heap_remove(&h, &timers[1]);
	T_EQ_INT(h.len, 0);
	T_ASSERT(timer_heap_peek(&h) == NULL);
	T_EQ_INT(timer_heap_run(&h, INT64_MAX), 0);
	timer_heap_release(&h);
}

T_TEST(timer_rearm_moves_deadline)
{
	struct timer_heap h;

	setup(record_cb);
	timer_heap_init(&h);
	timer_heap_add(&h, &timers[0], 10);
	timer_heap_add(&h, &timers[1], 20);
	timer_heap_add(&h, &timers[0], 30);
	T_EQ_INT(h.len, 2);
	T_ASSERT(timer_heap_peek(&h) == &timers[1]);
	T_EQ_INT(timer_heap_run(&h, 25), 1);
	T_EQ_INT(fired.idx[0], 1);
	T_EQ_INT(timer_heap_run(&h, 30), 1);
	T_EQ_INT(fired.idx[1], 0);
	timer_heap_release(&h);
}

static struct timer_heap cb_heap;
static int rearm_left;

/* Re-arms itself 10 ms later while rearm_left lasts. */
static void
rearm_cb(struct timer *t, void *arg)
{
	record_cb(t, arg);
	if (rearm_left-- > 0)
		timer_heap_add(&cb_heap, t, t->deadline_ms + 10);
}

T_TEST(timer_rearm_inside_callback)
{
	setup(rearm_cb);
	timer_heap_init(&cb_heap);
	rearm_left = 3;
	timer_heap_add(&cb_heap, &timers[0], 100);
	T_EQ_INT(timer_heap_run(&cb_heap, 100), 1);
	T_ASSERT(timer_armed(&timers[0]));
	T_EQ_INT(timers[0].deadline_ms, 110);
	/* A late run fires the re-armed timer once per call, never in a
	 * burst. */
	T_EQ_INT(timer_heap_run(&cb_heap, 1000), 1);
	T_EQ_INT(timers[0].deadline_ms, 120);
	T_EQ_INT(timer_heap_run(&cb_heap, 1000), 1);
	T_EQ_INT(timer_heap_run(&cb_heap, 1000), 1);
	T_ASSERT(!timer_armed(&timers[0]));
	T_EQ_INT(timer_heap_run(&cb_heap, 1000), 0);
	T_EQ_INT(fired.n, 4);
	timer_heap_release(&cb_heap);
}

/* Arms timers[1] at an already due deadline and removes timers[2]. */
static void
arm_other_cb(struct timer *t, void *arg)
{
	record_cb(t, arg);
	if (t == &timers[0]) {
		timer_heap_add(&cb_heap, &timers[1], 100);
		timer_heap_remove(&cb_heap, &timers[2]);
	}
}

T_TEST(timer_run_skips_timers_armed_during_run)
{
	setup(arm_other_cb);
	timer_heap_init(&cb_heap);
	timer_heap_add(&cb_heap, &timers[0], 100);
	timer_heap_add(&cb_heap, &timers[2], 100);
	timer_heap_add(&cb_heap, &timers[3], 100);
	/* timers[1] is due at once but armed by the run: it waits, and the
	 * removed timers[2] never fires. */
	T_EQ_INT(timer_heap_run(&cb_heap, 200), 2);
	T_EQ_INT(fired.idx[0], 0);
	T_EQ_INT(fired.idx[1], 3);
	T_ASSERT(timer_armed(&timers[1]));
	T_ASSERT(!timer_armed(&timers[2]));
	T_EQ_INT(timer_heap_run(&cb_heap, 200), 1);
	T_EQ_INT(fired.idx[2], 1);
	T_EQ_INT(fired.n, 3);
	timer_heap_release(&cb_heap);
}

/* Re-arms itself at the same, already due, deadline (a bounded number
 * of times, so that a heap that does spin fails instead of hanging). */
static void
zero_delay_cb(struct timer *t, void *arg)
{
	record_cb(t, arg);
	if (fired.n < 100)
		timer_heap_add(&cb_heap, t, t->deadline_ms);
}

T_TEST(timer_zero_delay_rearm_does_not_spin)
{
	setup(zero_delay_cb);
	timer_heap_init(&cb_heap);
	timer_heap_add(&cb_heap, &timers[0], 5);
	timer_heap_add(&cb_heap, &timers[1], 5);
	T_EQ_INT(timer_heap_run(&cb_heap, 5), 2);
	T_EQ_INT(timer_heap_run(&cb_heap, 5), 2);
	T_EQ_INT(fired.n, 4);
	T_EQ_INT(fired.idx[2], 0);
	T_EQ_INT(fired.idx[3], 1);
	timer_heap_release(&cb_heap);
}

T_TEST(timer_release_disarms)
{
	struct timer_heap h;
	int i;

	setup(record_cb);
	timer_heap_init(&h);
	for (i = 0; i < 100; i++)
		timer_heap_add(&h, &timers[i], i);
	timer_heap_release(&h);
	for (i = 0; i < 100; i++)
		T_ASSERT(!timer_armed(&timers[i]));
	T_EQ_INT(h.len, 0);
	T_ASSERT(h.items == NULL);
}

static int64_t fake_ms;

static int64_t
fake_clock(void)
{
	return fake_ms;
}

static double
fake_wall(void)
{
	return 1700000000.5;
}

T_TEST(timer_clock_injection)
{
	int64_t a, b;

	fake_ms = 123456;
	timer_set_clock(fake_clock);
	T_EQ_INT(timer_now_ms(), 123456);
	fake_ms += 5;
	T_EQ_INT(timer_now_ms(), 123461);
	timer_set_clock(NULL);
	a = timer_now_ms();
	b = timer_now_ms();
	T_ASSERT(a > 0);
	T_ASSERT(b >= a);

	timer_set_wall_clock(fake_wall);
	T_EQ_DBL(timer_wall_s(), 1700000000.5, 1e-9);
	timer_set_wall_clock(NULL);
	T_ASSERT(timer_wall_s() > 1500000000.0);
}
