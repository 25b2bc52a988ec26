/*
 * Worker threads for filters.  The loop thread owns the task queue's
 * producer side and every callback; workers own the tasks they took.
 * Shared state sits under mu: the queue, the tasks running (with the
 * filter each runs and since when) and the finished list, which the loop
 * collects when a worker writes a byte to the pipe.  The watchdog timer
 * runs only while a task is out and calls apifilter_halt on a filter past
 * its deadline; libjq then stops it between two instructions.  Workers
 * never log and never touch jobs or runs.
 */
#include "apiwork.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apibody.h"
#include "log.h"
#include "loop.h"
#include "timer.h"
#include "xmalloc.h"

#define APIWORK_MAX_THREADS 16

struct apiwork {
	struct loop *loop;
	int64_t deadline_ms;
	struct timer watchdog;
	struct timer flush; /* hands held tasks to the workers */
	int64_t batch_ms;
	struct apiwork_task *held, *held_tail; /* loop thread only */
	size_t n_held;
	int pipe_fd[2];
	pthread_t threads[APIWORK_MAX_THREADS];
	int n_threads;
	size_t pending;       /* loop thread's count */
	size_t pending_bytes; /* bodies of the pending tasks */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct apiwork_task *queue, *queue_tail;
	struct apiwork_task *running[APIWORK_MAX_THREADS];
	struct apiwork_task *finished;
	int idle; /* workers waiting for a task */
	int stop;
};

struct apiwork_task *
apiwork_task_new(const char *body, size_t len, struct apifilter *const *f,
    size_t n, apiwork_done_fn *done, void *arg)
{
	struct apiwork_task *t = xcalloc(1, sizeof(*t));
	size_t i;

	t->body = xmalloc(len + 1);
	memcpy(t->body, body, len);
	t->body[len] = '\0';
	t->body_len = len;
	t->filters = xcalloc(n ? n : 1, sizeof(*t->filters));
	for (i = 0; i < n; i++)
		t->filters[i] = apifilter_ref(f[i]);
	t->n_filters = n;
	t->results = xcalloc(n ? n : 1, sizeof(*t->results));
	t->done = done;
	t->arg = arg;
	t->cur = n;
	return t;
}

void
apiwork_task_free(struct apiwork_task *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n_filters; i++) {
		apifilter_put(t->filters[i]);
		apifilter_result_release(&t->results[i]);
	}
	free(t->filters);
	free(t->results);
	free(t->body);
	free(t);
}

/* Parses the body once and runs every filter on it (worker thread). */
static void
apiwork_do(struct apiwork *w, struct apiwork_task *t)
{
	jv input;
	size_t i;

	if (apibody_parse(t->body, t->body_len, &input, t->parse_err,
	        sizeof(t->parse_err)) == -1) {
		t->parse_failed = 1;
		return;
	}
	for (i = 0; i < t->n_filters; i++) {
		pthread_mutex_lock(&w->mu);
		if (w->stop) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		t->cur = i;
		t->cur_start_ms = timer_now_ms();
		pthread_mutex_unlock(&w->mu);
		apifilter_run(t->filters[i], input, &t->results[i]);
	}
	pthread_mutex_lock(&w->mu);
	t->cur = t->n_filters;
	pthread_mutex_unlock(&w->mu);
	jv_free(input);
}

struct apiwork_arg {
	struct apiwork *w;
	int slot;
};

static void *
apiwork_main(void *arg)
{
	struct apiwork_arg *a = arg;
	struct apiwork *w = a->w;
	int slot = a->slot;
	struct apiwork_task *t;
	ssize_t n;

	free(a);
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && w->queue == NULL) {
			w->idle++;
			pthread_cond_wait(&w->cv, &w->mu);
			w->idle--;
		}
		if (w->stop)
			break;
		t = w->queue;
		w->queue = t->next;
		if (w->queue == NULL)
			w->queue_tail = NULL;
		t->next = NULL;
		w->running[slot] = t;
		pthread_mutex_unlock(&w->mu);

		apiwork_do(w, t);

		pthread_mutex_lock(&w->mu);
		w->running[slot] = NULL;
		t->next = w->finished;
		/* One byte wakes the loop for everything finished until it
		 * collects (a full pipe would wake it as well). */
		if (w->finished == NULL) {
			n = write(w->pipe_fd[1], "x", 1);
			(void)n;
		}
		w->finished = t;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void
apiwork_collect(struct apiwork *w)
{
	struct apiwork_task *list, *t, *rev = NULL;

	pthread_mutex_lock(&w->mu);
	list = w->finished;
	w->finished = NULL;
	pthread_mutex_unlock(&w->mu);
	/* Oldest first. */
	while (list != NULL) {
		t = list;
		list = t->next;
		t->next = rev;
		rev = t;
	}
	while (rev != NULL) {
		t = rev;
		rev = t->next;
		t->next = NULL;
		w->pending--;
		w->pending_bytes -= t->body_len;
		t->done(t, 0);
	}
}

static void
apiwork_on_pipe(int fd, int revents, void *arg)
{
	char buf[64];

	(void)revents;
	while (read(fd, buf, sizeof(buf)) > 0)
		continue;
	apiwork_collect(arg);
}

static void
apiwork_on_watchdog(struct timer *tm, void *arg)
{
	struct apiwork *w = arg;
	int64_t now = timer_now_ms();
	int i;

	(void)tm;
	pthread_mutex_lock(&w->mu);
	for (i = 0; i < w->n_threads; i++) {
		struct apiwork_task *t = w->running[i];

		if (t != NULL && t->cur < t->n_filters &&
		    now - t->cur_start_ms >= w->deadline_ms)
			apifilter_halt(t->filters[t->cur]);
	}
	pthread_mutex_unlock(&w->mu);
	if (w->pending > 0)
		loop_timer_start(w->loop, &w->watchdog,
		    w->deadline_ms / 4 > 0 ? w->deadline_ms / 4 : 1);
}

/* Moves the held tasks to the queue with one wake-up per batch rather
 * than one per task: handing work between threads costs more than
 * running a small filter. */
static void
apiwork_on_flush(struct timer *tm, void *arg)
{
	struct apiwork *w = arg;
	size_t n = w->n_held;

	(void)tm;
	if (w->held == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	if (w->queue_tail != NULL)
		w->queue_tail->next = w->held;
	else
		w->queue = w->held;
	w->queue_tail = w->held_tail;
	if (n > 1 && w->idle > 1)
		pthread_cond_broadcast(&w->cv);
	else if (w->idle > 0)
		pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->held = w->held_tail = NULL;
	w->n_held = 0;
}

void
apiwork_set_batch_ms(struct apiwork *w, int64_t ms)
{
	w->batch_ms = ms > 0 ? ms : 0;
}

struct apiwork *
apiwork_new(struct loop *l, int n_threads, int64_t deadline_ms)
{
	struct apiwork *w = xcalloc(1, sizeof(*w));
	struct apiwork_arg *a;
	sigset_t all, old;
	int i, rc;

	if (n_threads < 1)
		n_threads = 1;
	if (n_threads > APIWORK_MAX_THREADS)
		n_threads = APIWORK_MAX_THREADS;
	w->loop = l;
	w->deadline_ms = deadline_ms > 0 ? deadline_ms : 1;
	timer_init(&w->watchdog, apiwork_on_watchdog, w);
	timer_init(&w->flush, apiwork_on_flush, w);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pipe(w->pipe_fd) == -1) {
		log_warn("pipe");
		w->pipe_fd[0] = w->pipe_fd[1] = -1;
		apiwork_free(w);
		return NULL;
	}
	for (i = 0; i < 2; i++) {
		fcntl(w->pipe_fd[i], F_SETFD, FD_CLOEXEC);
		fcntl(w->pipe_fd[i], F_SETFL, O_NONBLOCK);
	}
	loop_watch(l, w->pipe_fd[0], POLLIN, apiwork_on_pipe, w);
	/* Signals belong to the loop thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < n_threads; i++) {
		a = xmalloc(sizeof(*a));
		a->w = w;
		a->slot = i;
		rc = pthread_create(&w->threads[i], NULL, apiwork_main, a);
		if (rc != 0) {
			free(a);
			errno = rc;
			log_warn("cannot start a filter worker thread");
			break;
		}
		w->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w->n_threads == 0) {
		apiwork_free(w);
		return NULL;
	}
	return w;
}

void
apiwork_submit(struct apiwork *w, struct apiwork_task *t)
{
	t->next = NULL;
	if (w->held_tail != NULL)
		w->held_tail->next = t;
	else
		w->held = t;
	w->held_tail = t;
	w->n_held++;
	w->pending++;
	w->pending_bytes += t->body_len;
	if (!timer_armed(&w->flush))
		loop_timer_start(w->loop, &w->flush, w->batch_ms);
	if (!timer_armed(&w->watchdog))
		loop_timer_start(w->loop, &w->watchdog,
		    w->deadline_ms / 4 > 0 ? w->deadline_ms / 4 : 1);
}

size_t
apiwork_pending(const struct apiwork *w)
{
	return w->pending;
}

size_t
apiwork_pending_bytes(const struct apiwork *w)
{
	return w->pending_bytes;
}

void
apiwork_free(struct apiwork *w)
{
	struct apiwork_task *t, *list;
	int i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	for (i = 0; i < w->n_threads; i++) {
		t = w->running[i];
		if (t != NULL && t->cur < t->n_filters)
			apifilter_halt(t->filters[t->cur]);
	}
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);
	/* Finished tasks keep their results; queued ones are dropped. */
	apiwork_collect(w);
	for (i = 0; i < 2; i++) {
		list = i == 0 ? w->queue : w->held;
		while (list != NULL) {
			t = list;
			list = t->next;
			w->pending--;
			w->pending_bytes -= t->body_len;
			t->done(t, 1);
		}
	}
	w->queue = w->queue_tail = w->held = w->held_tail = NULL;
	w->n_held = 0;
	loop_timer_stop(w->loop, &w->watchdog);
	loop_timer_stop(w->loop, &w->flush);
	if (w->pipe_fd[0] != -1) {
		loop_unwatch(w->loop, w->pipe_fd[0]);
		close(w->pipe_fd[0]);
		close(w->pipe_fd[1]);
	}
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
