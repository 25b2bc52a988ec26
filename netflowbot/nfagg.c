/*
 * Each window keeps a small hash of scopes: (entity, direction) and
 * (entity, direction, interface).  A scope has its byte total and top
 * tables (nftop.c); conn and port tables exist only on entity scopes, as
 * the protocol has no per-interface paths for them.
 */
#include "nfagg.h"

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "nfproto.h"
#include "nftop.h"
#include "path.h"
#include "xmalloc.h"

#define NFAGG_SCOPE_BUCKETS 64
/* Idle windows between two flows (a gap in a capture) still report zero
 * totals, as a live run would have; at most this many per gap. */
#define NFAGG_MAX_IDLE 1440

const int nfagg_window_s[NFAGG_N_WINDOWS] = {60, 900, 3600, 14400, 86400};
const char *const nfagg_window_label[NFAGG_N_WINDOWS] = {
    "1min", "15min", "1h", "4h", "24h"};

struct nfagg_scope {
	struct nfagg_scope *hnext;
	int64_t entity;
	uint32_t ifx;
	uint8_t has_if;
	uint8_t dir;
	uint64_t bytes;
	struct nftop ip, proto, conn, port;
};

struct nfagg_ent_ifs { /* interfaces seen per entity in a window */
	int64_t entity;
	uint32_t n;
};

struct nfagg_win {
	int64_t start; /* 0: not open */
	uint64_t total[2];
	uint64_t flows;
	struct nfagg_scope *scopes[NFAGG_SCOPE_BUCKETS];
	/* the last scope found: the entity's, and per ifx % 8 the
	 * interface's (consecutive flows mostly share their exporter) */
	struct nfagg_scope *hot, *hot_if[8];
	struct nfagg_ent_ifs *ifs;
	size_t n_ifs;
};

struct nfagg {
	int64_t account;
	struct nfagg_limits lim;
	struct nfagg_win win[NFAGG_N_WINDOWS];
	int64_t next_close; /* the earliest end of an open window */
	struct nfagg_value *pending;
	size_t n_pending, cap_pending;
	uint64_t dropped, iface_overflow;
};

static int64_t
nfagg_floor_start(int64_t t, int64_t step)
{
	int64_t r = t % step;

	return r < 0 ? t - r - step : t - r;
}

void
nfagg_limits_defaults(struct nfagg_limits *lim)
{
	lim->top_keys = 512;
	lim->max_ifaces = 64;
	lim->max_pending = 1000000;
}

struct nfagg *
nfagg_new(int64_t account_id, const struct nfagg_limits *lim)
{
	struct nfagg *a = xcalloc(1, sizeof(*a));

	a->account = account_id;
	a->lim = *lim;
	return a;
}

int64_t
nfagg_account(const struct nfagg *a)
{
	return a->account;
}

static void
nfagg_win_clear(struct nfagg_win *w)
{
	size_t i;

	for (i = 0; i < NFAGG_SCOPE_BUCKETS; i++) {
		while (w->scopes[i] != NULL) {
			struct nfagg_scope *s = w->scopes[i];

			w->scopes[i] = s->hnext;
			nftop_free(&s->ip);
			nftop_free(&s->proto);
			nftop_free(&s->conn);
			nftop_free(&s->port);
			free(s);
		}
	}
	free(w->ifs);
	memset(w, 0, sizeof(*w));
}

void
nfagg_free(struct nfagg *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < NFAGG_N_WINDOWS; i++)
		nfagg_win_clear(&a->win[i]);
	for (i = 0; i < a->n_pending; i++)
		free(a->pending[i].path);
	free(a->pending);
	free(a);
}

static void
nfagg_put(struct nfagg *a, const char *path, double v, double t)
{
	if (a->n_pending >= a->lim.max_pending) {
		a->dropped++;
		return;
	}
	if (a->n_pending == a->cap_pending) {
		a->cap_pending = a->cap_pending ? a->cap_pending * 2 : 64;
		a->pending = xreallocarray(
		    a->pending, a->cap_pending, sizeof(*a->pending));
	}
	a->pending[a->n_pending].path = xstrdup(path);
	a->pending[a->n_pending].v = v;
	a->pending[a->n_pending].t = t;
	a->n_pending++;
}

/* An address key ([af][4 or 16 bytes]) as a path segment. */
static int
nfagg_ip_seg(const uint8_t *k, char *out, size_t outlen)
{
	char txt[INET6_ADDRSTRLEN];

	if (inet_ntop(k[0] == 4 ? AF_INET : AF_INET6, k + 1, txt,
	        sizeof(txt)) == NULL)
		return -1;
	return path_escape(txt, out, outlen);
}

static void
nfagg_render_top(struct nfagg *a, const char *base, const char *kind,
    const struct nftop *t, double when)
{
	const struct nftop_ent *top[NFAGG_TOP_N];
	char seg[96], seg2[96], path[512];
	size_t n = nftop_top(t, NFAGG_TOP_N, top), i;

	for (i = 0; i < n; i++) {
		const struct nftop_ent *e = top[i];
		int ok = 0;

		if (strcmp(kind, "topip") == 0) {
			ok = nfagg_ip_seg(e->key, seg, sizeof(seg)) == 0;
			if (ok)
				snprintf(path, sizeof(path), "%s.topip.%s",
				    base, seg);
		} else if (strcmp(kind, "topprotocol") == 0) {
			snprintf(path, sizeof(path), "%s.topprotocol.%s", base,
			    nfproto_name(e->key[0], seg, sizeof(seg)));
			ok = 1;
		} else if (strcmp(kind, "topconn") == 0) {
			size_t al = e->key[0] == 4 ? 4 : 16;
			uint8_t k2[17];

			k2[0] = e->key[0];
			memcpy(k2 + 1, e->key + 1 + al, al);
			ok = nfagg_ip_seg(e->key, seg, sizeof(seg)) == 0 &&
			    nfagg_ip_seg(k2, seg2, sizeof(seg2)) == 0;
			if (ok)
				snprintf(path, sizeof(path), "%s.topconn.%s.%s",
				    base, seg, seg2);
		} else {
			snprintf(path, sizeof(path), "%s.topdstports.%u", base,
			    (unsigned)((e->key[0] << 8) | e->key[1]));
			ok = 1;
		}
		if (ok)
			nfagg_put(a, path, (double)e->count, when);
	}
}

static struct nfagg_scope *nfagg_scope(struct nfagg *a, struct nfagg_win *w,
    int64_t entity, int has_if, uint32_t ifx, uint8_t dir);

/* Adds the minute window's counts to the longer open windows: flows are
 * counted once, in the minute, and the others are sums of minutes. */
static void
nfagg_merge_minute(struct nfagg *a)
{
	const struct nfagg_win *m = &a->win[0];
	int wi;

	for (wi = 1; wi < NFAGG_N_WINDOWS; wi++) {
		struct nfagg_win *w = &a->win[wi];
		size_t b;

		if (w->start == 0)
			w->start =
			    nfagg_floor_start(m->start, nfagg_window_s[wi]);
		w->total[0] += m->total[0];
		w->total[1] += m->total[1];
		w->flows += m->flows;
		for (b = 0; b < NFAGG_SCOPE_BUCKETS; b++) {
			const struct nfagg_scope *s;

			for (s = m->scopes[b]; s != NULL; s = s->hnext) {
				struct nfagg_scope *d = nfagg_scope(
				    a, w, s->entity, s->has_if, s->ifx, s->dir);

				if (d == NULL)
					continue;
				d->bytes += s->bytes;
				nftop_merge(&d->ip, &s->ip);
				nftop_merge(&d->proto, &s->proto);
				if (!s->has_if) {
					nftop_merge(&d->conn, &s->conn);
					nftop_merge(&d->port, &s->port);
				}
			}
		}
	}
}

static void
nfagg_close(struct nfagg *a, int wi)
{
	struct nfagg_win *w = &a->win[wi];
	const char *label = nfagg_window_label[wi];
	static const char *const dirs[2] = {"ingress", "egress"};
	double when = (double)(w->start + nfagg_window_s[wi]);
	char path[256];
	size_t i;
	int d;

	if (w->start == 0)
		return;
	if (wi == 0)
		nfagg_merge_minute(a);
	for (d = 0; d < 2; d++) {
		snprintf(path, sizeof(path), "netflow.%s.%s", label, dirs[d]);
		nfagg_put(a, path, (double)w->total[d], when);
	}
	for (i = 0; i < NFAGG_SCOPE_BUCKETS; i++) {
		const struct nfagg_scope *s;

		for (s = w->scopes[i]; s != NULL; s = s->hnext) {
			if (s->has_if)
				snprintf(path, sizeof(path),
				    "netflow.%s.%s.entity.%lld.if.%u", label,
				    dirs[s->dir], (long long)s->entity, s->ifx);
			else
				snprintf(path, sizeof(path),
				    "netflow.%s.%s.entity.%lld", label,
				    dirs[s->dir], (long long)s->entity);
			nfagg_put(a, path, (double)s->bytes, when);
			nfagg_render_top(a, path, "topip", &s->ip, when);
			nfagg_render_top(
			    a, path, "topprotocol", &s->proto, when);
			if (!s->has_if) {
				nfagg_render_top(
				    a, path, "topconn", &s->conn, when);
				nfagg_render_top(
				    a, path, "topdstports", &s->port, when);
			}
		}
	}
	nfagg_win_clear(w);
}

void
nfagg_advance(struct nfagg *a, int64_t now_s)
{
	int i;

	if (a->next_close != 0 && now_s < a->next_close)
		return; /* the common case: nothing ends yet */

	for (i = 0; i < NFAGG_N_WINDOWS; i++) {
		struct nfagg_win *w = &a->win[i];
		int64_t len = nfagg_window_s[i];
		int64_t start = nfagg_floor_start(now_s, len);

		if (w->start != 0 && w->start + len <= now_s) {
			int64_t end = w->start + len;
			int k;

			nfagg_close(a, i);
			for (k = 0; k < NFAGG_MAX_IDLE && end + len <= start;
			     k++, end += len) {
				char path[64];

				snprintf(path, sizeof(path),
				    "netflow.%s.ingress",
				    nfagg_window_label[i]);
				nfagg_put(a, path, 0, (double)(end + len));
				snprintf(path, sizeof(path),
				    "netflow.%s.egress", nfagg_window_label[i]);
				nfagg_put(a, path, 0, (double)(end + len));
			}
		}
		if (w->start == 0)
			w->start = start;
	}
	a->next_close = a->win[0].start + nfagg_window_s[0];
	for (i = 1; i < NFAGG_N_WINDOWS; i++)
		if (a->win[i].start + nfagg_window_s[i] < a->next_close)
			a->next_close = a->win[i].start + nfagg_window_s[i];
}

void
nfagg_flush(struct nfagg *a)
{
	int i;

	for (i = 0; i < NFAGG_N_WINDOWS; i++)
		if (a->win[i].flows > 0)
			nfagg_close(a, i);
	a->next_close = 0; /* windows closed: the next advance opens them */
}

/* nfagg_scope when the remembered scope is another: the window's hash,
 * then a new scope. */
static struct nfagg_scope *
nfagg_scope_find(struct nfagg *a, struct nfagg_win *w, int64_t entity,
    int has_if, uint32_t ifx, uint8_t dir)
{
	size_t b =
	    ((uint64_t)entity * 31 + ifx * 7 + dir * 3 + (size_t)has_if) %
	    NFAGG_SCOPE_BUCKETS;
	struct nfagg_scope **hot = has_if ? &w->hot_if[ifx % 8] : &w->hot;
	struct nfagg_scope *s;
	size_t i;

	for (s = w->scopes[b]; s != NULL; s = s->hnext)
		if (s->entity == entity && s->has_if == has_if &&
		    s->ifx == ifx && s->dir == dir)
			return *hot = s;
	if (has_if) {
		for (i = 0; i < w->n_ifs; i++)
			if (w->ifs[i].entity == entity)
				break;
		if (i == w->n_ifs) {
			w->ifs = xreallocarray(
			    w->ifs, w->n_ifs + 1, sizeof(*w->ifs));
			w->ifs[i].entity = entity;
			w->ifs[i].n = 0;
			w->n_ifs++;
		}
		if (w->ifs[i].n >= 2 * a->lim.max_ifaces) {
			a->iface_overflow++;
			return NULL;
		}
		w->ifs[i].n++;
	}
	s = xcalloc(1, sizeof(*s));
	s->entity = entity;
	s->has_if = (uint8_t)has_if;
	s->ifx = ifx;
	s->dir = dir;
	nftop_init(&s->ip, a->lim.top_keys);
	nftop_init(&s->proto, 256);
	if (!has_if) {
		nftop_init(&s->conn, a->lim.top_keys);
		nftop_init(&s->port, a->lim.top_keys);
	}
	s->hnext = w->scopes[b];
	w->scopes[b] = s;
	return *hot = s;
}

/* The scope (entity, direction) or, with has_if, (entity, direction,
 * interface ifx) of window w, made when new; NULL beyond the interface
 * cap.  The last one found is checked first: consecutive flows mostly
 * share their exporter's. */
static inline struct nfagg_scope *
nfagg_scope(struct nfagg *a, struct nfagg_win *w, int64_t entity, int has_if,
    uint32_t ifx, uint8_t dir)
{
	struct nfagg_scope *s = has_if ? w->hot_if[ifx % 8] : w->hot;

	if (s != NULL && s->entity == entity && s->ifx == ifx && s->dir == dir)
		return s;
	return nfagg_scope_find(a, w, entity, has_if, ifx, dir);
}

/* A flow's top-list keys, built and hashed once for both of its scopes. */
struct nfagg_keys {
	uint8_t ip[1 + 16];       /* [af][the address on the flow's side] */
	uint8_t conn[1 + 2 * 16]; /* [af][source][destination] */
	uint8_t port[2];          /* destination port, big-endian */
	uint8_t ip_len, conn_len; /* 0: the flow had no addresses */
	uint32_t h_ip, h_conn, h_port, h_proto;
};

static void
nfagg_keys(struct nfagg_keys *k, const struct nfflow *f)
{
	const uint8_t *ip = f->dir == NFFLOW_INGRESS ? f->src : f->dst;
	size_t al = f->af == 4 ? 4 : 16;

	k->ip_len = k->conn_len = 0;
	if (f->af != 0) {
		/* fixed-size copies (no call), an IPv4 pair as one 8-byte
		 * store, reading only what the decoder wrote: each load of
		 * nftop_key_hash or here then takes what one store wrote */
		k->ip[0] = k->conn[0] = f->af;
		if (f->af == 4) {
			uint32_t s4, d4;
			uint64_t sd;

			memcpy(&s4, f->src, 4);
			memcpy(&d4, f->dst, 4);
			memcpy(k->ip + 1, ip, 4);
			sd = (uint64_t)s4 | (uint64_t)d4 << 32;
			if (htonl(1) == 1) /* big-endian: source first */
				sd = (uint64_t)d4 | (uint64_t)s4 << 32;
			memcpy(k->conn + 1, &sd, 8);
		} else {
			memcpy(k->ip + 1, ip, 16);
			memcpy(k->conn + 1, f->src, 16);
			memcpy(k->conn + 17, f->dst, 16);
		}
		k->ip_len = (uint8_t)(1 + al);
		k->conn_len = (uint8_t)(1 + 2 * al);
		k->h_ip = nftop_key_hash(k->ip, k->ip_len);
		k->h_conn = nftop_key_hash(k->conn, k->conn_len);
	}
	k->port[0] = (uint8_t)(f->dport >> 8);
	k->port[1] = (uint8_t)f->dport;
	k->h_port = nftop_key_hash(k->port, 2);
	k->h_proto = nftop_key_hash(&f->proto, 1);
}

static void
nfagg_scope_add(
    struct nfagg_scope *s, const struct nfflow *f, const struct nfagg_keys *k)
{
	s->bytes += f->bytes;
	nftop_add_hashed(&s->proto, &f->proto, 1, k->h_proto, f->bytes);
	if (k->ip_len != 0)
		nftop_add_hashed(&s->ip, k->ip, k->ip_len, k->h_ip, f->bytes);
	if (s->has_if)
		return;
	if (k->conn_len != 0)
		nftop_add_hashed(
		    &s->conn, k->conn, k->conn_len, k->h_conn, f->bytes);
	nftop_add_hashed(&s->port, k->port, 2, k->h_port, f->bytes);
}

void
nfagg_add(
    struct nfagg *a, int64_t entity, const struct nfflow *f, int64_t now_s)
{
	struct nfagg_win *w = &a->win[0];
	struct nfagg_scope *s, *si;
	struct nfagg_keys k;
	uint32_t ifx = f->dir == NFFLOW_INGRESS ? f->in_if : f->out_if;

	/* only the minute: the longer windows add up minutes as they close */
	if (a->next_close == 0 || now_s >= a->next_close)
		nfagg_advance(a, now_s);
	w->flows++;
	w->total[f->dir] += f->bytes;
	s = nfagg_scope(a, w, entity, 0, 0, f->dir);
	si = nfagg_scope(a, w, entity, 1, ifx, f->dir);
	nfagg_keys(&k, f);
	nfagg_scope_add(s, f, &k);
	if (si != NULL)
		nfagg_scope_add(si, f, &k);
}

size_t
nfagg_take(struct nfagg *a, struct nfagg_value **out)
{
	size_t n = a->n_pending;

	*out = a->pending;
	a->pending = NULL;
	a->n_pending = a->cap_pending = 0;
	return n;
}

uint64_t
nfagg_dropped(const struct nfagg *a)
{
	return a->dropped;
}

uint64_t
nfagg_iface_overflow(const struct nfagg *a)
{
	return a->iface_overflow;
}

size_t
nfagg_bytes(const struct nfagg *a)
{
	size_t n = 0;
	int i;

	for (i = 0; i < NFAGG_N_WINDOWS; i++) {
		size_t b;

		for (b = 0; b < NFAGG_SCOPE_BUCKETS; b++) {
			const struct nfagg_scope *s;

			for (s = a->win[i].scopes[b]; s != NULL; s = s->hnext)
				n += sizeof(*s) + nftop_bytes(&s->ip) +
				    nftop_bytes(&s->proto) +
				    nftop_bytes(&s->conn) +
				    nftop_bytes(&s->port);
		}
	}
	return n;
}

/* --- checkpoint ------------------------------------------------------ */

static int
nfagg_w(struct buf *b, const void *p, size_t n)
{
	return buf_append(b, p, n);
}

#define NFAGG_W(b, v) nfagg_w((b), &(v), sizeof(v))

static int
nfagg_save_top(const struct nftop *t, struct buf *b)
{
	uint32_t i, n = t->n;

	if (NFAGG_W(b, n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		const struct nftop_ent *e = &t->ents[i];

		if (NFAGG_W(b, e->len) == -1 ||
		    nfagg_w(b, e->key, e->len) == -1 ||
		    NFAGG_W(b, e->count) == -1 || NFAGG_W(b, e->err) == -1)
			return -1;
	}
	return 0;
}

int
nfagg_save(const struct nfagg *a, struct buf *b)
{
	uint32_t n = (uint32_t)a->n_pending;
	size_t i;
	int wi;

	if (NFAGG_W(b, a->account) == -1 || NFAGG_W(b, n) == -1)
		return -1;
	for (i = 0; i < a->n_pending; i++) {
		uint16_t pl = (uint16_t)strlen(a->pending[i].path);

		if (NFAGG_W(b, pl) == -1 ||
		    nfagg_w(b, a->pending[i].path, pl) == -1 ||
		    NFAGG_W(b, a->pending[i].v) == -1 ||
		    NFAGG_W(b, a->pending[i].t) == -1)
			return -1;
	}
	for (wi = 0; wi < NFAGG_N_WINDOWS; wi++) {
		const struct nfagg_win *w = &a->win[wi];
		uint32_t ns = 0;
		size_t bk;

		for (bk = 0; bk < NFAGG_SCOPE_BUCKETS; bk++) {
			const struct nfagg_scope *sc;

			for (sc = w->scopes[bk]; sc != NULL; sc = sc->hnext)
				ns++;
		}
		if (NFAGG_W(b, w->start) == -1 || NFAGG_W(b, w->total) == -1 ||
		    NFAGG_W(b, w->flows) == -1 || NFAGG_W(b, ns) == -1)
			return -1;
		for (bk = 0; bk < NFAGG_SCOPE_BUCKETS; bk++) {
			const struct nfagg_scope *sc;

			for (sc = w->scopes[bk]; sc != NULL; sc = sc->hnext) {
				if (NFAGG_W(b, sc->entity) == -1 ||
				    NFAGG_W(b, sc->ifx) == -1 ||
				    NFAGG_W(b, sc->has_if) == -1 ||
				    NFAGG_W(b, sc->dir) == -1 ||
				    NFAGG_W(b, sc->bytes) == -1 ||
				    nfagg_save_top(&sc->ip, b) == -1 ||
				    nfagg_save_top(&sc->proto, b) == -1 ||
				    nfagg_save_top(&sc->conn, b) == -1 ||
				    nfagg_save_top(&sc->port, b) == -1)
					return -1;
			}
		}
	}
	return 0;
}

struct nfagg_rd {
	const uint8_t *p;
	size_t len, pos;
	int bad;
};

static void
nfagg_r(struct nfagg_rd *r, void *out, size_t n)
{
	if (r->bad || n > r->len - r->pos) {
		r->bad = 1;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p + r->pos, n);
	r->pos += n;
}

#define NFAGG_R(r, v) nfagg_r((r), &(v), sizeof(v))

static void
nfagg_load_top(struct nfagg_rd *r, struct nftop *t)
{
	uint32_t n, i;

	NFAGG_R(r, n);
	/* each entry needs at least 17 bytes: a count cannot lie */
	if (r->bad || n > (r->len - r->pos) / 17) {
		r->bad = 1;
		return;
	}
	for (i = 0; i < n && !r->bad; i++) {
		uint8_t len, key[NFTOP_KEY_MAX];
		uint64_t count, err;

		NFAGG_R(r, len);
		if (len > NFTOP_KEY_MAX) {
			r->bad = 1;
			return;
		}
		nfagg_r(r, key, len);
		NFAGG_R(r, count);
		NFAGG_R(r, err);
		if (!r->bad && t->cap > 0)
			nftop_restore(t, key, len, count, err);
	}
}

struct nfagg *
nfagg_load(const uint8_t *p, size_t len, size_t *used,
    const struct nfagg_limits *lim, char *err, size_t errlen)
{
	struct nfagg_rd r = {p, len, 0, 0};
	struct nfagg *a;
	int64_t account;
	uint32_t n, i;
	int wi;

	NFAGG_R(&r, account);
	NFAGG_R(&r, n);
	if (r.bad || account <= 0 || n > (len - r.pos) / 18) {
		snprintf(err, errlen, "bad account header");
		return NULL;
	}
	a = nfagg_new(account, lim);
	for (i = 0; i < n && !r.bad; i++) {
		char path[PATH_MAX_LEN + 1];
		uint16_t pl;
		double v, t;

		NFAGG_R(&r, pl);
		if (pl == 0 || pl > PATH_MAX_LEN) {
			r.bad = 1;
			break;
		}
		nfagg_r(&r, path, pl);
		path[pl] = '\0';
		NFAGG_R(&r, v);
		NFAGG_R(&r, t);
		if (!r.bad && path_valid(path))
			nfagg_put(a, path, v, t);
	}
	for (wi = 0; wi < NFAGG_N_WINDOWS && !r.bad; wi++) {
		struct nfagg_win *w = &a->win[wi];
		uint32_t ns, k;

		NFAGG_R(&r, w->start);
		NFAGG_R(&r, w->total);
		NFAGG_R(&r, w->flows);
		NFAGG_R(&r, ns);
		if (r.bad || w->start < 0 ||
		    w->start % nfagg_window_s[wi] != 0 ||
		    ns > (len - r.pos) / 38) {
			r.bad = 1;
			break;
		}
		for (k = 0; k < ns && !r.bad; k++) {
			struct nfagg_scope *sc;
			int64_t entity;
			uint32_t ifx;
			uint8_t has_if, dir;
			uint64_t bytes;

			NFAGG_R(&r, entity);
			NFAGG_R(&r, ifx);
			NFAGG_R(&r, has_if);
			NFAGG_R(&r, dir);
			NFAGG_R(&r, bytes);
			if (r.bad || has_if > 1 || dir > 1) {
				r.bad = 1;
				break;
			}
			sc = nfagg_scope(a, w, entity, has_if, ifx, dir);
			if (sc == NULL) {
				r.bad = 1;
				break;
			}
			sc->bytes += bytes;
			nfagg_load_top(&r, &sc->ip);
			nfagg_load_top(&r, &sc->proto);
			nfagg_load_top(&r, &sc->conn);
			nfagg_load_top(&r, &sc->port);
		}
	}
	if (r.bad) {
		snprintf(err, errlen,
		    "account %lld: truncated or invalid "
		    "window data",
		    (long long)account);
		nfagg_free(a);
		return NULL;
	}
	*used = r.pos;
	return a;
}
