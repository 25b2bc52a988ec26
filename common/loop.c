/*
 * poll(2) loop with a timer heap.  Bots watch a handful of descriptors
 * (curl sockets, an ICMP or UDP socket, a worker's pipe), so a linear array
 * is enough.  Signals reach the loop through a self-pipe: the handler only
 * sets a flag and writes one byte, and the loop calls the handlers.
 */
#include "loop.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

struct loop_watcher {
	int fd;
	int events;
	loop_fd_cb *cb;
	void *arg;
};

struct loop {
	struct loop_watcher *w;
	size_t nw, capw;
	struct pollfd *pfd;
	size_t cap_pfd;
	struct timer_heap timers;
	int running;
	int64_t slack_ms; /* loop_set_timer_slack */
	int sigpipe[2];
	loop_signal_cb *on_stop, *on_hup;
	void *sig_arg;
};

static volatile sig_atomic_t loop_got_stop, loop_got_hup;
static int loop_sig_fd = -1;

static void
loop_signal_handler(int signo)
{
	int saved = errno;
	char c = 0;

	if (signo == SIGHUP)
		loop_got_hup = 1;
	else
		loop_got_stop = signo;
	if (loop_sig_fd != -1 && write(loop_sig_fd, &c, 1) < 0) {
		/* The pipe is full: a wake-up is pending anyway. */
	}
	errno = saved;
}

volatile sig_atomic_t *
loop_stop_flag(void)
{
	return &loop_got_stop;
}

static void
loop_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		fatal("fcntl");
}

/* Sets the action of the signals the loop turns into events. */
static void
loop_set_signal_action(void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = handler;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

struct loop *
loop_new(void)
{
	struct sigaction sa;
	struct loop *l;

	l = xcalloc(1, sizeof(*l));
	timer_heap_init(&l->timers);
	if (pipe(l->sigpipe) == -1)
		fatal("pipe");
	loop_set_nonblock(l->sigpipe[0]);
	loop_set_nonblock(l->sigpipe[1]);
	loop_sig_fd = l->sigpipe[1];

	loop_set_signal_action(loop_signal_handler);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	/* Nothing is left to turn the signals into events. */
	loop_set_signal_action(SIG_DFL);
	loop_sig_fd = -1;
	close(l->sigpipe[0]);
	close(l->sigpipe[1]);
	timer_heap_release(&l->timers);
	free(l->w);
	free(l->pfd);
	free(l);
}

void
loop_watch(struct loop *l, int fd, int events, loop_fd_cb *cb, void *arg)
{
	size_t i;

	for (i = 0; i < l->nw; i++) {
		if (l->w[i].fd == fd)
			break;
	}
	if (i == l->nw) {
		if (l->nw == l->capw) {
			l->capw = l->capw ? l->capw * 2 : 16;
			l->w = xreallocarray(l->w, l->capw, sizeof(*l->w));
		}
		l->nw++;
	}
	l->w[i].fd = fd;
	l->w[i].events = events;
	l->w[i].cb = cb;
	l->w[i].arg = arg;
}

void
loop_unwatch(struct loop *l, int fd)
{
	size_t i;

	for (i = 0; i < l->nw; i++) {
		if (l->w[i].fd == fd) {
			l->w[i] = l->w[l->nw - 1];
			l->nw--;
			return;
		}
	}
}

void
loop_timer_start(struct loop *l, struct timer *t, int64_t delay_ms)
{
	timer_heap_add(&l->timers, t, timer_now_ms() + delay_ms);
}

void
loop_timer_at(struct loop *l, struct timer *t, int64_t deadline_ms)
{
	timer_heap_add(&l->timers, t, deadline_ms);
}

void
loop_timer_stop(struct loop *l, struct timer *t)
{
	timer_heap_remove(&l->timers, t);
}

void
loop_on_signals(
    struct loop *l, loop_signal_cb *on_stop, loop_signal_cb *on_hup, void *arg)
{
	l->on_stop = on_stop;
	l->on_hup = on_hup;
	l->sig_arg = arg;
}

void
loop_break(struct loop *l)
{
	l->running = 0;
}

size_t
loop_run_timers(struct loop *l)
{
	return timer_heap_run(&l->timers, timer_now_ms());
}

static void
loop_drain_signals(struct loop *l)
{
	char junk[64];
	int signo;

	while (read(l->sigpipe[0], junk, sizeof(junk)) > 0)
		;
	if (loop_got_hup) {
		loop_got_hup = 0;
		if (l->on_hup != NULL)
			l->on_hup(SIGHUP, l->sig_arg);
	}
	signo = loop_got_stop;
	if (signo != 0 && l->on_stop != NULL) {
		/* Handled once; a second signal calls on_stop again. */
		loop_got_stop = 0;
		l->on_stop(signo, l->sig_arg);
	}
}

void
loop_set_timer_slack(struct loop *l, int64_t ms)
{
	l->slack_ms = ms > 0 ? ms : 0;
}

/* The poll timeout: until the earliest timer (plus the slack when it is
 * not due yet), -1 without timers. */
static int
loop_timeout(struct loop *l)
{
	struct timer *t = timer_heap_peek(&l->timers);
	int64_t d;

	if (t == NULL)
		return -1;
	d = t->deadline_ms - timer_now_ms();
	if (d <= 0)
		return 0;
	d += l->slack_ms;
	return d > 60000 ? 60000 : (int)d;
}

int
loop_run(struct loop *l)
{
	size_t i, n;
	int rc;

	l->running = 1;
	while (l->running) {
		n = l->nw + 1;
		if (n > l->cap_pfd) {
			l->cap_pfd = n * 2;
			l->pfd =
			    xreallocarray(l->pfd, l->cap_pfd, sizeof(*l->pfd));
		}
		l->pfd[0].fd = l->sigpipe[0];
		l->pfd[0].events = POLLIN;
		l->pfd[0].revents = 0;
		for (i = 0; i < l->nw; i++) {
			l->pfd[i + 1].fd = l->w[i].fd;
			l->pfd[i + 1].events = (short)l->w[i].events;
			l->pfd[i + 1].revents = 0;
		}
		rc = poll(l->pfd, n, loop_timeout(l));
		if (rc == -1 && errno != EINTR) {
			log_warn("poll");
			return -1;
		}
		if (loop_got_hup || loop_got_stop || l->pfd[0].revents)
			loop_drain_signals(l);
		for (i = 1; rc > 0 && i < n; i++) {
			struct loop_watcher *w;
			size_t k;

			if (l->pfd[i].revents == 0)
				continue;
			/* Callbacks may change the watcher array: look the
			 * fd up again instead of trusting index i. */
			w = NULL;
			for (k = 0; k < l->nw; k++) {
				if (l->w[k].fd == l->pfd[i].fd) {
					w = &l->w[k];
					break;
				}
			}
			if (w != NULL)
				w->cb(w->fd, l->pfd[i].revents, w->arg);
		}
		timer_heap_run(&l->timers, timer_now_ms());
	}
	return 0;
}
