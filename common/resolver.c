/*
 * Off-thread getaddrinfo.  The loop side and every worker each hold a
 * reference to the shared part (queues, lock, pipe, worker slots), so
 * resolver_free joins the idle workers but never waits for one stuck in
 * a slow lookup (it is detached): the last one out frees the shared part.  A
 * query belongs to whichever list holds it (to do, done) or to the worker
 * resolving it; the loop thread alone runs callbacks and frees answered
 * queries.
 */
#include "resolver.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "xmalloc.h"

struct resolver_query {
	struct resolver *r;
	struct resolver_query *next;
	char *name;
	int family;
	resolver_cb *cb;
	void *arg;
	int cancelled; /* written on the loop thread under mu */
	int rc;
	struct addrinfo *res;
};

struct resolver_queue {
	struct resolver_query *head, *tail;
};

/* One worker thread; busy while inside getaddrinfo (under mu). */
struct resolver_slot {
	struct resolver_shared *sh;
	pthread_t t;
	int busy;
};

struct resolver_shared {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct resolver_queue todo, done;
	int closing;                        /* the loop side is gone */
	int refs;                           /* the loop side + live workers */
	int n_threads, n_idle, max_threads; /* n_threads: started */
	struct resolver_slot *slots;        /* max_threads of them */
	int pipe_fd[2];
};

struct resolver {
	struct loop *loop;
	struct resolver_shared *sh;
	size_t pending;
};

static void
resolver_push(struct resolver_queue *q, struct resolver_query *x)
{
	x->next = NULL;
	if (q->tail != NULL)
		q->tail->next = x;
	else
		q->head = x;
	q->tail = x;
}

static struct resolver_query *
resolver_take_all(struct resolver_queue *q)
{
	struct resolver_query *x = q->head;

	q->head = q->tail = NULL;
	return x;
}

static void
resolver_query_free(struct resolver_query *x)
{
	if (x->res != NULL)
		freeaddrinfo(x->res);
	free(x->name);
	free(x);
}

static void
resolver_free_list(struct resolver_query *x)
{
	struct resolver_query *next;

	for (; x != NULL; x = next) {
		next = x->next;
		resolver_query_free(x);
	}
}

/* Drops one reference, under mu; the last one frees everything. */
static void
resolver_unref_locked(struct resolver_shared *sh)
{
	if (--sh->refs > 0) {
		pthread_mutex_unlock(&sh->mu);
		return;
	}
	pthread_mutex_unlock(&sh->mu);
	resolver_free_list(resolver_take_all(&sh->todo));
	resolver_free_list(resolver_take_all(&sh->done));
	close(sh->pipe_fd[0]);
	close(sh->pipe_fd[1]);
	pthread_cond_destroy(&sh->cv);
	pthread_mutex_destroy(&sh->mu);
	free(sh->slots);
	free(sh);
}

static void *
resolver_worker(void *arg)
{
	struct resolver_slot *slot = arg;
	struct resolver_shared *sh = slot->sh;
	struct resolver_query *x;
	struct addrinfo hints;
	char c = 0;

	pthread_mutex_lock(&sh->mu);
	for (;;) {
		while (!sh->closing && sh->todo.head == NULL) {
			sh->n_idle++;
			pthread_cond_wait(&sh->cv, &sh->mu);
			sh->n_idle--;
		}
		if (sh->closing)
			break;
		x = sh->todo.head;
		sh->todo.head = x->next;
		if (sh->todo.head == NULL)
			sh->todo.tail = NULL;
		if (x->cancelled) {
			x->rc = EAI_NONAME; /* never delivered */
		} else {
			slot->busy = 1;
			pthread_mutex_unlock(&sh->mu);
			memset(&hints, 0, sizeof(hints));
			hints.ai_family = x->family;
			hints.ai_socktype = SOCK_DGRAM;
			hints.ai_flags = AI_ADDRCONFIG;
			x->rc = getaddrinfo(x->name, NULL, &hints, &x->res);
			if (x->rc != 0)
				x->res = NULL;
			pthread_mutex_lock(&sh->mu);
			slot->busy = 0;
		}
		if (sh->closing) {
			resolver_query_free(x);
			break;
		}
		resolver_push(&sh->done, x);
		/* A full pipe already holds a wake-up. */
		if (write(sh->pipe_fd[1], &c, 1) == -1 && errno != EAGAIN)
			log_warn("resolver: wake-up pipe");
	}
	resolver_unref_locked(sh);
	return NULL;
}

static void
resolver_on_pipe(int fd, int revents, void *arg)
{
	struct resolver *r = arg;
	struct resolver_query *x, *next;
	char drain[64];

	(void)revents;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&r->sh->mu);
	x = resolver_take_all(&r->sh->done);
	pthread_mutex_unlock(&r->sh->mu);
	for (; x != NULL; x = next) {
		next = x->next;
		r->pending--;
		/* The callback may cancel queries later in this list; their
		 * flag is read here, on the thread that sets it. */
		if (!x->cancelled)
			x->cb(x->rc, x->res, x->arg);
		resolver_query_free(x);
	}
}

struct resolver *
resolver_new(struct loop *l, int n_threads)
{
	struct resolver_shared *sh;
	struct resolver *r;
	int i;

	sh = xcalloc(1, sizeof(*sh));
	if (pipe(sh->pipe_fd) == -1) {
		log_warn("resolver: pipe");
		free(sh);
		return NULL;
	}
	for (i = 0; i < 2; i++) {
		fcntl(sh->pipe_fd[i], F_SETFD, FD_CLOEXEC);
		fcntl(sh->pipe_fd[i], F_SETFL, O_NONBLOCK);
	}
	pthread_mutex_init(&sh->mu, NULL);
	pthread_cond_init(&sh->cv, NULL);
	sh->refs = 1;
	sh->max_threads = n_threads > 0 ? n_threads : 1;
	sh->slots = xcalloc((size_t)sh->max_threads, sizeof(*sh->slots));
	r = xcalloc(1, sizeof(*r));
	r->loop = l;
	r->sh = sh;
	loop_watch(l, sh->pipe_fd[0], POLLIN, resolver_on_pipe, r);
	return r;
}

/* Under mu: one more worker when none is idle and the cap allows. */
static void
resolver_spawn_locked(struct resolver_shared *sh)
{
	struct resolver_slot *slot;
	sigset_t all, old;
	int rc;

	if (sh->n_idle > 0 || sh->n_threads >= sh->max_threads)
		return;
	slot = &sh->slots[sh->n_threads];
	slot->sh = sh;
	/* Signals are the loop thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&slot->t, NULL, resolver_worker, slot);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		/* The queued query waits for a running worker; with none,
		 * it is failed by resolver_lookup. */
		errno = rc;
		log_warn("resolver: cannot start a thread");
		return;
	}
	sh->n_threads++;
	sh->refs++;
}

struct resolver_query *
resolver_lookup(struct resolver *r, const char *name, int family,
    resolver_cb *cb, void *arg)
{
	struct resolver_shared *sh = r->sh;
	struct resolver_query *x;
	char c = 0;

	x = xcalloc(1, sizeof(*x));
	x->r = r;
	x->name = xstrdup(name);
	x->family = family;
	x->cb = cb;
	x->arg = arg;
	r->pending++;
	pthread_mutex_lock(&sh->mu);
	resolver_spawn_locked(sh);
	if (sh->n_threads == 0) {
		/* No worker at all: answer with a system error, still
		 * from the loop. */
		x->rc = EAI_SYSTEM;
		resolver_push(&sh->done, x);
		if (write(sh->pipe_fd[1], &c, 1) == -1 && errno != EAGAIN)
			log_warn("resolver: wake-up pipe");
	} else {
		resolver_push(&sh->todo, x);
		pthread_cond_signal(&sh->cv);
	}
	pthread_mutex_unlock(&sh->mu);
	return x;
}

void
resolver_cancel(struct resolver_query *q)
{
	struct resolver_shared *sh;

	if (q == NULL)
		return;
	sh = q->r->sh;
	pthread_mutex_lock(&sh->mu);
	q->cancelled = 1;
	pthread_mutex_unlock(&sh->mu);
}

size_t
resolver_pending(const struct resolver *r)
{
	return r->pending;
}

void
resolver_free(struct resolver *r)
{
	struct resolver_shared *sh;
	struct resolver_query *todo, *done;
	unsigned char *wait_for;
	int i, n;

	if (r == NULL)
		return;
	sh = r->sh;
	loop_unwatch(r->loop, sh->pipe_fd[0]);
	pthread_mutex_lock(&sh->mu);
	sh->closing = 1;
	todo = resolver_take_all(&sh->todo);
	done = resolver_take_all(&sh->done);
	pthread_cond_broadcast(&sh->cv);
	/* Idle workers end at once: wait for them.  One inside a slow
	 * getaddrinfo is left to finish on its own. */
	n = sh->n_threads;
	wait_for = xcalloc((size_t)n + 1, 1);
	for (i = 0; i < n; i++)
		wait_for[i] = !sh->slots[i].busy;
	pthread_mutex_unlock(&sh->mu);
	for (i = 0; i < n; i++) {
		if (wait_for[i])
			pthread_join(sh->slots[i].t, NULL);
		else
			pthread_detach(sh->slots[i].t);
	}
	free(wait_for);
	pthread_mutex_lock(&sh->mu);
	resolver_unref_locked(sh);
	resolver_free_list(todo);
	resolver_free_list(done);
	free(r);
}
