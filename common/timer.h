/*
 * Timers in a binary min-heap keyed on (deadline_ms, insertion sequence),
 * read from CLOCK_MONOTONIC.  The heap stores pointers to caller-owned
 * struct timer, which carries its own heap index (libuv's heap idea), so
 * stopping a timer is O(log n).  Tests swap the clock with timer_set_clock.
 */
#ifndef BOT_TIMER_H
#define BOT_TIMER_H

#include <stddef.h>
#include <stdint.h>

struct timer;
typedef void timer_cb(struct timer *t, void *arg);

struct timer {
	int64_t deadline_ms;
	uint64_t seq;
	size_t heap_index; /* SIZE_MAX when not armed */
	timer_cb *cb;
	void *arg;
};

struct timer_heap {
	struct timer **items;
	size_t len;
	size_t cap;
	uint64_t next_seq;
};

/* Monotonic milliseconds (or the injected clock). */
int64_t timer_now_ms(void);
/* Replaces the clock; NULL restores CLOCK_MONOTONIC.  For tests. */
void timer_set_clock(int64_t (*now_ms)(void));

/* Wall-clock seconds with microseconds, for value timestamps only. */
double timer_wall_s(void);
void timer_set_wall_clock(double (*now_s)(void));

/* Prepares a caller-owned timer; cb and arg are borrowed. */
void timer_init(struct timer *t, timer_cb *cb, void *arg);
int timer_armed(const struct timer *t);

void timer_heap_init(struct timer_heap *h);
void timer_heap_release(struct timer_heap *h);

/* Arms t at deadline_ms (re-arming moves it). */
void timer_heap_add(struct timer_heap *h, struct timer *t, int64_t deadline_ms);
/* Disarms t; a no-op when it is not armed. */
void timer_heap_remove(struct timer_heap *h, struct timer *t);
/* The earliest armed timer, or NULL. */
struct timer *timer_heap_peek(const struct timer_heap *h);
/* Fires, in deadline order, every timer due at now_ms that was armed
 * before this call (timers a callback arms wait for the next call, even
 * when due); a callback may re-arm or remove any timer.  Returns how many
 * fired. */
size_t timer_heap_run(struct timer_heap *h, int64_t now_ms);

#endif
