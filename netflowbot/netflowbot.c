/*
 * netflowbot's runtime hooks.  Everything runs on the loop thread: the UDP
 * socket (or a live capture) is drained when readable, each datagram is
 * decoded (nfmsg.c) and its flows go to the aggregation (nfagg.c) of every
 * account that has the exporter as a NetFlow entity.  The runtime makes
 * one job per account (bot_ops.account_intervals_s); each run of it takes
 * the values of the windows that closed and emits them with the window's
 * end as t.  With --pcap the capture is replayed at the first run, its
 * packet times being the clock, and every window still open at its end is
 * closed.
 */
#include "netflowbot.h"

#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "entsync.h"
#include "env.h"
#include "jobs.h"
#include "jsonx.h"
#include "log.h"
#include "loop.h"
#include "nfagg.h"
#include "nfexp.h"
#include "nfflow.h"
#include "nfmsg.h"
#include "nfpcap.h"
#include "nfpriv.h"
#include "nfsock.h"
#include "nfstate.h"
#include "nftpl.h"
#include "settings.h"
#include "timer.h"
#include "xmalloc.h"

#define NFBOT_MAX_HITS      16
#define NFBOT_MAX_OVERRIDES 256
#define NFBOT_WARN_MS       INT64_C(10000)
#define NFBOT_HOUSEKEEP_MS  INT64_C(60000)

/* An exporter address of an account's entity. */
struct nfbot_entity {
	uint8_t addr[16];
	int64_t id;
};

/* A job's parsed form (job->priv): one account and its exporters, sorted
 * by address.  Live ones are linked in nfbot.accts. */
struct nfbot_acct {
	struct nfbot_acct *prev, *next;
	int64_t account;
	struct nfbot_entity *ents;
	size_t n;
};

struct nfbot_aggslot {
	int64_t account;
	struct nfagg *agg;
};

struct nfbot_override {
	uint8_t addr[16];
	uint64_t rate;
};

struct nfbot_hit {
	struct nfagg *agg;
	int64_t entity;
};

/* One suggestion run in flight (its items' details live until the
 * callback). */
struct nfbot_suggest {
	struct nfbot_suggest *next;
	struct json_object **details;
	char **names;
	size_t n;
};

struct nfbot_cfg {
	const char *pcap_file; /* --pcap */
	const char *pcap_live; /* --pcap-live */
	const char *user;      /* --user, else NETFLOW_USER */
	const char *pcap_filter;
	const char *bind;
	int port;
	int rcvbuf;
	uint64_t sampling;
	struct nfbot_override overrides[NFBOT_MAX_OVERRIDES];
	size_t n_overrides;
	struct nftpl_limits tpl;
	struct nfagg_limits agg;
	size_t max_exporters;
	uint64_t max_rate; /* datagrams per second per exporter */
	int64_t stats_ms;
	int64_t suggest_ms;
	const char *state_file;
	int64_t state_ms;
	int64_t read_pace_ms;
};

static struct nfbot {
	struct nfbot_cfg cfg;
	struct loop *loop;
	struct nfsock *sock;
	struct nfpcap_live *live;
	struct nftpl_cache *cache;
	struct nfexp_table *exps;
	struct nfstats st;
	struct nfbot_acct *accts;
	struct nfbot_aggslot *aggs;
	size_t n_aggs;
	int pcap_done;
	uint64_t unmatched_flows;
	struct timer housekeep, stats, checkpoint;
	struct timer reread;  /* the next read of a paced socket */
	int64_t last_read_ms; /* when a read last found datagrams */
	int64_t pace_ms;      /* the wait before the next read, 0: none */
	int watching;         /* the socket is in the loop's poll set */
	struct entsync *es;
	struct nfbot_suggest *suggests;
	int64_t next_suggest_ms;
} nfbot;

/* The account job's intervals: the windows, plus the emit check interval
 * (NETFLOW_EMIT_INTERVAL, set in init before the first refresh), so a
 * closed window is posted at most that long after its end. */
static int nfbot_windows[] = {10, 60, 900, 3600, 14400, 86400};

/* --- flags ------------------------------------------------------------ */

static int
nfbot_flag_pcap(const char *arg)
{
	nfbot.cfg.pcap_file = arg;
	return 0;
}

static int
nfbot_flag_pcap_live(const char *arg)
{
	nfbot.cfg.pcap_live = arg;
	return 0;
}

static int
nfbot_flag_user(const char *arg)
{
	nfbot.cfg.user = arg;
	return 0;
}

static const struct bot_flag nfbot_flags[] = {
    {"pcap", 1, nfbot_flag_pcap},
    {"pcap-live", 1, nfbot_flag_pcap_live},
    {"user", 1, nfbot_flag_user},
};

/* --- jobs -------------------------------------------------------------- */

static int
nfbot_ent_cmp(const void *a, const void *b)
{
	const struct nfbot_entity *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 16);

	if (c != 0)
		return c;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void
nfbot_acct_free(void *p)
{
	struct nfbot_acct *a = p;

	if (a->prev != NULL)
		a->prev->next = a->next;
	else if (nfbot.accts == a)
		nfbot.accts = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	free(a->ents);
	free(a);
}

static void
nfbot_add_addr(struct nfbot_acct *a, const char *text, int64_t id)
{
	uint8_t addr[16];

	if (text == NULL || nfexp_addr_parse(text, addr) == -1)
		return;
	a->ents = xreallocarray(a->ents, a->n + 1, sizeof(*a->ents));
	memcpy(a->ents[a->n].addr, addr, 16);
	a->ents[a->n].id = id;
	a->n++;
}

static int
nfbot_job_prepare(struct job *job, char *err, size_t errlen)
{
	struct nfbot_acct *a;
	size_t i, n;

	if (job->details == NULL ||
	    !json_object_is_type(job->details, json_type_array)) {
		snprintf(err, errlen, "account job without an entity list");
		return -1;
	}
	a = xcalloc(1, sizeof(*a));
	a->account = job->account_id;
	n = json_object_array_length(job->details);
	for (i = 0; i < n; i++) {
		struct json_object *e =
		    json_object_array_get_idx(job->details, i);
		struct json_object *d = NULL;
		int64_t id = jsonx_int(e, "id");

		if (id <= 0 || !json_object_object_get_ex(e, "details", &d))
			continue;
		nfbot_add_addr(a, jsonx_str(d, "ipv4"), id);
		nfbot_add_addr(a, jsonx_str(d, "ipv6"), id);
	}
	if (a->n == 0) {
		free(a->ents);
		free(a);
		snprintf(err, errlen,
		    "no entity has an IPv4 or IPv6 address in details");
		return -1;
	}
	qsort(a->ents, a->n, sizeof(*a->ents), nfbot_ent_cmp);
	/* newest first: matching prefers the newest job of an account */
	a->next = nfbot.accts;
	if (nfbot.accts != NULL)
		nfbot.accts->prev = a;
	nfbot.accts = a;
	job->priv = a;
	job->priv_free = nfbot_acct_free;
	log_info("account %lld: %zu NetFlow exporter address%s",
	    (long long)a->account, a->n, a->n == 1 ? "" : "es");
	return 0;
}

static struct nfagg *
nfbot_agg(int64_t account)
{
	size_t i;

	for (i = 0; i < nfbot.n_aggs; i++)
		if (nfbot.aggs[i].account == account)
			return nfbot.aggs[i].agg;
	nfbot.aggs =
	    xreallocarray(nfbot.aggs, nfbot.n_aggs + 1, sizeof(*nfbot.aggs));
	nfbot.aggs[i].account = account;
	nfbot.aggs[i].agg = nfagg_new(account, &nfbot.cfg.agg);
	nfbot.n_aggs++;
	return nfbot.aggs[i].agg;
}

/* The (aggregation, entity) pairs an exporter's flows go to: one per
 * account (its newest job), every entity with that address. */
static size_t
nfbot_match(const uint8_t addr[16], struct nfbot_hit *hits)
{
	struct nfbot_acct *a;
	size_t n = 0, j;

	for (a = nfbot.accts; a != NULL; a = a->next) {
		size_t lo = 0, hi = a->n, k;
		int seen = 0;

		for (j = 0; j < n; j++)
			seen |= nfagg_account(hits[j].agg) == a->account;
		if (seen)
			continue;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (memcmp(a->ents[mid].addr, addr, 16) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (k = lo;
		     k < a->n && memcmp(a->ents[k].addr, addr, 16) == 0 &&
		     n < NFBOT_MAX_HITS;
		     k++) {
			hits[n].agg = nfbot_agg(a->account);
			hits[n].entity = a->ents[k].id;
			n++;
		}
	}
	return n;
}

/* --- datagrams ---------------------------------------------------------- */

/* What a datagram's sender maps to, looked up once per sender and
 * reused for the following datagrams of the same recvmmsg batch (jobs
 * and exporters cannot change within one batch). */
struct nfbot_src {
	uint8_t addr[16];
	struct nfexp *exp;
	struct nfbot_hit hits[NFBOT_MAX_HITS];
	size_t n_hits;
	uint64_t sampling;
};

struct nfbot_dg {
	const struct nfbot_src *src;
	int64_t now_s;
};

static void
nfbot_on_flow(const struct nfflow *f, void *arg)
{
	struct nfbot_dg *dg = arg;
	const struct nfbot_src *s = dg->src;
	size_t i;

	s->exp->flows++;
	if (s->n_hits == 0) {
		s->exp->unmatched_flows++;
		nfbot.unmatched_flows++;
		return;
	}
	for (i = 0; i < s->n_hits; i++)
		nfagg_add(s->hits[i].agg, s->hits[i].entity, f, dg->now_s);
}

static uint64_t
nfbot_sampling_for(const uint8_t addr[16])
{
	size_t i;

	for (i = 0; i < nfbot.cfg.n_overrides; i++)
		if (memcmp(nfbot.cfg.overrides[i].addr, addr, 16) == 0)
			return nfbot.cfg.overrides[i].rate;
	return nfbot.cfg.sampling;
}

/* Fills s for sender addr: its exporter (-1 when the table is full), the
 * (account, entity) pairs its flows go to and its sampling override. */
static int
nfbot_src_lookup(struct nfbot_src *s, const uint8_t addr[16])
{
	memcpy(s->addr, addr, 16);
	s->exp = nfexp_get(nfbot.exps, addr);
	if (s->exp == NULL) {
		static struct log_limit lim;

		log_warnx_limited(&lim, NFBOT_WARN_MS,
		    "more than %zu exporters: datagrams of new ones are "
		    "ignored (NETFLOW_MAX_EXPORTERS)",
		    nfbot.cfg.max_exporters);
		return -1;
	}
	s->n_hits = nfbot_match(addr, s->hits);
	if (s->n_hits == 0 && !s->exp->told_unknown) {
		s->exp->told_unknown = 1;
		log_info("exporter %s is not a NetFlow entity of any account: "
		         "its flows are counted, not aggregated",
		    s->exp->text);
	}
	s->sampling = nfbot_sampling_for(addr);
	return 0;
}

/* Decodes one export datagram from the sender s, received at now
 * (seconds, wall clock; now_ms on the monotonic clock). */
static void
nfbot_decode(const struct nfbot_src *s, const uint8_t *data, size_t len,
    double now, int64_t now_ms)
{
	struct nfbot_dg dg;
	struct nfdecode d;
	char err[160];
	struct nfexp *e = s->exp;

	if (nfbot.cfg.pcap_file == NULL &&
	    !nfexp_allow(e, nfbot.cfg.max_rate, now_ms)) {
		log_warnx_limited(&e->lim, NFBOT_WARN_MS,
		    "exporter %s: more than %llu datagrams/s; %llu not parsed "
		    "(NETFLOW_MAX_DATAGRAMS_PER_S)",
		    e->text, (unsigned long long)nfbot.cfg.max_rate,
		    (unsigned long long)e->limited);
		return;
	}
	e->datagrams++;
	e->last_s = (int64_t)now;
	dg.src = s;
	dg.now_s = (int64_t)now;
	memset(&d, 0, sizeof(d));
	err[0] = '\0';
	d.exporter = s->addr;
	d.now_s = (int64_t)now;
	d.cache = nfbot.cache;
	d.sampling_override = s->sampling;
	d.cb = nfbot_on_flow;
	d.arg = &dg;
	d.st = &nfbot.st;
	d.err = err;
	d.errlen = sizeof(err);
	if (nfmsg_decode(data, len, &d) < 0 || err[0] != '\0') {
		if (err[0] != '\0')
			e->malformed++;
		log_warnx_limited(&e->lim, NFBOT_WARN_MS, "exporter %s: %s",
		    e->text, err[0] ? err : "datagram refused");
	}
}

/* Decodes one export datagram from src received at now_s. */
static void
nfbot_datagram(
    const uint8_t src[16], const uint8_t *data, size_t len, double now)
{
	struct nfbot_src s;

	if (nfbot_src_lookup(&s, src) == 0)
		nfbot_decode(&s, data, len, now, timer_now_ms());
}

/* One recvmmsg batch: the clocks are read once, a sender is looked up
 * once for its run of datagrams. */
static void
nfbot_on_udp(const struct nfsock_dgram *dg, size_t n, void *arg)
{
	struct nfbot_src s;
	int have = 0;
	double now = timer_wall_s();
	int64_t now_ms = timer_now_ms();
	size_t i;

	(void)arg;
	for (i = 0; i < n; i++) {
		if (!have || memcmp(s.addr, dg[i].src, 16) != 0) {
			if (nfbot_src_lookup(&s, dg[i].src) == -1) {
				have = 0;
				continue;
			}
			have = 1;
		}
		nfbot_decode(&s, dg[i].data, dg[i].len, now, now_ms);
	}
}

static void nfbot_on_readable(int fd, int revents, void *arg);

/* recvmmsg calls per read at most (then the loop runs its timers) */
#define NFBOT_DRAIN_CALLS 64

/* Shortens a wait so the socket is read just before the next minute
 * boundary (every window ends on one): a flow is then aggregated into
 * the window it arrived in, as without pacing. */
static int64_t
nfbot_pace_before_minute(int64_t pace)
{
	int64_t wall_ms, to_edge;

	if (pace <= 0)
		return pace;
	wall_ms = (int64_t)(timer_wall_s() * 1000.0);
	to_edge = 60000 - wall_ms % 60000;
	if (pace > to_edge - 2)
		pace = to_edge - 2 > 0 ? to_edge - 2 : 0;
	return pace;
}

/* Reads what is queued, then either watches the socket again or, when
 * datagrams keep coming, leaves it unread for a while (nfsock_pace_ms;
 * the wait grows from 1 ms by doubling and starts over after a second
 * without datagrams) so each read takes a large batch: fewer wake-ups
 * and warmer caches per flow.  A paced read that finds nothing goes back
 * to waiting for the socket, keeping the wait for the next datagram. */
static void
nfbot_udp_read(void)
{
	int64_t now = timer_now_ms(), pace = 0;
	uint64_t cost = nfsock_cost(nfbot.sock);
	size_t got =
	    nfsock_drain(nfbot.sock, NFBOT_DRAIN_CALLS, nfbot_on_udp, NULL);

	if (got > 0) {
		int64_t since = now - nfbot.last_read_ms;

		if (since > 1000)
			nfbot.pace_ms = 0; /* idle: start small again */
		if (got < (size_t)NFBOT_DRAIN_CALLS * NFSOCK_BATCH) {
			pace = nfsock_pace_ms(nfsock_rcvbuf(nfbot.sock),
			    nfsock_cost(nfbot.sock) - cost, since,
			    nfbot.cfg.read_pace_ms);
			if (pace > 2 * nfbot.pace_ms + 1)
				pace = 2 * nfbot.pace_ms + 1;
		}
		nfbot.pace_ms = pace;
		pace = nfbot_pace_before_minute(pace);
		nfbot.last_read_ms = now;
	}
	if (pace > 0) {
		if (nfbot.watching)
			loop_unwatch(nfbot.loop, nfsock_fd(nfbot.sock));
		nfbot.watching = 0;
		loop_timer_start(nfbot.loop, &nfbot.reread, pace);
	} else if (!nfbot.watching) {
		loop_watch(nfbot.loop, nfsock_fd(nfbot.sock), POLLIN,
		    nfbot_on_readable, NULL);
		nfbot.watching = 1;
	}
}

static void
nfbot_on_reread(struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
	nfbot_udp_read();
}

static void
nfbot_on_readable(int fd, int revents, void *arg)
{
	(void)fd;
	(void)revents;
	(void)arg;
	nfbot_udp_read();
}

static void
nfbot_on_packet(const struct nfpcap_dgram *dg, void *arg)
{
	int use_ts = *(int *)arg;

	nfbot_datagram(
	    dg->src, dg->payload, dg->len, use_ts ? dg->ts : timer_wall_s());
}

static void
nfbot_on_live(int fd, int revents, void *arg)
{
	int use_ts = 0;

	(void)fd;
	(void)revents;
	(void)arg;
	if (nfpcap_live_drain(nfbot.live, nfbot_on_packet, &use_ts) == -1)
		log_warnx("--pcap-live: capture failed");
}

/* Replays the capture with its own clock, then closes every window. */
static void
nfbot_replay(void)
{
	char err[256];
	int use_ts = 1;
	long n;
	size_t i;

	nfbot.pcap_done = 1;
	n = nfpcap_replay(nfbot.cfg.pcap_file, nfbot.cfg.pcap_filter,
	    nfbot_on_packet, &use_ts, err, sizeof(err));
	if (n < 0) {
		log_warnx("--pcap: %s", err);
		return;
	}
	for (i = 0; i < nfbot.n_aggs; i++)
		nfagg_flush(nfbot.aggs[i].agg);
	log_info("--pcap %s: %ld datagrams, %llu flows (%llu from unknown "
	         "exporters), %llu malformed, %llu without template",
	    nfbot.cfg.pcap_file, n, (unsigned long long)nfbot.st.flows,
	    (unsigned long long)nfbot.unmatched_flows,
	    (unsigned long long)nfbot.st.malformed,
	    (unsigned long long)nfbot.st.no_template);
}

/* --- runs --------------------------------------------------------------- */

static void
nfbot_job_run(struct run *run)
{
	struct job *job = run_job(run);
	struct nfbot_acct *a = job->priv;
	struct nfagg_value *v;
	struct nfagg *agg;
	size_t n, i;

	if (nfbot.cfg.pcap_file != NULL && !nfbot.pcap_done)
		nfbot_replay();
	agg = nfbot_agg(a->account);
	if (nfbot.cfg.pcap_file == NULL)
		nfagg_advance(agg, (int64_t)timer_wall_s());
	n = nfagg_take(agg, &v);
	for (i = 0; i < n; i++) {
		run_emit_at(run, v[i].path, v[i].v, v[i].t);
		free(v[i].path);
	}
	free(v);
	if (nfagg_dropped(agg) > 0)
		log_debug("account %lld: %llu values dropped (queue full)",
		    (long long)a->account,
		    (unsigned long long)nfagg_dropped(agg));
	run_done(run);
}

/* --- exporter suggestions --------------------------------------------- */

static void
nfbot_suggest_free(struct nfbot_suggest *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		json_object_put(s->details[i]);
		free(s->names[i]);
	}
	free(s->details);
	free(s->names);
	free(s);
}

static void
nfbot_on_suggested(const struct entsync_result *res, void *arg)
{
	struct nfbot_suggest *s = arg, **pp;

	if (res->created > 0)
		log_info("suggested %zu NetFlow exporter%s as entities",
		    res->created, res->created == 1 ? "" : "s");
	for (pp = &nfbot.suggests; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	nfbot_suggest_free(s);
}

struct nfbot_unknown {
	struct nfbot_suggest *s;
	int v4;
};

static void
nfbot_collect_unknown(struct nfexp *e, void *arg)
{
	struct nfbot_unknown *u = arg;
	struct nfbot_hit hits[NFBOT_MAX_HITS];

	if (e->flows == 0 || e->is_v4 != u->v4 || e->text[0] == '\0' ||
	    nfbot_match(e->addr, hits) > 0)
		return;
	u->s->details =
	    xreallocarray(u->s->details, u->s->n + 1, sizeof(*u->s->details));
	u->s->names =
	    xreallocarray(u->s->names, u->s->n + 1, sizeof(*u->s->names));
	u->s->details[u->s->n] = json_object_new_object();
	json_object_object_add(u->s->details[u->s->n], u->v4 ? "ipv4" : "ipv6",
	    json_object_new_string(e->text));
	u->s->names[u->s->n] = xasprintf("%s (NetFlow exporter)", e->text);
	u->s->n++;
}

static void
nfbot_suggest_account(int64_t account, int v4)
{
	struct nfbot_unknown u;
	struct entsync_item *items;
	struct entsync_spec spec;
	size_t i;

	u.s = xcalloc(1, sizeof(*u.s));
	u.v4 = v4;
	nfexp_each(nfbot.exps, nfbot_collect_unknown, &u);
	if (u.s->n == 0) {
		nfbot_suggest_free(u.s);
		return;
	}
	items = xreallocarray(NULL, u.s->n, sizeof(*items));
	for (i = 0; i < u.s->n; i++) {
		items[i].name = u.s->names[i];
		items[i].details = u.s->details[i];
	}
	memset(&spec, 0, sizeof(spec));
	spec.account_id = account;
	spec.parent = -1;
	spec.entity_type = "device";
	spec.key_member = v4 ? "ipv4" : "ipv6";
	spec.mode = ENTSYNC_SUGGEST;
	if (entsync_run(
	        nfbot.es, &spec, items, u.s->n, nfbot_on_suggested, u.s) == 0) {
		u.s->next = nfbot.suggests;
		nfbot.suggests = u.s;
	} else {
		nfbot_suggest_free(u.s);
	}
	free(items);
}

static void
nfbot_suggest(void)
{
	struct nfbot_acct *a;

	if (nfbot.es == NULL || nfbot.suggests != NULL)
		return; /* the previous round is still under way */
	for (a = nfbot.accts; a != NULL; a = a->next) {
		if (entsync_refused(nfbot.es, a->account))
			continue;
		nfbot_suggest_account(a->account, 1);
		nfbot_suggest_account(a->account, 0);
	}
}

/* --- housekeeping --------------------------------------------------------- */

static void
nfbot_on_housekeep(struct timer *t, void *arg)
{
	(void)arg;
	nftpl_expire(nfbot.cache, (int64_t)timer_wall_s(), &nfbot.st);
	if (nfbot.cfg.suggest_ms > 0 &&
	    timer_now_ms() >= nfbot.next_suggest_ms) {
		nfbot.next_suggest_ms = timer_now_ms() + nfbot.cfg.suggest_ms;
		nfbot_suggest();
	}
	loop_timer_start(nfbot.loop, t,
	    nfbot.cfg.suggest_ms > 0 &&
	            nfbot.cfg.suggest_ms < NFBOT_HOUSEKEEP_MS
	        ? nfbot.cfg.suggest_ms
	        : NFBOT_HOUSEKEEP_MS);
}

static void
nfbot_log_stats(void)
{
	log_info("netflow: %llu datagrams, %llu flows (%llu from unknown "
	         "exporters), %llu malformed, %llu without template, %zu "
	         "templates (%zu bytes), %zu exporters, kernel drops %llu",
	    (unsigned long long)nfbot.st.datagrams,
	    (unsigned long long)nfbot.st.flows,
	    (unsigned long long)nfbot.unmatched_flows,
	    (unsigned long long)nfbot.st.malformed,
	    (unsigned long long)nfbot.st.no_template,
	    nftpl_cache_count(nfbot.cache), nftpl_cache_bytes(nfbot.cache),
	    nfexp_count(nfbot.exps),
	    (unsigned long long)(nfbot.sock ? nfsock_drops(nfbot.sock)
	            : nfbot.live            ? nfpcap_live_drops(nfbot.live)
	                                    : 0));
}

/* The collector's counters on the Prometheus output's /metrics. */
static void
nfbot_metrics(struct buf *out)
{
	static const char *const help[][2] = {
	    {"datagrams", "export datagrams parsed"},
	    {"flows", "flow records decoded"},
	    {"unknown_exporter_flows",
	        "flows from exporters that are no "
	        "entity"},
	    {"malformed", "datagrams or sets rejected as malformed"},
	    {"no_template", "data sets whose template was unknown"},
	    {"kernel_drops",
	        "datagrams the kernel dropped (receive buffer "
	        "full)"},
	};
	uint64_t v[6];
	size_t i;

	v[0] = nfbot.st.datagrams;
	v[1] = nfbot.st.flows;
	v[2] = nfbot.unmatched_flows;
	v[3] = nfbot.st.malformed;
	v[4] = nfbot.st.no_template;
	v[5] = nfbot.sock ? nfsock_drops(nfbot.sock)
	    : nfbot.live  ? nfpcap_live_drops(nfbot.live)
	                  : 0;
	for (i = 0; i < 6; i++)
		if (buf_printf(out,
		        "# HELP grafolean_netflow_%s_total NetFlow: %s.\n"
		        "# TYPE grafolean_netflow_%s_total counter\n"
		        "grafolean_netflow_%s_total{bot=\"netflowbot\"} %llu\n",
		        help[i][0], help[i][1], help[i][0], help[i][0],
		        (unsigned long long)v[i]) == -1)
			return;
}

static void
nfbot_on_stats(struct timer *t, void *arg)
{
	(void)arg;
	nfbot_log_stats();
	loop_timer_start(nfbot.loop, t, nfbot.cfg.stats_ms);
}

/* --- checkpoint --------------------------------------------------------- */

static void
nfbot_save_state(void)
{
	struct nfagg **aggs;
	char err[256];
	size_t i;

	if (nfbot.cfg.state_file == NULL || nfbot.cfg.pcap_file != NULL)
		return;
	aggs = xreallocarray(NULL, nfbot.n_aggs + 1, sizeof(*aggs));
	for (i = 0; i < nfbot.n_aggs; i++)
		aggs[i] = nfbot.aggs[i].agg;
	if (nfstate_save(nfbot.cfg.state_file, aggs, nfbot.n_aggs, err,
	        sizeof(err)) == -1)
		log_warnx("checkpoint: %s", err);
	free(aggs);
}

static void
nfbot_on_checkpoint(struct timer *t, void *arg)
{
	(void)arg;
	nfbot_save_state();
	loop_timer_start(nfbot.loop, t, nfbot.cfg.state_ms);
}

static void
nfbot_load_state(void)
{
	struct nfagg **aggs;
	char err[256];
	size_t n, i;
	int rc;

	rc = nfstate_load(
	    nfbot.cfg.state_file, &nfbot.cfg.agg, &aggs, &n, err, sizeof(err));
	if (rc == 1) {
		log_info(
		    "checkpoint: %s does not exist yet", nfbot.cfg.state_file);
		return;
	}
	if (rc == -1) {
		log_warnx(
		    "checkpoint %s ignored: %s", nfbot.cfg.state_file, err);
		return;
	}
	for (i = 0; i < n; i++) {
		nfbot.aggs = xreallocarray(
		    nfbot.aggs, nfbot.n_aggs + 1, sizeof(*nfbot.aggs));
		nfbot.aggs[nfbot.n_aggs].account = nfagg_account(aggs[i]);
		nfbot.aggs[nfbot.n_aggs].agg = aggs[i];
		nfbot.n_aggs++;
	}
	free(aggs);
	log_info("checkpoint: restored the windows of %zu account%s from %s", n,
	    n == 1 ? "" : "s", nfbot.cfg.state_file);
}

/* --- settings and start-up ---------------------------------------------- */

/* "addr=rate,addr=rate" */
static void
nfbot_parse_overrides(const char *text)
{
	char *copy, *p, *next;

	if (text == NULL)
		return;
	copy = xstrdup(text);
	for (p = copy; p != NULL && *p != '\0'; p = next) {
		char *eq, err[128];
		int64_t rate;
		struct nfbot_override *o;

		next = strchr(p, ',');
		if (next != NULL)
			*next++ = '\0';
		eq = strchr(p, '=');
		if (eq == NULL)
			fatalx("NETFLOW_SAMPLING_OVERRIDES: \"%s\" is not "
			       "ADDRESS=RATE",
			    p);
		*eq = '\0';
		if (nfbot.cfg.n_overrides == NFBOT_MAX_OVERRIDES)
			fatalx("NETFLOW_SAMPLING_OVERRIDES: more than %d",
			    NFBOT_MAX_OVERRIDES);
		o = &nfbot.cfg.overrides[nfbot.cfg.n_overrides];
		if (nfexp_addr_parse(env_trim(p), o->addr) == -1)
			fatalx("NETFLOW_SAMPLING_OVERRIDES: \"%s\" is not an "
			       "IP address",
			    p);
		if (env_parse_int(env_trim(eq + 1), 1, 1000000000, &rate, err,
		        sizeof(err)) == -1)
			fatalx("NETFLOW_SAMPLING_OVERRIDES: %s: %s", p, err);
		o->rate = (uint64_t)rate;
		nfbot.cfg.n_overrides++;
	}
	free(copy);
}

static const struct setting nfbot_settings[] = {
    {"NETFLOW_PORT", "2055", 0, 65535, "UDP port for exports (0 = any)"},
    {"NETFLOW_BIND", NULL, 0, 0,
        "address to listen on (unset: all, IPv6 and IPv4)"},
    {"NETFLOW_RCVBUF", "33554432", 4096, 1 << 30,
        "socket receive buffer, bytes (SO_RCVBUFFORCE when allowed)"},
    {"NETFLOW_READ_PACE_MS", "100", 0, 1000,
        "longest wait (ms) before reading a busy UDP socket again, so "
        "reads take large batches; bounded by the receive buffer (a "
        "quarter of it at most, none below 4 MiB), ends before each "
        "minute boundary (0 = read at once)"},
    {"NETFLOW_PCAP_FILTER", "udp", 0, 0,
        "BPF filter for --pcap and --pcap-live"},
    {"NETFLOW_SAMPLING_RATE", "0", 0, 1000000000,
        "take every exporter's sampling rate as this (0 = from the "
        "exports: v5 header, options data IE 34/35/305/306/48/302)"},
    {"NETFLOW_SAMPLING_OVERRIDES", NULL, 0, 0,
        "per exporter sampling rates: ADDR=RATE,ADDR=RATE"},
    {"NETFLOW_TEMPLATE_TTL", "1800", 1, 86400 * 7,
        "seconds a template lives unrefreshed"},
    {"NETFLOW_MAX_SOURCES", "1024", 1, 1 << 20,
        "(exporter, source id or domain) pairs with templates"},
    {"NETFLOW_MAX_TEMPLATES_PER_SOURCE", "512", 1, 65536,
        "templates per (exporter, source id or domain)"},
    {"NETFLOW_TEMPLATE_MAX_BYTES", "16777216", 65536, INT64_C(1) << 34,
        "memory for templates; the least recently refreshed are evicted "
        "first"},
    {"NETFLOW_MAX_EXPORTERS", "1024", 1, 1 << 20,
        "exporters tracked; newer ones are ignored (counted, logged)"},
    {"NETFLOW_MAX_DATAGRAMS_PER_S", "100000", 0, 100000000,
        "datagrams parsed per exporter and second, bursts of one "
        "second's worth (0 = no limit; not for --pcap)"},
    {"NETFLOW_TOP_KEYS", "512", 16, 1 << 20,
        "exact distinct keys per top list and window, then Space-Saving"},
    {"NETFLOW_MAX_INTERFACES", "64", 1, 65536,
        "interfaces per entity and window"},
    {"NETFLOW_EMIT_INTERVAL", "10", 1, 60,
        "seconds between checks for closed windows, whose values are "
        "then posted with the window's end as t"},
    {"NETFLOW_STATE_FILE", NULL, 0, 0,
        "checkpoint of the open windows, written every "
        "NETFLOW_STATE_INTERVAL and at exit, read at start (unset: none; "
        "a corrupt file is reported and ignored)"},
    {"NETFLOW_STATE_INTERVAL", "60", 1, 86400, "seconds between checkpoints"},
    {"NETFLOW_STATS_INTERVAL", "60", 0, 86400,
        "seconds between counter lines (0 = off)"},
    {"NETFLOW_SUGGEST_INTERVAL", "120", 0, 86400,
        "seconds between suggestions of unknown exporters as entities "
        "(0 = off; systemwide bots only)"},
    {"NETFLOW_USER", NULL, 0, 0,
        "user to switch to once the socket is bound (or the live capture "
        "open), e.g. nobody, so a port below 1024 works without staying "
        "root; --user overrides it (unset: keep the ids started with; "
        "uid 0 is refused)"},
    {NULL, NULL, 0, 0, NULL},
};

static void
nfbot_read_env(void)
{
	const struct setting *t = nfbot_settings;
	struct nfbot_cfg *c = &nfbot.cfg;

	c->port = (int)settings_int(t, "NETFLOW_PORT");
	c->bind = settings_str(t, "NETFLOW_BIND");
	c->rcvbuf = (int)settings_int(t, "NETFLOW_RCVBUF");
	c->pcap_filter = settings_str(t, "NETFLOW_PCAP_FILTER");
	c->sampling = (uint64_t)settings_int(t, "NETFLOW_SAMPLING_RATE");
	nfbot_parse_overrides(settings_str(t, "NETFLOW_SAMPLING_OVERRIDES"));
	nftpl_limits_defaults(&c->tpl);
	c->tpl.ttl_s = settings_int(t, "NETFLOW_TEMPLATE_TTL");
	c->tpl.max_sources = (size_t)settings_int(t, "NETFLOW_MAX_SOURCES");
	c->tpl.max_per_source =
	    (size_t)settings_int(t, "NETFLOW_MAX_TEMPLATES_PER_SOURCE");
	c->tpl.max_bytes =
	    (size_t)settings_int(t, "NETFLOW_TEMPLATE_MAX_BYTES");
	nfagg_limits_defaults(&c->agg);
	c->agg.top_keys = (uint32_t)settings_int(t, "NETFLOW_TOP_KEYS");
	c->agg.max_ifaces = (uint32_t)settings_int(t, "NETFLOW_MAX_INTERFACES");
	c->max_exporters = (size_t)settings_int(t, "NETFLOW_MAX_EXPORTERS");
	c->max_rate = (uint64_t)settings_int(t, "NETFLOW_MAX_DATAGRAMS_PER_S");
	c->stats_ms = 1000 * settings_int(t, "NETFLOW_STATS_INTERVAL");
	c->suggest_ms = 1000 * settings_int(t, "NETFLOW_SUGGEST_INTERVAL");
	nfbot_windows[0] = (int)settings_int(t, "NETFLOW_EMIT_INTERVAL");
	c->state_file = settings_str(t, "NETFLOW_STATE_FILE");
	c->state_ms = 1000 * settings_int(t, "NETFLOW_STATE_INTERVAL");
	c->read_pace_ms = settings_int(t, "NETFLOW_READ_PACE_MS");
	if (c->user == NULL)
		c->user = settings_str(t, "NETFLOW_USER");
}

/* After the privileged set-up; any failure ends the process (it may be
 * half switched, and running as root was not what was asked). */
static void
nfbot_drop_privileges(void)
{
	char err[256];
	uid_t uid;
	gid_t gid;

	if (nfbot.cfg.user == NULL)
		return;
	if (nfpriv_drop(nfbot.cfg.user, &uid, &gid, err, sizeof(err)) == -1)
		fatalx("cannot switch to user %s (--user/NETFLOW_USER): %s",
		    nfbot.cfg.user, err);
	log_info("privileges dropped: now running as user %s, uid %lu, "
	         "gid %lu",
	    nfbot.cfg.user, (unsigned long)uid, (unsigned long)gid);
}

static int
nfbot_init(void)
{
	struct loop *l = bot_loop();
	char err[256];

	nfbot.loop = l;
	nfbot_read_env();
	nfbot.cache = nftpl_cache_new(&nfbot.cfg.tpl);
	nfbot.exps = nfexp_table_new(nfbot.cfg.max_exporters);
	if (nfbot.cfg.pcap_file != NULL && nfbot.cfg.pcap_live != NULL) {
		log_warnx("--pcap and --pcap-live exclude each other");
		return -1;
	}
	if (nfbot.cfg.pcap_file != NULL) {
		log_info("input: capture file %s (filter \"%s\"), replayed at "
		         "the first run with its own packet times",
		    nfbot.cfg.pcap_file, nfbot.cfg.pcap_filter);
	} else if (nfbot.cfg.pcap_live != NULL) {
		nfbot.live = nfpcap_live_open(nfbot.cfg.pcap_live,
		    nfbot.cfg.pcap_filter, err, sizeof(err));
		if (nfbot.live == NULL) {
			log_warnx("--pcap-live: %s", err);
			return -1;
		}
		loop_watch(
		    l, nfpcap_live_fd(nfbot.live), POLLIN, nfbot_on_live, NULL);
		log_info("input: live capture on %s (filter \"%s\")",
		    nfbot.cfg.pcap_live, nfbot.cfg.pcap_filter);
	} else {
		nfbot.sock = nfsock_open(nfbot.cfg.bind, nfbot.cfg.port,
		    nfbot.cfg.rcvbuf, err, sizeof(err));
		if (nfbot.sock == NULL) {
			log_warnx("NETFLOW_PORT: %s", err);
			return -1;
		}
		timer_init(&nfbot.reread, nfbot_on_reread, NULL);
		loop_watch(
		    l, nfsock_fd(nfbot.sock), POLLIN, nfbot_on_readable, NULL);
		nfbot.watching = 1;
		nfbot.last_read_ms = timer_now_ms();
		log_info("input: UDP port %d on %s, receive buffer %d bytes%s",
		    nfsock_port(nfbot.sock),
		    nfbot.cfg.bind ? nfbot.cfg.bind : "all addresses",
		    nfsock_rcvbuf(nfbot.sock),
		    nfsock_rcvbuf(nfbot.sock) < nfbot.cfg.rcvbuf
		        ? " (less than NETFLOW_RCVBUF: raise "
		          "net.core.rmem_max or grant CAP_NET_ADMIN)"
		        : "");
	}
	nfbot_drop_privileges();
	if (nfbot.cfg.sampling > 0)
		log_info("sampling: every exporter's rate is taken as %llu",
		    (unsigned long long)nfbot.cfg.sampling);
	if (bot_backend() != NULL && nfbot.cfg.suggest_ms > 0) {
		nfbot.es =
		    entsync_new(bot_backend(), "NetFlow exporter suggestion");
		log_info("exporter suggestions every %lld s",
		    (long long)(nfbot.cfg.suggest_ms / 1000));
	}
	nfbot.next_suggest_ms = timer_now_ms() + nfbot.cfg.suggest_ms;
	timer_init(&nfbot.housekeep, nfbot_on_housekeep, NULL);
	loop_timer_start(l, &nfbot.housekeep,
	    nfbot.cfg.suggest_ms > 0 &&
	            nfbot.cfg.suggest_ms < NFBOT_HOUSEKEEP_MS
	        ? nfbot.cfg.suggest_ms
	        : NFBOT_HOUSEKEEP_MS);
	timer_init(&nfbot.checkpoint, nfbot_on_checkpoint, NULL);
	if (nfbot.cfg.state_file != NULL && nfbot.cfg.pcap_file == NULL) {
		nfbot_load_state();
		loop_timer_start(l, &nfbot.checkpoint, nfbot.cfg.state_ms);
	}
	timer_init(&nfbot.stats, nfbot_on_stats, NULL);
	if (nfbot.cfg.stats_ms > 0 && nfbot.cfg.pcap_file == NULL)
		loop_timer_start(l, &nfbot.stats, nfbot.cfg.stats_ms);
	return 0;
}

static void
nfbot_shutdown(void)
{
	size_t i;

	if (nfbot.loop != NULL) {
		loop_timer_stop(nfbot.loop, &nfbot.housekeep);
		loop_timer_stop(nfbot.loop, &nfbot.stats);
		loop_timer_stop(nfbot.loop, &nfbot.checkpoint);
	}
	if (nfbot.sock != NULL && timer_armed(&nfbot.reread)) {
		/* what arrived while the socket was paced */
		loop_timer_stop(nfbot.loop, &nfbot.reread);
		nfsock_drain(nfbot.sock, NFBOT_DRAIN_CALLS, nfbot_on_udp, NULL);
	}
	if (nfbot.cache != NULL)
		nfbot_save_state();
	if (nfbot.cache != NULL && nfbot.cfg.pcap_file == NULL)
		nfbot_log_stats();
	entsync_free(nfbot.es);
	nfbot.es = NULL;
	while (nfbot.suggests != NULL) {
		struct nfbot_suggest *s = nfbot.suggests;

		nfbot.suggests = s->next;
		nfbot_suggest_free(s);
	}
	if (nfbot.sock != NULL) {
		if (nfbot.watching)
			loop_unwatch(nfbot.loop, nfsock_fd(nfbot.sock));
		nfbot.watching = 0;
		nfsock_close(nfbot.sock);
		nfbot.sock = NULL;
	}
	if (nfbot.live != NULL) {
		loop_unwatch(nfbot.loop, nfpcap_live_fd(nfbot.live));
		nfpcap_live_close(nfbot.live);
		nfbot.live = NULL;
	}
	for (i = 0; i < nfbot.n_aggs; i++)
		nfagg_free(nfbot.aggs[i].agg);
	free(nfbot.aggs);
	nfbot.aggs = NULL;
	nfbot.n_aggs = 0;
	nftpl_cache_free(nfbot.cache);
	nfbot.cache = NULL;
	nfexp_table_free(nfbot.exps);
	nfbot.exps = NULL;
}

const struct bot_ops netflowbot_ops = {
    .name = "netflowbot",
    .protocol = "netflow",
    .summary =
        "Collects NetFlow v5, v9 and IPFIX exports and sends per-account "
        "traffic totals and top lists (1min, 15min, 1h, 4h, 24h) to "
        "Grafolean.",
    .settings = nfbot_settings,
    .init = nfbot_init,
    .job_prepare = nfbot_job_prepare,
    .job_run = nfbot_job_run,
    .shutdown = nfbot_shutdown,
    .metrics = nfbot_metrics,
    .job_mode = BOT_JOBS_PER_ACCOUNT,
    .account_intervals_s = nfbot_windows,
    .n_account_intervals = sizeof(nfbot_windows) / sizeof(nfbot_windows[0]),
    .flags = nfbot_flags,
    .n_flags = sizeof(nfbot_flags) / sizeof(nfbot_flags[0]),
    .flags_help =
        "  --pcap FILE       replay the export packets of a capture file\n"
        "                    (as fast as possible, its packet times as the\n"
        "                    clock) at the first run, then close every open\n"
        "                    window; with --once the bot then exits. No\n"
        "                    UDP socket is opened.\n"
        "  --pcap-live IFACE capture exports on an interface instead of\n"
        "                    listening (when another program owns the port)\n"
        "  --user NAME       switch to this user (uid and primary group)\n"
        "                    once the socket is bound or the capture open;\n"
        "                    overrides NETFLOW_USER\n",
};
