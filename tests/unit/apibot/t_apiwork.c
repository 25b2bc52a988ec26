/*
 * Unit tests for the filter workers on a real loop: results come back on
 * the loop thread, and a filter that never ends is halted at its deadline
 * while another worker keeps serving (the loop never waits on it).
 */
#include <stdlib.h>
#include <string.h>

#include "../../../apibot/apiwork.h"
#include "../t.h"
#include "loop.h"
#include "timer.h"

struct t_work {
	struct loop *l;
	struct apiwork_task *done[4];
	int64_t done_ms[4];
	int n;
	int want;
};

static void
t_work_done(struct apiwork_task *t, int cancelled)
{
	struct t_work *w = t->arg;

	if (cancelled) {
		apiwork_task_free(t);
		return;
	}
	w->done_ms[w->n] = timer_now_ms();
	w->done[w->n++] = t;
	if (w->n == w->want)
		loop_break(w->l);
}

static void
t_work_guard(struct timer *tm, void *arg)
{
	(void)tm;
	loop_break(arg);
}

T_TEST(apiwork_halts_a_runaway_filter_and_keeps_serving)
{
	struct t_work w;
	struct apifilter *f[2];
	struct apiwork *pool;
	struct timer guard;
	char err[128];
	int64_t t0;
	int i;

	memset(&w, 0, sizeof(w));
	w.l = loop_new();
	pool = apiwork_new(w.l, 2, 300);
	T_ASSERT(pool != NULL);
	f[0] = apifilter_get("last(repeat(.))", err, sizeof(err));
	f[1] = apifilter_get(".a", err, sizeof(err));
	T_ASSERT(f[0] != NULL && f[1] != NULL);
	t0 = timer_now_ms();
	/* Task 1 runs away; task 2 (on the other worker) answers at once. */
	apiwork_submit(
	    pool, apiwork_task_new("{\"a\": 1}", 8, f, 2, t_work_done, &w));
	apiwork_submit(
	    pool, apiwork_task_new("{\"a\": 2}", 8, f + 1, 1, t_work_done, &w));
	w.want = 2;
	timer_init(&guard, t_work_guard, w.l);
	loop_timer_start(w.l, &guard, 20000);
	T_EQ_INT(loop_run(w.l), 0);
	loop_timer_stop(w.l, &guard);
	T_EQ_INT(w.n, 2);
	/* The quick one came first, the runaway one after its deadline. */
	T_EQ_INT(w.done[0]->n_filters, 1);
	T_EQ_DBL(w.done[0]->results[0].items[0].v, 2, 0);
	T_EQ_INT(w.done[1]->results[0].runaway, 1);
	T_ASSERT(strstr(w.done[1]->results[0].msg, "deadline") != NULL);
	T_ASSERT(w.done_ms[1] - t0 >= 300);
	/* The rest of the halted task still ran. */
	T_EQ_INT(w.done[1]->results[1].n, 1);
	T_EQ_DBL(w.done[1]->results[1].items[0].v, 1, 0);
	for (i = 0; i < 2; i++)
		apiwork_task_free(w.done[i]);

	/* A halted filter runs normally next time. */
	w.n = 0;
	w.want = 1;
	apiwork_submit(
	    pool, apiwork_task_new("[1, 2]", 6, f, 1, t_work_done, &w));
	loop_timer_start(w.l, &guard, 20000);
	T_EQ_INT(loop_run(w.l), 0);
	loop_timer_stop(w.l, &guard);
	T_EQ_INT(w.n, 1);
	T_EQ_INT(w.done[0]->results[0].runaway, 1); /* still endless */
	apiwork_task_free(w.done[0]);

	apiwork_free(pool);
	apifilter_put(f[0]);
	apifilter_put(f[1]);
	T_EQ_INT(apifilter_count(), 0);
	loop_free(w.l);
}

T_TEST(apiwork_bad_body_and_shutdown_cancels_queued)
{
	struct t_work w;
	struct apifilter *f;
	struct apiwork *pool;
	struct timer guard;
	char err[128];

	memset(&w, 0, sizeof(w));
	w.l = loop_new();
	pool = apiwork_new(w.l, 1, 5000);
	f = apifilter_get(".", err, sizeof(err));
	apiwork_submit(
	    pool, apiwork_task_new("{\"a\":", 5, &f, 1, t_work_done, &w));
	w.want = 1;
	timer_init(&guard, t_work_guard, w.l);
	loop_timer_start(w.l, &guard, 20000);
	T_EQ_INT(loop_run(w.l), 0);
	loop_timer_stop(w.l, &guard);
	T_EQ_INT(w.n, 1);
	T_EQ_INT(w.done[0]->parse_failed, 1);
	T_ASSERT(strstr(w.done[0]->parse_err, "truncated") != NULL);
	apiwork_task_free(w.done[0]);
	/* Queued and never collected: cancelled at free (or finished, if a
	 * worker took them first), nothing leaks. */
	w.n = 0;
	apiwork_submit(pool, apiwork_task_new("1", 1, &f, 1, t_work_done, &w));
	apiwork_submit(pool, apiwork_task_new("22", 2, &f, 1, t_work_done, &w));
	/* Held for their batch until the loop runs again. */
	T_EQ_INT(apiwork_pending(pool), 2);
	T_EQ_INT(apiwork_pending_bytes(pool), 3);
	apiwork_free(pool);
	T_ASSERT(w.n <= 2);
	while (w.n > 0)
		apiwork_task_free(w.done[--w.n]);
	apifilter_put(f);
	T_EQ_INT(apifilter_count(), 0);
	loop_free(w.l);
}
