/*
 * Filter work off the loop thread: a few worker threads take tasks (one
 * answer's body and the filters to run on it), parse the body once, run
 * each filter and hand the task back to the loop thread.  A watchdog
 * timer on the loop halts a filter still running after the deadline, so
 * the loop never waits on a filter.
 */
#ifndef BOT_APIWORK_H
#define BOT_APIWORK_H

#include <stddef.h>
#include <stdint.h>

#include "apifilter.h"

struct loop;
struct apiwork;
struct apiwork_task;

/* Called on the loop thread when the task is done (or, with cancelled
 * set, dropped at apiwork_free); the callee frees it with
 * apiwork_task_free. */
typedef void apiwork_done_fn(struct apiwork_task *t, int cancelled);

struct apiwork_task {
	/* Set by apiwork_task_new. */
	char *body; /* owned copy */
	size_t body_len;
	struct apifilter **filters; /* one reference each */
	size_t n_filters;
	apiwork_done_fn *done;
	void *arg;

	/* Set by the worker. */
	int parse_failed;
	char parse_err[APIFILTER_MSGLEN];
	struct apifilter_result *results; /* n_filters of them */

	/* Private. */
	size_t cur; /* filter running, n_filters when none */
	int64_t cur_start_ms;
	struct apiwork_task *next;
};

/* Starts n_threads workers (1..16) on loop l; a filter still running
 * deadline_ms after it started is halted.  NULL when threads cannot be
 * started (logged). */
struct apiwork *apiwork_new(struct loop *l, int n_threads, int64_t deadline_ms);
/* Tasks submitted within ms of the first one waiting go to the workers
 * together (default 0: those of one loop iteration). */
void apiwork_set_batch_ms(struct apiwork *w, int64_t ms);
/* Stops the workers (waiting for the filters under way, which the
 * watchdog can no longer halt: call it when none runs away) and calls
 * done(t, 1) for every task not finished.  NULL is a no-op. */
void apiwork_free(struct apiwork *w);

/* A task on a copy of body[0..len) running filters f[0..n) (each takes
 * a reference). */
struct apiwork_task *apiwork_task_new(const char *body, size_t len,
    struct apifilter *const *f, size_t n, apiwork_done_fn *done, void *arg);
void apiwork_task_free(struct apiwork_task *t);

/* Queues t (handed to the workers with its batch); done runs later on the
 * loop thread, never from here. */
void apiwork_submit(struct apiwork *w, struct apiwork_task *t);
/* Tasks queued or running, and the bytes of their bodies (callers bound
 * the memory held for filters with it). */
size_t apiwork_pending(const struct apiwork *w);
size_t apiwork_pending_bytes(const struct apiwork *w);

#endif
