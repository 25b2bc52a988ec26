/*
 * pingbot's runtime hooks: job preparation, batching and the worker thread.
 * The loop thread owns jobs, runs and the queue of runs waiting to be
 * pinged.  A run that comes due is queued and a 0 ms timer is armed, so
 * every run due in the same loop iteration lands in the same batch.  One
 * worker thread owns liboping (whose ping_send blocks for the timeout): it
 * pings a batch, then writes a byte to a pipe, and the loop thread emits
 * the values and ends the runs.  Only one batch is out at a time; runs
 * that come due meanwhile wait for the next batch and are never dropped.
 * The worker never logs and never touches a job or a run.
 */
#include "pingbot.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bot.h"
#include "env.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "pingcfg.h"
#include "pinger.h"
#include "pingval.h"
#include "resolver.h"
#include "timer.h"
#include "xmalloc.h"

#define PINGBOT_DEF_MAX_BATCH 8192
/* liboping adds hosts in O(n) each and ICMP identifiers are 16 bits, so a
 * batch far beyond this would be slow to build and short of identifiers. */
#define PINGBOT_MAX_BATCH 30000
/* Interrupts the worker's ping_send (a select on liboping's sockets) at
 * shutdown; nothing else in the bots uses it. */
#define PINGBOT_WAKE_SIGNAL SIGUSR2
/* Host-name lookups at once (each blocks a thread for up to the system
 * resolver's timeout). */
#define PINGBOT_RESOLVER_THREADS 4
/* How often one job may repeat the same warning. */
#define PINGBOT_WARN_MS INT64_C(600000) /* 10 minutes */

/* A job's parsed form, in job->priv. */
struct pingjob {
	struct pingcfg cfg;
	struct pingcfg_target target;
	int64_t job_id;
	struct resolver_query *query; /* a lookup of target.text under way */
	int resolved;                 /* target.addr is usable */
	int answered;         /* the name got an answer (good or bad) once */
	int stale;            /* the name stopped resolving; addr is old */
	char why[BOT_ERRLEN]; /* why it is not */
	struct log_limit lim; /* this job's repeated warnings */
};

/* Runs handed to the worker together, and their results. */
struct pingbot_batch {
	struct run **runs;
	struct pinger_target *targets;
	struct pingval_packet *packets; /* every target's packets */
	size_t n;
	int64_t start_ms;
	struct pinger_report rep;
};

static struct {
	struct loop *loop;
	struct timer kick;
	struct run **queue; /* runs waiting for a batch, oldest first */
	size_t n_queue;
	size_t cap_queue;
	struct pingbot_batch *busy; /* the batch the worker has, or NULL */
	size_t max_batch;
	int have_ipv6;
	int pipe_fd[2];
	struct pinger *pinger; /* the worker's after init */
	struct resolver *resolver;
	struct log_limit send_lim;
	int sync_ok;
	int thread_ok;
	pthread_t thread;
	/* Shared with the worker, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pingbot_batch *todo;
	struct pingbot_batch *done;
	int stop;
	int worker_exited;
} pb = {.pipe_fd = {-1, -1}};

static const char *
pingbot_subject(const struct run *run)
{
	const struct pingjob *pj = run_job(run)->priv;

	return pj->target.text;
}

/* Emits the values of one run and ends it. */
static void
pingbot_emit(struct run *run, const struct pingval_packet *pk, size_t n)
{
	/* Loop thread only, so one buffer serves every run. */
	static struct pingval vals[PINGVAL_MAX(PINGCFG_MAX_PACKETS)];
	size_t k, i;

	k = pingval_build(run_job(run)->id, pk, n, vals);
	for (i = 0; i < k; i++)
		run_emit_at(run, vals[i].path, vals[i].v, vals[i].t);
	run_done(run);
}

/* A target without an address is reported down, at once: there is
 * nothing to ping, so it must not hold up a batch. */
static void
pingbot_finish_unresolved(struct run *run)
{
	struct pingjob *pj = run_job(run)->priv;
	struct pingval_packet pk[PINGCFG_MAX_PACKETS];
	double now_s = timer_wall_s();
	int i;

	log_warnx_limited(&pj->lim, PINGBOT_WARN_MS,
	    "job %lld (%s): %s; reporting it down", (long long)run_job(run)->id,
	    pj->target.text, pj->why);
	memset(pk, 0, sizeof(pk));
	for (i = 0; i < pj->cfg.n_packets; i++)
		pk[i].t = now_s;
	pingbot_emit(run, pk, (size_t)pj->cfg.n_packets);
}

static void
pingbot_batch_free(struct pingbot_batch *b)
{
	if (b == NULL)
		return;
	free(b->runs);
	free(b->targets);
	free(b->packets);
	free(b);
}

static void
pingbot_finish(struct pingbot_batch *b)
{
	size_t i;

	if (b->rep.send_failures > 0)
		log_warnx_limited(&pb.send_lim, PINGBOT_WARN_MS,
		    "ping batch of %zu targets: sending failed %u times: %s",
		    b->n, b->rep.send_failures, b->rep.send_error);
	log_debug("ping batch of %zu targets: %u rounds in %lld ms (longest "
	          "round %lld ms), %s, %u identifiers redrawn, %u reused "
	          "early",
	    b->n, b->rep.rounds, (long long)(timer_now_ms() - b->start_ms),
	    (long long)b->rep.max_round_ms,
	    b->rep.reused_object ? "same hosts as before" : "hosts added",
	    b->rep.rerolls, b->rep.reused);
	for (i = 0; i < b->n; i++) {
		struct run *run = b->runs[i];
		struct pinger_target *t = &b->targets[i];
		struct pingjob *pj = run_job(run)->priv;
		struct pingval_stats st;

		if (t->add_error)
			log_warnx_limited(&pj->lim, PINGBOT_WARN_MS,
			    "job %lld (%s): cannot ping %s: %s; reporting it "
			    "down",
			    (long long)run_job(run)->id, pj->target.text,
			    t->addr, t->add_msg);
		if (log_get_level() >= LOG_LEVEL_DEBUG) {
			pingval_stats(
			    t->packets, (size_t)t->cfg.n_packets, &st);
			log_debug("job %lld (%s): %zu/%zu answered, rtt avg "
			          "%.3f ms, ttl %d",
			    (long long)run_job(run)->id, pj->target.text,
			    st.answered, st.sent, st.avg_s * 1000, t->ttl);
		}
		pingbot_emit(run, t->packets, (size_t)t->cfg.n_packets);
	}
	pingbot_batch_free(b);
}

struct pingbot_cand {
	size_t qi;        /* index in the queue */
	const char *addr; /* borrowed from the job */
};

static int
pingbot_cand_cmp(const void *a, const void *b)
{
	const struct pingbot_cand *x = a, *y = b;
	int c = strcmp(x->addr, y->addr);

	if (c != 0)
		return c;
	return x->qi < y->qi ? -1 : x->qi > y->qi;
}

/* Takes up to max_batch runs, oldest first, into a new batch.  A second
 * run for an address already in the batch stays queued for the next one:
 * liboping keeps one host per address. */
static struct pingbot_batch *
pingbot_batch_take(void)
{
	struct pingbot_batch *b;
	struct pingbot_cand *cand;
	struct run **down;
	unsigned char *take;
	size_t n_cand = 0, n_down = 0, i, k, n_pk = 0;

	cand = xreallocarray(NULL, pb.n_queue, sizeof(*cand));
	down = xreallocarray(NULL, pb.n_queue, sizeof(*down));
	take = xcalloc(pb.n_queue, 1);
	for (i = 0; i < pb.n_queue && n_cand < pb.max_batch; i++) {
		struct run *run = pb.queue[i];
		struct pingjob *pj = run_job(run)->priv;

		if (!pj->resolved && !pj->answered)
			continue; /* first lookup under way: wait for it */
		if (!pj->resolved) {
			pb.queue[i] = NULL;
			down[n_down++] = run;
			continue;
		}
		cand[n_cand].qi = i;
		cand[n_cand].addr = pj->target.addr;
		n_cand++;
	}
	qsort(cand, n_cand, sizeof(*cand), pingbot_cand_cmp);
	for (i = 0, k = 0; i < n_cand; i++) {
		if (i > 0 && strcmp(cand[i].addr, cand[i - 1].addr) == 0)
			continue;
		take[cand[i].qi] = 1;
		k++;
	}
	b = xcalloc(1, sizeof(*b));
	b->runs = xreallocarray(NULL, k ? k : 1, sizeof(*b->runs));
	b->targets = xcalloc(k ? k : 1, sizeof(*b->targets));

	/* Move the taken runs into the batch in queue order and close the
	 * gaps they and the finished ones leave. */
	for (i = 0, k = 0; i < pb.n_queue; i++) {
		struct run *run = pb.queue[i];

		if (run == NULL)
			continue;
		if (!take[i]) {
			pb.queue[k++] = run;
			continue;
		}
		b->runs[b->n++] = run;
		n_pk += (size_t)((struct pingjob *)run_job(run)->priv)
		            ->cfg.n_packets;
	}
	pb.n_queue = k;
	free(cand);
	free(take);
	/* Only now that the queue is consistent: ending a run may queue
	 * another. */
	for (i = 0; i < n_down; i++)
		pingbot_finish_unresolved(down[i]);
	free(down);
	if (b->n == 0) {
		pingbot_batch_free(b);
		return NULL;
	}

	b->packets = xcalloc(n_pk, sizeof(*b->packets));
	for (i = 0, n_pk = 0; i < b->n; i++) {
		struct pingjob *pj = run_job(b->runs[i])->priv;
		struct pinger_target *t = &b->targets[i];

		memcpy(t->addr, pj->target.addr, sizeof(t->addr));
		t->cfg = pj->cfg;
		t->packets = &b->packets[n_pk];
		n_pk += (size_t)pj->cfg.n_packets;
		if (pj->target.family == AF_INET6 && !pb.have_ipv6) {
			t->add_error = 1;
			snprintf(t->add_msg, sizeof(t->add_msg),
			    "IPv6 is not available on this host");
		}
	}
	b->start_ms = timer_now_ms();
	return b;
}

static void
pingbot_kick(struct timer *t, void *arg)
{
	struct pingbot_batch *b;

	(void)t;
	(void)arg;
	if (pb.busy != NULL || pb.n_queue == 0)
		return;
	b = pingbot_batch_take();
	if (b == NULL)
		return;
	pb.busy = b;
	pthread_mutex_lock(&pb.mu);
	pb.todo = b;
	pthread_cond_signal(&pb.cv);
	pthread_mutex_unlock(&pb.mu);
}

static void
pingbot_on_pipe(int fd, int revents, void *arg)
{
	struct pingbot_batch *b;
	char buf[64];

	(void)revents;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		continue;
	pthread_mutex_lock(&pb.mu);
	b = pb.done;
	pb.done = NULL;
	pthread_mutex_unlock(&pb.mu);
	if (b == NULL)
		return;
	pb.busy = NULL;
	pingbot_finish(b);
	if (pb.n_queue > 0)
		loop_timer_start(pb.loop, &pb.kick, 0);
}

/* The worker's wait between rounds; shutdown cuts it short. */
static int
pingbot_pause(void *arg, int64_t delay_ms)
{
	struct timespec ts;
	int stop;

	(void)arg;
	pthread_mutex_lock(&pb.mu);
	if (delay_ms > 0 && !pb.stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(delay_ms / 1000);
		ts.tv_nsec += (long)(delay_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!pb.stop &&
		    pthread_cond_timedwait(&pb.cv, &pb.mu, &ts) != ETIMEDOUT)
			continue;
	}
	stop = pb.stop;
	pthread_mutex_unlock(&pb.mu);
	return stop ? -1 : 0;
}

static void
pingbot_on_wake(int signo)
{
	(void)signo;
}

static void *
pingbot_worker(void *arg)
{
	struct pingbot_batch *b;
	sigset_t wake;
	ssize_t w;

	(void)arg;
	sigemptyset(&wake);
	sigaddset(&wake, PINGBOT_WAKE_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	pthread_mutex_lock(&pb.mu);
	for (;;) {
		while (!pb.stop && (pb.todo == NULL || pb.done != NULL))
			pthread_cond_wait(&pb.cv, &pb.mu);
		if (pb.stop)
			break;
		b = pb.todo;
		pthread_mutex_unlock(&pb.mu);

		pinger_run(
		    pb.pinger, b->targets, b->n, pingbot_pause, NULL, &b->rep);

		pthread_mutex_lock(&pb.mu);
		pb.todo = NULL;
		pb.done = b;
		/* One byte per batch and one batch at a time: the pipe
		 * cannot be full, so the write cannot fail for lack of
		 * room. */
		w = write(pb.pipe_fd[1], "x", 1);
		(void)w;
	}
	pb.worker_exited = 1;
	pthread_mutex_unlock(&pb.mu);
	return NULL;
}

static int
pingbot_init(void)
{
	struct loop *l = bot_loop();
	char exe[PATH_MAX];
	pthread_condattr_t ca;
	struct sigaction sa;
	sigset_t all, old;
	ssize_t len;
	int fd, i, rc;

	/* liboping opens its raw sockets only in the first ping_send, so
	 * find out now, and say plainly what to do, instead of reporting
	 * every target down with a bare EPERM later. */
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd == -1) {
		if (errno != EPERM && errno != EACCES) {
			log_warn("cannot open a raw ICMP socket");
			return -1;
		}
		len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (len <= 0)
			snprintf(exe, sizeof(exe), "/path/to/pingbot");
		else
			exe[len] = '\0';
		log_warnx("fatal: not permitted to open raw ICMP sockets: "
		          "pingbot needs the CAP_NET_RAW capability; grant it "
		          "with `setcap cap_net_raw=ep %s`, or in Docker with "
		          "`cap_add: [NET_RAW]`",
		    exe);
		return -1;
	}
	close(fd);
	fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	pb.have_ipv6 = fd != -1;
	if (fd != -1)
		close(fd);

	pb.max_batch = (size_t)env_int(
	    "PING_MAX_BATCH", PINGBOT_DEF_MAX_BATCH, 1, PINGBOT_MAX_BATCH);
	pb.loop = l;
	pthread_mutex_init(&pb.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pb.cv, &ca);
	pthread_condattr_destroy(&ca);
	pb.sync_ok = 1;
	if (pipe(pb.pipe_fd) == -1) {
		log_warn("pipe");
		return -1;
	}
	for (i = 0; i < 2; i++) {
		fcntl(pb.pipe_fd[i], F_SETFD, FD_CLOEXEC);
		fcntl(pb.pipe_fd[i], F_SETFL, O_NONBLOCK);
	}
	loop_watch(l, pb.pipe_fd[0], POLLIN, pingbot_on_pipe, NULL);
	timer_init(&pb.kick, pingbot_kick, NULL);
	pb.pinger = pinger_new();
	pb.resolver = resolver_new(l, PINGBOT_RESOLVER_THREADS);
	if (pb.resolver == NULL)
		return -1;

	/* Signals belong to the loop thread; one landing in the worker
	 * would also cut liboping's select short and lose a round.  The
	 * worker only takes the wake signal, sent by shutdown; elsewhere it
	 * does nothing. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pingbot_on_wake;
	sigemptyset(&sa.sa_mask);
	sigaction(PINGBOT_WAKE_SIGNAL, &sa, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&pb.thread, NULL, pingbot_worker, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		log_warn("cannot start the ping worker thread");
		return -1;
	}
	pb.thread_ok = 1;
	log_info("ICMP ready: IPv4%s; up to %zu targets per batch",
	    pb.have_ipv6 ? " and IPv6" : " only (no IPv6 raw socket)",
	    pb.max_batch);
	return 0;
}

/* A lookup ended: the first answer makes the job's address (or its
 * reason to be reported down); later ones move it, and a name that stops
 * resolving keeps its last address. */
static void
pingbot_on_resolved(int rc, const struct addrinfo *res, void *arg)
{
	struct pingjob *pj = arg;
	struct pingcfg_target t = pj->target;
	char why[BOT_ERRLEN];
	int first = !pj->answered;

	pj->query = NULL;
	pj->answered = 1;
	if (rc != 0)
		snprintf(
		    why, sizeof(why), "does not resolve: %s", gai_strerror(rc));
	if (rc != 0 || pingcfg_pick(res, &t, why, sizeof(why)) == -1) {
		if (pj->resolved && !pj->stale)
			log_warnx("job %lld (%s): %s; still pinging %s",
			    (long long)pj->job_id, pj->target.text, why,
			    pj->target.addr);
		if (pj->resolved)
			pj->stale = 1;
		else
			snprintf(pj->why, sizeof(pj->why), "%s", why);
		if (first)
			log_debug("job %lld (%s): %s", (long long)pj->job_id,
			    pj->target.text, why);
	} else {
		if (first)
			log_debug("job %lld (%s): resolved to %s",
			    (long long)pj->job_id, t.text, t.addr);
		else if (!pj->resolved || strcmp(t.addr, pj->target.addr) != 0)
			log_info("job %lld (%s): now resolves to %s",
			    (long long)pj->job_id, t.text, t.addr);
		pj->target = t;
		pj->resolved = 1;
		pj->stale = 0;
	}
	/* Runs may be waiting for this first answer. */
	if (first && pb.busy == NULL && pb.n_queue > 0 &&
	    !timer_armed(&pb.kick))
		loop_timer_start(pb.loop, &pb.kick, 0);
}

static void
pingbot_resolve(struct pingjob *pj)
{
	if (!pj->target.is_name || pj->query != NULL)
		return;
	if (pb.resolver == NULL) { /* not initialised (unit tests) */
		pj->answered = 1;
		snprintf(pj->why, sizeof(pj->why), "no resolver");
		return;
	}
	pj->query = resolver_lookup(pb.resolver, pj->target.text,
	    pj->target.want_family, pingbot_on_resolved, pj);
}

static void
pingjob_free(void *priv)
{
	struct pingjob *pj = priv;

	/* After shutdown the resolver is gone, and its queries with it. */
	if (pb.resolver != NULL)
		resolver_cancel(pj->query);
	free(pj);
}

static int
pingbot_job_prepare(struct job *job, char *err, size_t errlen)
{
	struct pingjob *pj;

	pj = xcalloc(1, sizeof(*pj));
	if (pingcfg_parse(job->credential, &pj->cfg, err, errlen) != 0 ||
	    pingcfg_target_parse(job->details, &pj->target, err, errlen) != 0) {
		free(pj);
		return -1;
	}
	pj->job_id = job->id;
	if (pj->target.is_name) {
		/* Runs wait for the first answer; a name that does not
		 * resolve keeps its job, reported down each run, as the
		 * device would be. */
		snprintf(pj->why, sizeof(pj->why), "not resolved yet");
		pingbot_resolve(pj);
	} else {
		pj->resolved = pj->answered = 1;
	}
	job->priv = pj;
	job->priv_free = pingjob_free;
	return 0;
}

/* Names are resolved again at every refresh, so a DNS change (or a name
 * that did not resolve before) takes effect without editing the entity. */
static void
pingbot_job_unchanged(struct job *job)
{
	struct pingjob *pj = job->priv;

	if (pj != NULL)
		pingbot_resolve(pj);
}

static void
pingbot_job_run(struct run *run)
{
	if (pb.n_queue == pb.cap_queue) {
		pb.cap_queue = pb.cap_queue ? pb.cap_queue * 2 : 64;
		pb.queue =
		    xreallocarray(pb.queue, pb.cap_queue, sizeof(*pb.queue));
	}
	pb.queue[pb.n_queue++] = run;
	log_debug("job %lld (%s): queued, %zu waiting",
	    (long long)run_job(run)->id, pingbot_subject(run), pb.n_queue);
	if (pb.busy == NULL && !timer_armed(&pb.kick))
		loop_timer_start(pb.loop, &pb.kick, 0);
}

static void
pingbot_shutdown(void)
{
	static const struct timespec tick = {0, 20 * 1000000L};
	struct pingbot_batch *b = pb.busy;
	size_t i;

	if (pb.thread_ok) {
		pthread_mutex_lock(&pb.mu);
		pb.stop = 1;
		pthread_cond_broadcast(&pb.cv);
		/* ping_send may wait up to a minute; the signal cuts its
		 * select short.  Repeat it, since it may land just before
		 * the select starts. */
		while (!pb.worker_exited) {
			pthread_mutex_unlock(&pb.mu);
			pthread_kill(pb.thread, PINGBOT_WAKE_SIGNAL);
			nanosleep(&tick, NULL);
			pthread_mutex_lock(&pb.mu);
		}
		pthread_mutex_unlock(&pb.mu);
		pthread_join(pb.thread, NULL);
		pb.thread_ok = 0;
	}
	/* A batch the worker finished still has good results; one it
	 * abandoned has partial ones, which would misreport loss. */
	if (b != NULL && pb.done == b && !b->rep.aborted) {
		pingbot_finish(b);
	} else if (b != NULL) {
		for (i = 0; i < b->n; i++)
			run_done(b->runs[i]);
		pingbot_batch_free(b);
	}
	pb.busy = pb.todo = pb.done = NULL;
	while (pb.n_queue > 0) {
		struct run **q = pb.queue;
		size_t n = pb.n_queue;

		/* Detached first: ending a run may queue another. */
		pb.queue = NULL;
		pb.n_queue = pb.cap_queue = 0;
		for (i = 0; i < n; i++)
			run_done(q[i]);
		free(q);
	}
	free(pb.queue);
	pb.queue = NULL;
	pb.cap_queue = 0;

	if (pb.loop != NULL) {
		loop_timer_stop(pb.loop, &pb.kick);
		if (pb.pipe_fd[0] != -1)
			loop_unwatch(pb.loop, pb.pipe_fd[0]);
	}
	for (i = 0; i < 2; i++) {
		if (pb.pipe_fd[i] != -1)
			close(pb.pipe_fd[i]);
		pb.pipe_fd[i] = -1;
	}
	pinger_free(pb.pinger);
	pb.pinger = NULL;
	resolver_free(pb.resolver);
	pb.resolver = NULL;
	if (pb.sync_ok) {
		pthread_cond_destroy(&pb.cv);
		pthread_mutex_destroy(&pb.mu);
		pb.sync_ok = 0;
	}
	pb.loop = NULL;
}

const struct bot_ops pingbot_ops = {
    .name = "pingbot",
    .protocol = "ping",
    .summary = "pings the devices of the Grafolean \"ping\" protocol "
               "(ICMP echo, IPv4 and IPv6)",
    .env_help = "  PING_MAX_BATCH         most targets pinged together in one\n"
                "                         batch (8192; at most 30000)\n",
    .init = pingbot_init,
    .job_prepare = pingbot_job_prepare,
    .job_unchanged = pingbot_job_unchanged,
    .job_run = pingbot_job_run,
    .shutdown = pingbot_shutdown,
};
