/*
 * Timer heap microbenchmark (libuv's benchmark-million-timers): arm a
 * million timers with random deadlines, then fire them all in order.
 * Prints one line: timers, ns per add, ns per fire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "timer.h"
#include "xmalloc.h"

#define N 1000000

static size_t bench_fired;

static void
bench_cb(struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
	bench_fired++;
}

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(void)
{
	struct timer_heap h;
	struct timer *timers;
	double t0, t1, t2;
	uint64_t x = 88172645463325252ULL;
	size_t i;

	timers = xcalloc(N, sizeof(*timers));
	timer_heap_init(&h);
	t0 = bench_now();
	for (i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		timer_init(&timers[i], bench_cb, NULL);
		timer_heap_add(&h, &timers[i], (int64_t)(x % 3600000));
	}
	t1 = bench_now();
	timer_heap_run(&h, 3600000);
	t2 = bench_now();
	printf("timer heap: %d timers, %.0f ns/add, %.0f ns/fire, fired %zu\n",
	    N, (t1 - t0) * 1e9 / N, (t2 - t1) * 1e9 / N, bench_fired);
	timer_heap_release(&h);
	free(timers);
	return bench_fired == N ? 0 : 1;
}
