/*
 * A binary min-heap of timer pointers ordered by (deadline, sequence); the
 * sequence keeps timers with equal deadlines firing in the order they were
 * armed.  Each timer remembers its slot so removal needs no search.
 */
#include "timer.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "xmalloc.h"

static int64_t (*timer_clock)(void);
static double (*timer_wall_clock)(void);

int64_t
timer_now_ms(void)
{
	struct timespec ts;

	if (timer_clock != NULL)
		return timer_clock();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
timer_set_clock(int64_t (*now_ms)(void))
{
	timer_clock = now_ms;
}

double
timer_wall_s(void)
{
	struct timespec ts;

	if (timer_wall_clock != NULL)
		return timer_wall_clock();
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000) / 1e6;
}

void
timer_set_wall_clock(double (*now_s)(void))
{
	timer_wall_clock = now_s;
}

void
timer_init(struct timer *t, timer_cb *cb, void *arg)
{
	t->deadline_ms = 0;
	t->seq = 0;
	t->heap_index = SIZE_MAX;
	t->cb = cb;
	t->arg = arg;
}

int
timer_armed(const struct timer *t)
{
	return t->heap_index != SIZE_MAX;
}

void
timer_heap_init(struct timer_heap *h)
{
	h->items = NULL;
	h->len = 0;
	h->cap = 0;
	h->next_seq = 0;
}

void
timer_heap_release(struct timer_heap *h)
{
	size_t i;

	for (i = 0; i < h->len; i++)
		h->items[i]->heap_index = SIZE_MAX;
	free(h->items);
	timer_heap_init(h);
}

static int
timer_less(const struct timer *a, const struct timer *b)
{
	if (a->deadline_ms != b->deadline_ms)
		return a->deadline_ms < b->deadline_ms;
	return a->seq < b->seq;
}

static void
timer_place(struct timer_heap *h, size_t i, struct timer *t)
{
	h->items[i] = t;
	t->heap_index = i;
}

static void
timer_sift_up(struct timer_heap *h, size_t i)
{
	struct timer *t = h->items[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_less(t, h->items[parent]))
			break;
		timer_place(h, i, h->items[parent]);
		i = parent;
	}
	timer_place(h, i, t);
}

static void
timer_sift_down(struct timer_heap *h, size_t i)
{
	struct timer *t = h->items[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->len)
			break;
		if (child + 1 < h->len &&
		    timer_less(h->items[child + 1], h->items[child]))
			child++;
		if (!timer_less(h->items[child], t))
			break;
		timer_place(h, i, h->items[child]);
		i = child;
	}
	timer_place(h, i, t);
}

void
timer_heap_remove(struct timer_heap *h, struct timer *t)
{
	size_t i = t->heap_index;
	struct timer *last;

	if (i == SIZE_MAX || i >= h->len || h->items[i] != t)
		return;
	t->heap_index = SIZE_MAX;
	last = h->items[--h->len];
	if (i == h->len)
		return;
	timer_place(h, i, last);
	timer_sift_down(h, i);
	timer_sift_up(h, last->heap_index);
}

void
timer_heap_add(struct timer_heap *h, struct timer *t, int64_t deadline_ms)
{
	timer_heap_remove(h, t);
	if (h->len == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->items = xreallocarray(h->items, h->cap, sizeof(*h->items));
	}
	t->deadline_ms = deadline_ms;
	t->seq = h->next_seq++;
	timer_place(h, h->len++, t);
	timer_sift_up(h, t->heap_index);
}

struct timer *
timer_heap_peek(const struct timer_heap *h)
{
	return h->len > 0 ? h->items[0] : NULL;
}

size_t
timer_heap_run(struct timer_heap *h, int64_t now_ms)
{
	uint64_t limit = h->next_seq;
	size_t fired = 0;
	struct timer *t;

	/* Timers armed by the callbacks wait for the next call, even when
	 * already due, so a zero-delay re-arm cannot starve the poll. */
	while ((t = timer_heap_peek(h)) != NULL && t->deadline_ms <= now_ms &&
	    t->seq < limit) {
		timer_heap_remove(h, t);
		fired++;
		t->cb(t, t->arg);
	}
	return fired;
}
