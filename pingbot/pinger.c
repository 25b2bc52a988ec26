/*
 * The ping engine: one liboping object holds every target of a batch, so a
 * round is one ping_send that sends to all targets and then waits for all
 * replies.  liboping (1.10) matches a reply to a host by address family,
 * ICMP identifier and the sequence number of that host's latest request,
 * and only while the host still waits: the first match stops the host's
 * timer, so a duplicate finds nobody waiting, and a reply to an earlier
 * round carries an older sequence number.  It does not compare the reply's
 * source address, and it draws identifiers at random.  Every raw socket
 * sees every reply, so we make identifiers unique among all live hosts of
 * every object of the process (two hosts sharing one would take each
 * other's replies) and keep an identifier out of use for a while after its
 * batch, so that late replies to an old batch cannot match a new one.
 * A reply slower than the target's own timeout counts as lost, even when
 * the round waited longer for another target.  When a batch holds exactly
 * the same targets as an earlier one (the usual case: the same jobs come
 * due together every interval), that batch's object is kept and reused,
 * which saves adding every host again (liboping resolves each one) and
 * lets sequence numbers go on.  Several worker threads run batches at
 * once: the identifier table and the kept objects are shared under one
 * lock; everything else belongs to the batch.
 */
#include "pinger.h"

#include <sys/socket.h>

#include <math.h>
#include <oping.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timer.h"
#include "xmalloc.h"

#define PINGER_IDENTS 65536
#define PINGER_LIVE   UINT32_MAX
/* Long enough for any reply that is merely late, short enough that the
 * table of resting identifiers stays small even with large batches. */
#define PINGER_QUARANTINE_S 10
/* Redraws for an identifier that is neither live nor resting; after that a
 * resting one will do, but a live one never. */
#define PINGER_SOFT_TRIES 8
#define PINGER_HARD_TRIES 256

/* Objects kept for reuse: each holds raw sockets that every ICMP reply
 * is copied to, so only a few, the least recently used going first. */
#define PINGER_KEEP 8

/* Identifiers handed out and not yet released. */
struct pinger_idents {
	uint16_t *v;
	size_t n;
	size_t cap;
};

/* A liboping object kept after its batch, with its hosts' identifiers. */
struct pinger_kept {
	pingobj_t *obj;
	struct pinger_idents ids;
	size_t n_hosts;
	uint64_t key; /* pinger_set_key of its hosts */
	uint64_t used;
};

struct pinger {
	pthread_mutex_t mu; /* guards everything below */
	/* Per identifier: 0 free, PINGER_LIVE in use, else the monotonic
	 * second (+1) at which it becomes free again. */
	uint32_t busy[PINGER_IDENTS];
	struct pinger_kept kept[PINGER_KEEP];
	size_t n_kept;
	uint64_t clock; /* for least-recently-used */
};

static uint32_t
pinger_now_s(void)
{
	return (uint32_t)(timer_now_ms() / 1000) + 1;
}

static void
pinger_push_ident(struct pinger_idents *ids, uint16_t ident)
{
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 256;
		ids->v = xreallocarray(ids->v, ids->cap, sizeof(*ids->v));
	}
	ids->v[ids->n++] = ident;
}

/* Puts ids into quarantine and empties the list (keeping its memory). */
static void
pinger_release_idents(struct pinger *p, struct pinger_idents *ids)
{
	uint32_t until = pinger_now_s() + PINGER_QUARANTINE_S;
	size_t i;

	pthread_mutex_lock(&p->mu);
	for (i = 0; i < ids->n; i++)
		p->busy[ids->v[i]] = until;
	pthread_mutex_unlock(&p->mu);
	ids->n = 0;
}

/* Destroys a kept (or abandoned) object and quarantines its identifiers;
 * called without the lock. */
static void
pinger_drop(struct pinger *p, struct pinger_kept *k)
{
	if (k->obj != NULL)
		ping_destroy(k->obj);
	k->obj = NULL;
	pinger_release_idents(p, &k->ids);
	free(k->ids.v);
	memset(k, 0, sizeof(*k));
}

struct pinger *
pinger_new(void)
{
	struct pinger *p = xcalloc(1, sizeof(struct pinger));

	pthread_mutex_init(&p->mu, NULL);
	return p;
}

void
pinger_free(struct pinger *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_kept; i++)
		pinger_drop(p, &p->kept[i]);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static int
pinger_is(pingobj_iter_t *it, const char *addr)
{
	char name[TARGET_ADDRLEN + 1];
	size_t len = sizeof(name);

	return ping_iterator_get_info(it, PING_INFO_USERNAME, name, &len) ==
	    0 &&
	    strcmp(name, addr) == 0;
}

/* Finds the host just added for addr.  ping_host_add appends, so it
 * normally follows the previous tail; the walk is only a safety net. */
static pingobj_iter_t *
pinger_find_new(pingobj_t *obj, pingobj_iter_t *tail, const char *addr)
{
	pingobj_iter_t *it;

	it = tail != NULL ? ping_iterator_next(tail) : ping_iterator_get(obj);
	if (it != NULL && pinger_is(it, addr))
		return it;
	for (it = ping_iterator_get(obj); it != NULL;
	     it = ping_iterator_next(it))
		if (pinger_is(it, addr))
			return it;
	return NULL;
}

/* Adds t to obj with an identifier no live host has.  Returns 0, or -1
 * with the reason in t->add_msg. */
static int
pinger_add(struct pinger *p, struct pinger_idents *ids, pingobj_t *obj,
    pingobj_iter_t **tail, struct pinger_target *t, struct pinger_report *rep)
{
	uint32_t now_s = pinger_now_s();
	int tries;

	for (tries = 0; tries < PINGER_HARD_TRIES; tries++) {
		pingobj_iter_t *it;
		uint16_t ident = 0;
		size_t len = sizeof(ident);
		uint32_t b;

		if (ping_host_add(obj, t->addr) != 0) {
			snprintf(t->add_msg, sizeof(t->add_msg), "%s",
			    ping_get_error(obj));
			return -1;
		}
		it = pinger_find_new(obj, *tail, t->addr);
		if (it == NULL ||
		    ping_iterator_get_info(it, PING_INFO_IDENT, &ident, &len) !=
		        0) {
			snprintf(t->add_msg, sizeof(t->add_msg),
			    "liboping lost the host it just added");
			ping_host_remove(obj, t->addr);
			return -1;
		}
		pthread_mutex_lock(&p->mu);
		b = p->busy[ident];
		if (b == 0 || (b != PINGER_LIVE && b <= now_s) ||
		    (b != PINGER_LIVE && tries >= PINGER_SOFT_TRIES)) {
			p->busy[ident] = PINGER_LIVE;
			pthread_mutex_unlock(&p->mu);
			if (b != 0 && b != PINGER_LIVE && b > now_s)
				rep->reused++;
			pinger_push_ident(ids, ident);
			ping_iterator_set_context(it, t);
			*tail = it;
			return 0;
		}
		pthread_mutex_unlock(&p->mu);
		/* Removing and adding again draws a new random identifier. */
		rep->rerolls++;
		ping_host_remove(obj, t->addr);
	}
	snprintf(t->add_msg, sizeof(t->add_msg), "no free ICMP identifier");
	return -1;
}

static double
pinger_slice_s(const struct pinger_target *t)
{
	return t->cfg.timeout_s / (t->cfg.retry + 1);
}

/* One ping_send on obj, whose hosts all take part in round r; records the
 * answers that came back within each target's own time slice. */
static void
pinger_attempt(pingobj_t *obj, int r, struct pinger_report *rep)
{
	pingobj_iter_t *it;
	double timeout_s = 0;
	int rc;

	for (it = ping_iterator_get(obj); it != NULL;
	     it = ping_iterator_next(it)) {
		const struct pinger_target *t = ping_iterator_get_context(it);

		if (pinger_slice_s(t) > timeout_s)
			timeout_s = pinger_slice_s(t);
	}
	if (timeout_s <= 0)
		return; /* no hosts: liboping would call that an error */
	ping_setopt(obj, PING_OPT_TIMEOUT, &timeout_s);
	rc = ping_send(obj);
	if (rc < 0) {
		/* Either nothing was sent (all latencies stay negative) or
		 * some sends failed; the hosts that did answer still count. */
		rep->send_failures++;
		snprintf(rep->send_error, sizeof(rep->send_error), "%s",
		    ping_get_error(obj));
	}
	for (it = ping_iterator_get(obj); it != NULL;
	     it = ping_iterator_next(it)) {
		struct pinger_target *t = ping_iterator_get_context(it);
		double latency_ms = -1;
		size_t len = sizeof(latency_ms);
		int ttl = -1;

		if (ping_iterator_get_info(
		        it, PING_INFO_LATENCY, &latency_ms, &len) != 0 ||
		    latency_ms < 0 || latency_ms / 1000 > pinger_slice_s(t))
			continue;
		t->packets[r].ok = 1;
		/* liboping measures microseconds; rounding to whole
		 * nanoseconds drops the binary noise of the division
		 * (2.2000000000000003e-05 becomes 2.2e-05). */
		t->packets[r].rtt_s = round(latency_ms * 1e6) / 1e9;
		t->answered_now = 1;
		len = sizeof(ttl);
		if (ping_iterator_get_info(
		        it, PING_INFO_RECV_TTL, &ttl, &len) == 0)
			t->ttl = ttl;
	}
}

/* Extra attempt a of round r: a fresh object with only the targets that
 * asked for that many retries and are still unanswered.  Fresh identifiers
 * mean a reply to an earlier attempt cannot count twice. */
static void
pinger_retry(struct pinger *p, struct pinger_idents *ids,
    struct pinger_target *t, size_t n, int r, int a, struct pinger_report *rep)
{
	pingobj_t *obj;
	pingobj_iter_t *tail = NULL;
	size_t i, added = 0;

	obj = ping_construct();
	if (obj == NULL)
		fatalx("out of memory");
	for (i = 0; i < n; i++) {
		if (t[i].add_error || t[i].cfg.n_packets <= r ||
		    t[i].cfg.retry < a || t[i].answered_now)
			continue;
		/* A target that cannot get in just stays unanswered. */
		if (pinger_add(p, ids, obj, &tail, &t[i], rep) == 0)
			added++;
	}
	if (added > 0)
		pinger_attempt(obj, r, rep);
	ping_destroy(obj);
}

static int
pinger_key_cmp(const void *key, const void *elem)
{
	const struct pinger_target *const *t = elem;

	return strcmp(key, (*t)->addr);
}

static int
pinger_target_cmp(const void *a, const void *b)
{
	const struct pinger_target *const *x = a, *const *y = b;

	return strcmp((*x)->addr, (*y)->addr);
}

/* An order-independent hash of a set of addresses (FNV-1a each, summed),
 * so a kept object can be found without comparing every host. */
static uint64_t
pinger_set_key(const struct pinger_target *t, size_t n, size_t *n_hosts)
{
	uint64_t key = 0;
	size_t i, m = 0;

	for (i = 0; i < n; i++) {
		uint64_t h = UINT64_C(14695981039346656037);
		const unsigned char *c;

		if (t[i].add_error)
			continue;
		for (c = (const unsigned char *)t[i].addr; *c != '\0'; c++)
			h = (h ^ *c) * UINT64_C(1099511628211);
		key += h;
		m++;
	}
	*n_hosts = m;
	return key;
}

/* Takes the kept object whose hosts are exactly the targets to ping
 * (addresses are distinct within a batch, so equal counts and every host
 * found means equal sets) into *k, pointing each host at its new target.
 * Returns 0, or -1 (k zeroed) when there is none. */
static int
pinger_reuse(
    struct pinger *p, struct pinger_target *t, size_t n, struct pinger_kept *k)
{
	struct pinger_target **idx, **hit;
	pingobj_iter_t *it;
	char name[TARGET_ADDRLEN + 1];
	size_t i, m = 0, n_hosts, len;
	uint64_t key = pinger_set_key(t, n, &n_hosts);
	int rc = -1;

	memset(k, 0, sizeof(*k));
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->n_kept; i++) {
		if (p->kept[i].key == key && p->kept[i].n_hosts == n_hosts) {
			*k = p->kept[i];
			p->kept[i] = p->kept[--p->n_kept];
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	if (k->obj == NULL)
		return -1;

	idx = xreallocarray(NULL, n ? n : 1, sizeof(*idx));
	for (i = 0; i < n; i++)
		if (!t[i].add_error)
			idx[m++] = &t[i];
	qsort(idx, m, sizeof(*idx), pinger_target_cmp);
	for (it = ping_iterator_get(k->obj); it != NULL;
	     it = ping_iterator_next(it)) {
		len = sizeof(name);
		if (ping_iterator_get_info(
		        it, PING_INFO_USERNAME, name, &len) != 0)
			goto out;
		hit = bsearch(name, idx, m, sizeof(*idx), pinger_key_cmp);
		if (hit == NULL || (*hit)->in_main)
			goto out;
		ping_iterator_set_context(it, *hit);
		(*hit)->in_main = 1;
	}
	rc = 0;
out:
	free(idx);
	if (rc != 0) {
		/* Same hash, other hosts: rare; build afresh. */
		for (i = 0; i < n; i++)
			t[i].in_main = 0;
		pinger_drop(p, k);
	}
	return rc;
}

/* Keeps k's object for a later batch of the same targets, dropping the
 * least recently used one when all places are taken. */
static void
pinger_keep(struct pinger *p, struct pinger_kept *k)
{
	struct pinger_kept old;
	size_t i, lru = 0;

	memset(&old, 0, sizeof(old));
	pthread_mutex_lock(&p->mu);
	k->used = ++p->clock;
	if (p->n_kept == PINGER_KEEP) {
		for (i = 1; i < p->n_kept; i++)
			if (p->kept[i].used < p->kept[lru].used)
				lru = i;
		old = p->kept[lru];
		p->kept[lru] = *k;
	} else {
		p->kept[p->n_kept++] = *k;
	}
	pthread_mutex_unlock(&p->mu);
	if (old.obj != NULL)
		pinger_drop(p, &old);
}

void
pinger_run(struct pinger *p, struct pinger_target *t, size_t n,
    pinger_pause_fn *pause_fn, void *arg, struct pinger_report *rep)
{
	struct pinger_kept k;
	struct pinger_idents retry_ids = {NULL, 0, 0};
	pingobj_iter_t *tail = NULL;
	int rounds = 0, retries = 0, removed = 0, r, a;
	size_t i;

	memset(rep, 0, sizeof(*rep));
	for (i = 0; i < n; i++) {
		t[i].ttl = -1;
		t[i].in_main = 0;
		if (t[i].cfg.n_packets > rounds)
			rounds = t[i].cfg.n_packets;
		if (t[i].cfg.retry > retries)
			retries = t[i].cfg.retry;
	}
	if (pinger_reuse(p, t, n, &k) == 0) {
		rep->reused_object = 1;
	} else {
		k.obj = ping_construct();
		if (k.obj == NULL)
			fatalx("out of memory");
		for (i = 0; i < n; i++) {
			if (t[i].add_error)
				continue;
			if (pinger_add(p, &k.ids, k.obj, &tail, &t[i], rep) ==
			    0)
				t[i].in_main = 1;
			else
				t[i].add_error = 1;
		}
	}

	for (r = 0; r < rounds; r++) {
		int64_t start_ms, wait_ms;
		double now_s, sleep_s = 0;

		if (pause_fn(arg, 0) != 0)
			goto abort;
		for (i = 0; i < n; i++) {
			if (t[i].in_main && t[i].cfg.n_packets <= r) {
				ping_host_remove(k.obj, t[i].addr);
				t[i].in_main = 0;
				removed = 1;
			}
		}
		/* Every value of a packet carries the time its round was
		 * sent, taken once so all targets of the round agree. */
		now_s = timer_wall_s();
		start_ms = timer_now_ms();
		for (i = 0; i < n; i++) {
			t[i].answered_now = 0;
			if (t[i].cfg.n_packets > r)
				t[i].packets[r].t = now_s;
		}
		/* Checked after each attempt too: a stop may have cut the
		 * attempt short, and its losses would be made up. */
		pinger_attempt(k.obj, r, rep);
		if (pause_fn(arg, 0) != 0)
			goto abort;
		for (a = 1; a <= retries; a++) {
			pinger_retry(p, &retry_ids, t, n, r, a, rep);
			if (pause_fn(arg, 0) != 0)
				goto abort;
		}
		rep->rounds++;
		if (timer_now_ms() - start_ms > rep->max_round_ms)
			rep->max_round_ms = timer_now_ms() - start_ms;
		if (r + 1 == rounds)
			break; /* no sleep after the last round */
		for (i = 0; i < n; i++)
			if (t[i].cfg.n_packets > r + 1 &&
			    t[i].cfg.sleep_s > sleep_s)
				sleep_s = t[i].cfg.sleep_s;
		wait_ms =
		    start_ms + (int64_t)(sleep_s * 1000 + 0.5) - timer_now_ms();
		if (wait_ms > 0 && pause_fn(arg, wait_ms) != 0)
			goto abort;
	}
	goto out;
abort:
	rep->aborted = 1;
out:
	/* Kept only while it still holds every target it was built for. */
	if (!rep->aborted && !removed && k.ids.n > 0) {
		k.key = pinger_set_key(t, n, &k.n_hosts);
		pinger_keep(p, &k);
	} else {
		pinger_drop(p, &k);
	}
	pinger_release_idents(p, &retry_ids);
	free(retry_ids.v);
}
