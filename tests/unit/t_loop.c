/*
 * Unit tests for loop.c with real time, a pipe and real signals: timers
 * fire in deadline order and a stopped one never fires, a watched fd
 * calls back until unwatched (also from inside a callback), SIGHUP and
 * SIGTERM reach their handlers on the loop thread, and loop_free gives
 * the signals their default action back.  With a timer slack, timers
 * due close together fire on one wake-up.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "t.h"
#include "t_srv.h"
#include "timer.h"

struct rec {
	struct loop *l;
	int order[8];
	int n;
	int stop_after;
};

struct tagged {
	struct timer t;
	struct rec *r;
	int tag;
};

static void
on_tagged(struct timer *t, void *arg)
{
	struct tagged *x = arg;

	(void)t;
	x->r->order[x->r->n++] = x->tag;
	if (x->r->n == x->r->stop_after)
		loop_break(x->r->l);
}

T_TEST(loop_timers_fire_in_deadline_order)
{
	struct rec r = {.stop_after = 3};
	struct tagged x[4];
	static const int delay[] = {30, 10, 20, 15};
	struct timer guard;
	int i;

	r.l = loop_new();
	for (i = 0; i < 4; i++) {
		x[i].r = &r;
		x[i].tag = delay[i];
		timer_init(&x[i].t, on_tagged, &x[i]);
		loop_timer_start(r.l, &x[i].t, delay[i]);
	}
	loop_timer_stop(r.l, &x[3].t); /* 15 never fires */
	timer_init(&guard, t_srv_break_loop, r.l);
	loop_timer_start(r.l, &guard, 5000);
	T_EQ_INT(loop_run(r.l), 0);
	T_EQ_INT(r.n, 3);
	T_EQ_INT(r.order[0], 10);
	T_EQ_INT(r.order[1], 20);
	T_EQ_INT(r.order[2], 30);
	loop_free(r.l);
}

struct slacked {
	struct timer t;
	struct loop *l;
	int64_t fired_ms;
	int *left;
};

static void
on_slacked(struct timer *t, void *arg)
{
	struct slacked *x = arg;

	(void)t;
	x->fired_ms = timer_now_ms();
	if (--*x->left == 0)
		loop_break(x->l);
}

T_TEST(loop_timer_slack_groups_timers_on_one_wake_up)
{
	struct loop *l = loop_new();
	struct slacked x[3];
	static const int delay[] = {10, 60, 150};
	struct timer guard;
	int64_t t0;
	int i, left = 3;

	/* Asleep until 10 + 200 ms: by then all three are due. */
	loop_set_timer_slack(l, 200);
	t0 = timer_now_ms();
	for (i = 0; i < 3; i++) {
		x[i].l = l;
		x[i].left = &left;
		timer_init(&x[i].t, on_slacked, &x[i]);
		loop_timer_start(l, &x[i].t, delay[i]);
	}
	timer_init(&guard, t_srv_break_loop, l);
	loop_timer_start(l, &guard, 5000);
	T_EQ_INT(loop_run(l), 0);
	T_EQ_INT(left, 0);
	T_ASSERT(x[0].fired_ms - t0 >= 150);
	/* Without the slack they would fire 140 ms apart. */
	T_ASSERT(x[2].fired_ms - x[0].fired_ms <= 40);
	loop_free(l);
}

struct piper {
	struct loop *l;
	int fds[2], other[2];
	int calls, other_calls;
};

static void
on_other(int fd, int revents, void *arg)
{
	struct piper *p = arg;
	char c;

	(void)revents;
	(void)!read(fd, &c, 1);
	p->other_calls++;
}

static void
on_readable(int fd, int revents, void *arg)
{
	struct piper *p = arg;
	char c;

	T_ASSERT(revents & POLLIN);
	(void)!read(fd, &c, 1);
	p->calls++;
	/* Changing the watchers from a callback is allowed: the other
	 * fd, readable in this same pass, must not be called any more. */
	loop_unwatch(p->l, p->other[0]);
	loop_unwatch(p->l, fd);
	loop_break(p->l);
}

T_TEST(loop_fd_watcher_until_unwatched)
{
	struct piper p;
	struct timer guard;

	memset(&p, 0, sizeof(p));
	p.l = loop_new();
	T_ASSERT(pipe(p.fds) == 0 && pipe(p.other) == 0);
	loop_watch(p.l, p.fds[0], POLLIN, on_readable, &p);
	loop_watch(p.l, p.other[0], POLLIN, on_other, &p);
	T_EQ_INT(write(p.fds[1], "xy", 2), 2);
	T_EQ_INT(write(p.other[1], "z", 1), 1);
	timer_init(&guard, t_srv_break_loop, p.l);
	loop_timer_start(p.l, &guard, 5000);
	T_EQ_INT(loop_run(p.l), 0);
	T_EQ_INT(p.calls, 1);
	/* Unwatched: one byte still waits, yet nothing more is called. */
	loop_timer_start(p.l, &guard, 50);
	T_EQ_INT(loop_run(p.l), 0);
	T_EQ_INT(p.calls, 1);
	T_EQ_INT(p.other_calls, 0);
	close(p.fds[0]);
	close(p.fds[1]);
	close(p.other[0]);
	close(p.other[1]);
	loop_free(p.l);
}

struct sigrec {
	struct loop *l;
	int hup, stop, stop_signo;
	pthread_t thread;
};

static void
on_hup(int signo, void *arg)
{
	struct sigrec *s = arg;

	(void)signo;
	s->hup++;
	s->thread = pthread_self();
	raise(SIGTERM);
}

static void
on_stop(int signo, void *arg)
{
	struct sigrec *s = arg;

	s->stop++;
	s->stop_signo = signo;
	loop_break(s->l);
}

T_TEST(loop_signals_reach_the_loop_thread)
{
	struct sigrec s;
	struct sigaction sa;
	struct timer guard;

	memset(&s, 0, sizeof(s));
	s.l = loop_new();
	loop_on_signals(s.l, on_stop, on_hup, &s);
	timer_init(&guard, t_srv_break_loop, s.l);
	loop_timer_start(s.l, &guard, 5000);
	raise(SIGHUP);
	T_EQ_INT(loop_run(s.l), 0);
	T_EQ_INT(s.hup, 1);
	T_ASSERT(pthread_equal(s.thread, pthread_self()));
	T_EQ_INT(s.stop, 1);
	T_EQ_INT(s.stop_signo, SIGTERM);
	loop_timer_stop(s.l, &guard);
	loop_free(s.l);
	T_ASSERT(sigaction(SIGTERM, NULL, &sa) == 0);
	T_ASSERT(sa.sa_handler == SIG_DFL);
	T_ASSERT(sigaction(SIGHUP, NULL, &sa) == 0);
	T_ASSERT(sa.sa_handler == SIG_DFL);
}
