/*
 * Ping worker threads.  The loop thread hands batches in through a FIFO
 * under one mutex; an idle worker takes the oldest, runs pinger_run, puts
 * the batch on the done list and writes a byte to a pipe, whose reader (on
 * the loop thread) calls back for every finished batch.  There is a worker
 * for every batch out (up to the most), so no batch waits for another.
 * Between rounds a worker waits on a condition that shutdown signals; a
 * worker inside ping_send (a select on liboping's sockets) is woken by a
 * signal of its own, sent until it has exited.
 */
#include "pingpool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "xmalloc.h"

/* Interrupts a worker's ping_send at shutdown; nothing else in the bots
 * uses it. */
#define PINGPOOL_WAKE_SIGNAL SIGUSR2

struct pingpool {
	struct loop *loop;
	struct pinger *pinger;
	pingpool_done_fn *cb;
	void *arg;
	int pipe_fd[2];
	size_t max_workers;
	size_t busy; /* loop thread: handed in, not called back */
	pthread_t *threads;
	size_t n_threads;
	int sync_ok;

	/* Shared with the workers. */
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* todo got a batch, or stop */
	pthread_cond_t stop_cv; /* stop */
	struct pingpool_batch *todo, **todo_tail;
	struct pingpool_batch *done;
	int stop;
	size_t n_exited;
};

/* A worker's wait between rounds; shutdown cuts it short. */
static int
pingpool_pause(void *arg, int64_t delay_ms)
{
	struct pingpool *pp = arg;
	struct timespec ts;
	int stop;

	pthread_mutex_lock(&pp->mu);
	if (delay_ms > 0 && !pp->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(delay_ms / 1000);
		ts.tv_nsec += (long)(delay_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!pp->stop &&
		    pthread_cond_timedwait(&pp->stop_cv, &pp->mu, &ts) !=
		        ETIMEDOUT)
			continue;
	}
	stop = pp->stop;
	pthread_mutex_unlock(&pp->mu);
	return stop ? -1 : 0;
}

static void
pingpool_on_wake(int signo)
{
	(void)signo;
}

static void *
pingpool_worker(void *arg)
{
	struct pingpool *pp = arg;
	struct pingpool_batch *b;
	sigset_t wake;
	ssize_t w;

	sigemptyset(&wake);
	sigaddset(&wake, PINGPOOL_WAKE_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	pthread_mutex_lock(&pp->mu);
	for (;;) {
		while (!pp->stop && pp->todo == NULL)
			pthread_cond_wait(&pp->work_cv, &pp->mu);
		if (pp->stop)
			break;
		b = pp->todo;
		pp->todo = b->next;
		if (pp->todo == NULL)
			pp->todo_tail = &pp->todo;
		pthread_mutex_unlock(&pp->mu);

		pinger_run(
		    pp->pinger, b->targets, b->n, pingpool_pause, pp, &b->rep);

		pthread_mutex_lock(&pp->mu);
		b->done = 1;
		if (b->rep.aborted)
			continue; /* shutdown: the caller sorts it out */
		b->next = pp->done;
		pp->done = b;
		/* One byte per batch and at most max_workers batches out:
		 * the pipe cannot fill up, so the write cannot fail for lack
		 * of room. */
		w = write(pp->pipe_fd[1], "x", 1);
		(void)w;
	}
	pp->n_exited++;
	pthread_mutex_unlock(&pp->mu);
	return NULL;
}

/* Starts workers until there are want of them.  0, or an errno value. */
static int
pingpool_start(struct pingpool *pp, size_t want)
{
	sigset_t all, old;
	int rc;

	while (pp->n_threads < want) {
		/* Signals belong to the loop thread; one landing in a worker
		 * would also cut liboping's select short and lose a round.
		 * Workers only take the wake signal, sent by shutdown. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(
		    &pp->threads[pp->n_threads], NULL, pingpool_worker, pp);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc != 0)
			return rc;
		pp->n_threads++;
	}
	return 0;
}

static void
pingpool_on_pipe(int fd, int revents, void *arg)
{
	struct pingpool *pp = arg;
	struct pingpool_batch *b, *next;
	char buf[64];

	(void)revents;
	while (read(fd, buf, sizeof(buf)) > 0)
		continue;
	pthread_mutex_lock(&pp->mu);
	b = pp->done;
	pp->done = NULL;
	pthread_mutex_unlock(&pp->mu);
	for (; b != NULL; b = next) {
		next = b->next;
		pp->busy--;
		pp->cb(b, pp->arg);
	}
}

struct pingpool *
pingpool_new(struct loop *l, struct pinger *p, size_t max_workers,
    pingpool_done_fn *cb, void *arg)
{
	struct pingpool *pp;
	pthread_condattr_t ca;
	struct sigaction sa;
	int i, rc;

	pp = xcalloc(1, sizeof(*pp));
	pp->loop = l;
	pp->pinger = p;
	pp->cb = cb;
	pp->arg = arg;
	pp->max_workers = max_workers > 0 ? max_workers : 1;
	pp->threads = xcalloc(pp->max_workers, sizeof(*pp->threads));
	pp->pipe_fd[0] = pp->pipe_fd[1] = -1;
	pp->todo_tail = &pp->todo;
	pthread_mutex_init(&pp->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pp->work_cv, &ca);
	pthread_cond_init(&pp->stop_cv, &ca);
	pthread_condattr_destroy(&ca);
	pp->sync_ok = 1;
	if (pipe(pp->pipe_fd) == -1) {
		log_warn("pipe");
		goto fail;
	}
	for (i = 0; i < 2; i++) {
		fcntl(pp->pipe_fd[i], F_SETFD, FD_CLOEXEC);
		fcntl(pp->pipe_fd[i], F_SETFL, O_NONBLOCK);
	}
	loop_watch(l, pp->pipe_fd[0], POLLIN, pingpool_on_pipe, pp);

	/* The wake signal does nothing but interrupt a select. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pingpool_on_wake;
	sigemptyset(&sa.sa_mask);
	sigaction(PINGPOOL_WAKE_SIGNAL, &sa, NULL);
	rc = pingpool_start(pp, 1);
	if (rc != 0) {
		errno = rc;
		log_warn("cannot start a ping worker thread");
		goto fail;
	}
	return pp;
fail:
	pingpool_free(pp);
	return NULL;
}

void
pingpool_submit(struct pingpool *pp, struct pingpool_batch *b)
{
	int rc;

	b->done = 0;
	memset(&b->rep, 0, sizeof(b->rep));
	pp->busy++;
	rc = pingpool_start(
	    pp, pp->busy < pp->max_workers ? pp->busy : pp->max_workers);
	if (rc != 0) {
		errno = rc;
		log_warn("cannot start another ping worker thread; going on "
		         "with %zu",
		    pp->n_threads);
		pp->max_workers = pp->n_threads;
	}
	pthread_mutex_lock(&pp->mu);
	b->next = NULL;
	*pp->todo_tail = b;
	pp->todo_tail = &b->next;
	pthread_cond_signal(&pp->work_cv);
	pthread_mutex_unlock(&pp->mu);
}

size_t
pingpool_busy(const struct pingpool *pp)
{
	return pp->busy;
}

size_t
pingpool_max(const struct pingpool *pp)
{
	return pp->max_workers;
}

void
pingpool_free(struct pingpool *pp)
{
	static const struct timespec tick = {0, 20 * 1000000L};
	size_t i;
	int j;

	if (pp == NULL)
		return;
	if (pp->n_threads > 0) {
		pthread_mutex_lock(&pp->mu);
		pp->stop = 1;
		pthread_cond_broadcast(&pp->work_cv);
		pthread_cond_broadcast(&pp->stop_cv);
		/* ping_send may wait up to a minute; the signal cuts its
		 * select short.  Repeat it, since it may land just before
		 * the select starts. */
		while (pp->n_exited < pp->n_threads) {
			pthread_mutex_unlock(&pp->mu);
			for (i = 0; i < pp->n_threads; i++)
				pthread_kill(
				    pp->threads[i], PINGPOOL_WAKE_SIGNAL);
			nanosleep(&tick, NULL);
			pthread_mutex_lock(&pp->mu);
		}
		pthread_mutex_unlock(&pp->mu);
		for (i = 0; i < pp->n_threads; i++)
			pthread_join(pp->threads[i], NULL);
	}
	if (pp->pipe_fd[0] != -1)
		loop_unwatch(pp->loop, pp->pipe_fd[0]);
	for (j = 0; j < 2; j++)
		if (pp->pipe_fd[j] != -1)
			close(pp->pipe_fd[j]);
	if (pp->sync_ok) {
		pthread_cond_destroy(&pp->work_cv);
		pthread_cond_destroy(&pp->stop_cv);
		pthread_mutex_destroy(&pp->mu);
	}
	free(pp->threads);
	free(pp);
}
