/*
 * pingbot's runtime hooks: job preparation and batching.  The loop thread
 * owns jobs, runs and the queue of runs waiting to be pinged.  A run that
 * comes due is queued and a 0 ms timer is armed, so every run due in the
 * same loop iteration lands in the same batch.  Batches hold runs of one
 * credential shape (packets, sleep, timeout, retry) only, so every target
 * of a batch is done when the batch is, and a slow credential never holds
 * up the results of a quick one.  Each batch goes to a worker thread of its
 * own (pingpool.c; liboping's ping_send blocks for the timeout), at most
 * PING_WORKERS at once, and comes back to the loop thread, which emits the
 * values and ends the runs.  While a batch of a shape is out, further runs
 * of that shape wait up to their slack (pingcfg_slack_s) for company, then
 * go out in a batch of their own: runs are never dropped, and never wait
 * for another batch to end.
 */
#include "pingbot.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot.h"
#include "caps.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "pingcfg.h"
#include "pinger.h"
#include "pingpool.h"
#include "pingval.h"
#include "settings.h"
#include "target.h"
#include "timer.h"
#include "xmalloc.h"

/* Batches out at once, each on a thread of its own. */
#define PINGBOT_MAX_WORKERS 256
/* liboping adds hosts in O(n) each and ICMP identifiers are 16 bits, so a
 * batch far beyond this would be slow to build and short of identifiers. */
#define PINGBOT_MAX_BATCH 30000
/* Host-name lookups at once (each blocks a thread for up to the system
 * resolver's timeout). */
#define PINGBOT_RESOLVER_THREADS 4
/* How often one job may repeat the same warning. */
#define PINGBOT_WARN_MS INT64_C(600000) /* 10 minutes */

/* A job's parsed form, in job->priv. */
struct pingjob {
	struct pingcfg cfg;
	struct target target; /* its address, or a name's lookup state */
	struct log_limit lim; /* this job's repeated warnings */
};

/* Runs handed to a worker together, and their results. */
struct pingbot_batch {
	struct pingpool_batch pool; /* first: the pool hands it back */
	struct run **runs;
	struct pinger_target *targets;
	struct pingval_packet *packets; /* every target's packets */
	size_t n;
	struct pingcfg shape; /* every target's */
	int64_t start_ms;
	struct pingbot_batch *fly_next; /* in pb.flying */
};

/* A run waiting for a batch. */
struct pingbot_wait {
	struct run *run;
	int64_t by_ms; /* goes out by then even if its shape is busy */
};

/* Per shape waiting in the queue: its batches out, and when its oldest
 * run must go. */
struct pingbot_shape_state {
	const struct pingcfg *shape;
	int64_t by_ms;
	size_t n_flying;
};

static struct {
	struct loop *loop;
	struct timer kick;
	struct pingbot_wait *queue; /* runs waiting for a batch, oldest first */
	size_t n_queue;
	size_t cap_queue;
	struct pingbot_batch *flying; /* batches handed to workers */
	size_t n_flying;
	struct pingbot_shape_state *shapes; /* pingbot_due_shape's scratch */
	size_t cap_shapes;
	size_t max_batch;
	int have_ipv6;
	struct pinger *pinger;           /* shared by the workers */
	struct pingpool *pool;           /* the workers */
	struct target_resolver *targets; /* host names' lookups */
	struct pingcfg_memo cred_memo;   /* the last credential parsed */
	struct log_limit send_lim;
	struct log_limit busy_lim;
} pb;

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
	    pj->target.text, pj->target.why ? pj->target.why : "no address");
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

	const struct pinger_report *rep = &b->pool.rep;

	if (rep->send_failures > 0)
		log_warnx_limited(&pb.send_lim, PINGBOT_WARN_MS,
		    "ping batch of %zu targets: sending failed %u times: %s",
		    b->n, rep->send_failures, rep->send_error);
	log_debug("ping batch of %zu targets: %u rounds in %lld ms (longest "
	          "round %lld ms), %s, %u identifiers redrawn, %u reused "
	          "early",
	    b->n, rep->rounds, (long long)(timer_now_ms() - b->start_ms),
	    (long long)rep->max_round_ms,
	    rep->reused_object ? "same hosts as before" : "hosts added",
	    rep->rerolls, rep->reused);
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

static int
pingbot_same_shape(const struct pingcfg *a, const struct pingcfg *b)
{
	return a->n_packets == b->n_packets && a->sleep_s == b->sleep_s &&
	    a->timeout_s == b->timeout_s && a->retry == b->retry;
}

/* Ends, reported down, the queued runs whose name did not resolve: there
 * is nothing to ping, so they must not wait for a batch. */
static void
pingbot_drop_unresolved(void)
{
	struct run **down = NULL;
	size_t i, k, n_down = 0;

	for (i = 0, k = 0; i < pb.n_queue; i++) {
		struct pingjob *pj = run_job(pb.queue[i].run)->priv;

		if (target_state(&pj->target) == TARGET_FAILED) {
			down = xreallocarray(down, n_down + 1, sizeof(*down));
			down[n_down++] = pb.queue[i].run;
			continue;
		}
		pb.queue[k++] = pb.queue[i];
	}
	pb.n_queue = k;
	/* Only now that the queue is consistent: ending a run may queue
	 * another. */
	for (i = 0; i < n_down; i++)
		pingbot_finish_unresolved(down[i]);
	free(down);
}

/* Takes up to max_batch runs of one shape, oldest first, into a new
 * batch.  A second run for an address already in the batch stays queued
 * for another one: liboping keeps one host per address. */
static struct pingbot_batch *
pingbot_batch_take(const struct pingcfg *shape)
{
	struct pingbot_batch *b;
	struct pingbot_cand *cand;
	unsigned char *take;
	size_t n_cand = 0, i, k, n_pk = 0;

	cand = xreallocarray(NULL, pb.n_queue, sizeof(*cand));
	take = xcalloc(pb.n_queue, 1);
	for (i = 0; i < pb.n_queue && n_cand < pb.max_batch; i++) {
		struct run *run = pb.queue[i].run;
		struct pingjob *pj = run_job(run)->priv;

		if (target_state(&pj->target) != TARGET_READY ||
		    !pingbot_same_shape(&pj->cfg, shape))
			continue; /* first lookup under way, or another shape */
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
	b->shape = *shape;
	b->runs = xreallocarray(NULL, k ? k : 1, sizeof(*b->runs));
	b->targets = xcalloc(k ? k : 1, sizeof(*b->targets));

	/* Move the taken runs into the batch in queue order and close the
	 * gaps they leave. */
	for (i = 0, k = 0; i < pb.n_queue; i++) {
		if (!take[i]) {
			pb.queue[k++] = pb.queue[i];
			continue;
		}
		b->runs[b->n++] = pb.queue[i].run;
	}
	pb.n_queue = k;
	free(cand);
	free(take);

	n_pk = b->n * (size_t)shape->n_packets;
	b->packets = xcalloc(n_pk ? n_pk : 1, sizeof(*b->packets));
	for (i = 0; i < b->n; i++) {
		struct pingjob *pj = run_job(b->runs[i])->priv;
		struct pinger_target *t = &b->targets[i];

		memcpy(t->addr, pj->target.addr, sizeof(t->addr));
		t->cfg = pj->cfg;
		t->packets = &b->packets[i * (size_t)shape->n_packets];
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
pingbot_dispatch(struct pingbot_batch *b)
{
	b->fly_next = pb.flying;
	pb.flying = b;
	pb.n_flying++;
	b->pool.targets = b->targets;
	b->pool.n = b->n;
	pingpool_submit(pb.pool, &b->pool);
}

/* The shape whose runs should go out now, or NULL; *next_ms is lowered to
 * when a shape that must wait has to go. */
static const struct pingcfg *
pingbot_due_shape(int64_t now_ms, int64_t *next_ms)
{
	struct pingbot_shape_state *st = pb.shapes;
	const struct pingcfg *due = NULL;
	size_t n_st = 0, i, j;
	struct pingbot_batch *b;

	for (i = 0; i < pb.n_queue; i++) {
		const struct pingjob *pj = run_job(pb.queue[i].run)->priv;

		if (target_state(&pj->target) != TARGET_READY)
			continue;
		for (j = 0; j < n_st; j++)
			if (pingbot_same_shape(st[j].shape, &pj->cfg))
				break;
		if (j == n_st) {
			if (n_st == pb.cap_shapes) {
				pb.cap_shapes =
				    pb.cap_shapes ? pb.cap_shapes * 2 : 8;
				st = pb.shapes = xreallocarray(
				    pb.shapes, pb.cap_shapes, sizeof(*st));
			}
			st[n_st].shape = &pj->cfg;
			st[n_st].by_ms = pb.queue[i].by_ms;
			st[n_st].n_flying = 0;
			for (b = pb.flying; b != NULL; b = b->fly_next)
				if (pingbot_same_shape(&b->shape, &pj->cfg))
					st[n_st].n_flying++;
			n_st++;
		} else if (pb.queue[i].by_ms < st[j].by_ms) {
			st[j].by_ms = pb.queue[i].by_ms;
		}
	}
	for (j = 0; j < n_st; j++) {
		if (st[j].n_flying == 0 || st[j].by_ms <= now_ms) {
			if (due == NULL)
				due = st[j].shape;
		} else if (st[j].by_ms < *next_ms) {
			*next_ms = st[j].by_ms;
		}
	}
	return due;
}

static void
pingbot_kick(struct timer *t, void *arg)
{
	const struct pingcfg *shape;
	int64_t now_ms = timer_now_ms(), next_ms = INT64_MAX;

	(void)t;
	(void)arg;
	pingbot_drop_unresolved();
	for (;;) {
		next_ms = INT64_MAX;
		shape = pingbot_due_shape(now_ms, &next_ms);
		if (shape == NULL)
			break;
		if (pingpool_busy(pb.pool) >= pingpool_max(pb.pool)) {
			log_warnx_limited(&pb.busy_lim, PINGBOT_WARN_MS,
			    "all %zu ping workers are busy; %zu runs wait for "
			    "one (PING_WORKERS)",
			    pingpool_max(pb.pool), pb.n_queue);
			return; /* kicked again when a batch ends */
		}
		pingbot_dispatch(pingbot_batch_take(shape));
	}
	if (next_ms != INT64_MAX)
		loop_timer_start(pb.loop, &pb.kick, next_ms - now_ms);
}

static void
pingbot_unfly(struct pingbot_batch *b)
{
	struct pingbot_batch **pp;

	for (pp = &pb.flying; *pp != NULL; pp = &(*pp)->fly_next) {
		if (*pp == b) {
			*pp = b->fly_next;
			pb.n_flying--;
			return;
		}
	}
}

/* A worker finished a batch. */
static void
pingbot_on_batch(struct pingpool_batch *pool_batch, void *arg)
{
	struct pingbot_batch *b = (struct pingbot_batch *)pool_batch;

	(void)arg;
	pingbot_unfly(b);
	pingbot_finish(b);
	if (pb.n_queue > 0)
		loop_timer_start(pb.loop, &pb.kick, 0);
}

/* A name got an answer (common/target.c did the rest): runs may be
 * waiting for the first one. */
static void
pingbot_on_target(struct target *t, int first, void *arg)
{
	(void)t;
	(void)arg;
	if (first && pb.n_queue > 0)
		loop_timer_start(pb.loop, &pb.kick, 0);
}

static const struct setting pingbot_settings[] = {
    {"PING_MAX_BATCH", "8192", 1, PINGBOT_MAX_BATCH,
        "most targets pinged together in one batch"},
    {"PING_WORKERS", "16", 1, PINGBOT_MAX_WORKERS,
        "most batches pinged at once, each on a thread of its own"},
    {NULL, NULL, 0, 0, NULL},
};

static int
pingbot_init(void)
{
	struct loop *l = bot_loop();
	size_t workers;
	int fd;

	/* liboping opens its raw sockets only in the first ping_send, so
	 * find out now, and say plainly what to do (FATAL, exit 1), instead
	 * of reporting every target down with a bare EPERM later. */
	if (caps_need_net_raw() == -1)
		return -1;
	fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	pb.have_ipv6 = fd != -1;
	if (fd != -1)
		close(fd);

	pb.max_batch = (size_t)settings_int(pingbot_settings, "PING_MAX_BATCH");
	workers = (size_t)settings_int(pingbot_settings, "PING_WORKERS");
	pb.loop = l;
	timer_init(&pb.kick, pingbot_kick, NULL);
	pb.pinger = pinger_new();
	pb.pool = pingpool_new(l, pb.pinger, workers, pingbot_on_batch, NULL);
	if (pb.pool == NULL)
		return -1;
	pb.targets = target_resolver_new(
	    l, PINGBOT_RESOLVER_THREADS, "pinging", pingbot_on_target, NULL);
	if (pb.targets == NULL)
		return -1;
	log_info("ICMP ready: IPv4%s; up to %zu targets per batch, %zu "
	         "batch%s at once",
	    pb.have_ipv6 ? " and IPv6" : " only (no IPv6 raw socket)",
	    pb.max_batch, workers, workers == 1 ? "" : "es");
	return 0;
}

static void
pingjob_free(void *priv)
{
	struct pingjob *pj = priv;

	target_release(&pj->target);
	free(pj);
}

static int
pingbot_job_prepare(struct job *job, char *err, size_t errlen)
{
	struct pingjob *pj;
	char msg[BOT_ERRLEN];

	pj = xcalloc(1, sizeof(*pj));
	if (pingcfg_parse_memo(
	        &pb.cred_memo, job->credential, &pj->cfg, err, errlen) != 0 ||
	    target_from_details(
	        &pj->target, job->id, job->details, "ping", err, errlen) != 0) {
		free(pj);
		return -1;
	}
	if (job->n_intervals > 0 &&
	    pingcfg_fit(&pj->cfg, job->intervals_s[0], msg, sizeof(msg)))
		log_warnx(
		    "job %lld (%s): %s", (long long)job->id, job->name, msg);
	/* A name is looked up at the job's first run, which waits for the
	 * answer, and again at every refresh; one that does not resolve
	 * keeps its job, reported down each run, as the device would be. */
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
		target_resolve(&pj->target, pb.targets);
}

static void
pingbot_job_run(struct run *run)
{
	const struct job *job = run_job(run);
	struct pingjob *pj = job->priv;
	int interval_s = job->n_intervals > 0 ? job->intervals_s[0] : 60;
	int64_t now_ms = timer_now_ms();

	if (target_state(&pj->target) == TARGET_WAITING)
		target_resolve(&pj->target, pb.targets);
	if (pb.n_queue == pb.cap_queue) {
		pb.cap_queue = pb.cap_queue ? pb.cap_queue * 2 : 64;
		pb.queue =
		    xreallocarray(pb.queue, pb.cap_queue, sizeof(*pb.queue));
	}
	pb.queue[pb.n_queue].run = run;
	pb.queue[pb.n_queue].by_ms =
	    now_ms + (int64_t)(pingcfg_slack_s(interval_s) * 1000);
	pb.n_queue++;
	log_debug("job %lld (%s): queued, %zu waiting", (long long)job->id,
	    pingbot_subject(run), pb.n_queue);
	/* Not moved when already due: every run due in this loop iteration
	 * then joins the same batch. */
	if (!timer_armed(&pb.kick) || pb.kick.deadline_ms > now_ms)
		loop_timer_start(pb.loop, &pb.kick, 0);
}

static void
pingbot_shutdown(void)
{
	struct pingbot_batch *b, *next;
	size_t i;

	/* Workers stopped first: the batches out are ours again.  One its
	 * worker finished still has good results; one cut short has partial
	 * ones, which would misreport loss. */
	pingpool_free(pb.pool);
	pb.pool = NULL;
	b = pb.flying;
	pb.flying = NULL;
	pb.n_flying = 0;
	for (; b != NULL; b = next) {
		next = b->fly_next;
		if (b->pool.done && !b->pool.rep.aborted) {
			pingbot_finish(b);
			continue;
		}
		for (i = 0; i < b->n; i++)
			run_done(b->runs[i]);
		pingbot_batch_free(b);
	}
	while (pb.n_queue > 0) {
		struct pingbot_wait *q = pb.queue;
		size_t n = pb.n_queue;

		/* Detached first: ending a run may queue another. */
		pb.queue = NULL;
		pb.n_queue = pb.cap_queue = 0;
		for (i = 0; i < n; i++)
			run_done(q[i].run);
		free(q);
	}
	free(pb.queue);
	pb.queue = NULL;
	pb.cap_queue = 0;
	free(pb.shapes);
	pb.shapes = NULL;
	pb.cap_shapes = 0;

	if (pb.loop != NULL)
		loop_timer_stop(pb.loop, &pb.kick);
	pinger_free(pb.pinger);
	pb.pinger = NULL;
	target_resolver_free(pb.targets);
	pb.targets = NULL;
	pingcfg_memo_clear(&pb.cred_memo);
	pb.loop = NULL;
}

const struct bot_ops pingbot_ops = {
    .name = "pingbot",
    .protocol = "ping",
    .summary = "pings the devices of the Grafolean \"ping\" protocol "
               "(ICMP echo, IPv4 and IPv6)",
    .settings = pingbot_settings,
    .init = pingbot_init,
    .job_prepare = pingbot_job_prepare,
    .job_unchanged = pingbot_job_unchanged,
    .job_run = pingbot_job_run,
    .shutdown = pingbot_shutdown,
};
