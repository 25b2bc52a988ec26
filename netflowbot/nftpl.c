/*
 * Template cache: two chained hash tables (sources, templates) of fixed
 * bucket counts, and one LRU list of templates for the memory cap.  A
 * template is one allocation: header, field widths, precomputed offsets
 * (fixed-size templates) and extraction ops.
 */
#include "nftpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfnsel.h"
#include "xmalloc.h"

#define NFTPL_SRC_BUCKETS 1024
#define NFTPL_TPL_BUCKETS 8192

struct nftpl_op {
	uint16_t fi;   /* field index */
	uint16_t off;  /* its offset, fixed-size templates only */
	uint8_t len;   /* width in bytes, 1..16 */
	uint8_t what;  /* enum nftpl_what */
	uint8_t shift; /* values (1..8 bytes): 64 - 8 * len */
};

struct nftpl {
	struct nftpl *hnext;
	struct nftpl *prev, *next; /* LRU: least recently refreshed first */
	struct nftpl_src *src;
	uint16_t id;
	uint8_t options;
	uint8_t has_var;
	uint16_t n_fields;
	uint16_t n_ops;
	uint32_t min_len;
	uint64_t have; /* bit (1 << what) per op: what every record sets */
	uint16_t n_addr_ops; /* ops[0 .. n_addr_ops) are addresses */
	uint32_t max_end8;   /* largest value op offset + 8 */
	int64_t updated_s;
	size_t bytes;
	uint16_t *lens; /* per field */
	uint16_t *offs; /* per field, fixed-size templates only */
	struct nftpl_op *ops;
};

struct nftpl_cache {
	struct nftpl_limits lim;
	struct nftpl_src *srcs[NFTPL_SRC_BUCKETS];
	struct nftpl *tpls[NFTPL_TPL_BUCKETS];
	struct nftpl *lru_head, *lru_tail;
	size_t n_srcs, n_tpls, bytes;
	struct nftpl_pend *pend; /* oldest first */
	size_t pend_bytes;
};

void
nftpl_limits_defaults(struct nftpl_limits *lim)
{
	lim->max_sources = 1024;
	lim->max_per_source = 512;
	lim->max_bytes = 16u << 20;
	lim->ttl_s = 1800;
	lim->pend_max_bytes = 1u << 20;
	lim->pend_ttl_s = 10;
}

/* Drops kept data sets that are too old, or all of src's (src != NULL). */
static void
nftpl_pend_drop(
    struct nftpl_cache *c, const struct nftpl_src *src, int64_t now_s)
{
	struct nftpl_pend **pp = &c->pend;

	while (*pp != NULL) {
		struct nftpl_pend *p = *pp;

		if ((src != NULL && p->src == src) ||
		    (src == NULL && now_s - p->at_s > c->lim.pend_ttl_s)) {
			*pp = p->next;
			c->pend_bytes -= sizeof(*p) + p->len;
			free(p);
		} else {
			pp = &p->next;
		}
	}
}

int
nftpl_pend_put(struct nftpl_cache *c, struct nftpl_src *src, uint16_t id,
    const uint8_t *b, size_t len, int64_t export_ms, uint32_t sys_up,
    int64_t now_s)
{
	struct nftpl_pend *p, **pp;

	nftpl_pend_drop(c, NULL, now_s);
	if (c->pend_bytes + sizeof(*p) + len > c->lim.pend_max_bytes)
		return -1;
	p = xmalloc(sizeof(*p) + len);
	p->next = NULL;
	p->src = src;
	p->id = id;
	p->at_s = now_s;
	p->export_ms = export_ms;
	p->sys_up = sys_up;
	p->len = len;
	memcpy(p->data, b, len);
	for (pp = &c->pend; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = p;
	c->pend_bytes += sizeof(*p) + len;
	return 0;
}

struct nftpl_pend *
nftpl_pend_take(
    struct nftpl_cache *c, struct nftpl_src *src, uint16_t id, int64_t now_s)
{
	struct nftpl_pend **pp;

	if (c->pend == NULL)
		return NULL;
	nftpl_pend_drop(c, NULL, now_s);
	for (pp = &c->pend; *pp != NULL; pp = &(*pp)->next) {
		struct nftpl_pend *p = *pp;

		if (p->src == src && p->id == id) {
			*pp = p->next;
			c->pend_bytes -= sizeof(*p) + p->len;
			p->next = NULL;
			return p;
		}
	}
	return NULL;
}

size_t
nftpl_pend_bytes(const struct nftpl_cache *c)
{
	return c->pend_bytes;
}

struct nftpl_cache *
nftpl_cache_new(const struct nftpl_limits *lim)
{
	struct nftpl_cache *c = xcalloc(1, sizeof(*c));

	c->lim = *lim;
	return c;
}

static uint32_t
nftpl_hash(const uint8_t *p, size_t n, uint32_t h)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t
nftpl_src_hash(const uint8_t addr[16], uint8_t version, uint32_t domain)
{
	uint8_t k[5] = {version, (uint8_t)(domain >> 24),
	    (uint8_t)(domain >> 16), (uint8_t)(domain >> 8), (uint8_t)domain};

	return nftpl_hash(k, 5, nftpl_hash(addr, 16, 2166136261u));
}

static size_t
nftpl_tpl_bucket(const struct nftpl_src *src, uint16_t id)
{
	uintptr_t p = (uintptr_t)src;
	uint32_t h = (uint32_t)(p >> 4) * 2654435761u;

	return (h ^ (id * 40503u)) % NFTPL_TPL_BUCKETS;
}

static void
nftpl_lru_unlink(struct nftpl_cache *c, struct nftpl *t)
{
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		c->lru_head = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	else
		c->lru_tail = t->prev;
	t->prev = t->next = NULL;
}

static void
nftpl_lru_append(struct nftpl_cache *c, struct nftpl *t)
{
	t->prev = c->lru_tail;
	t->next = NULL;
	if (c->lru_tail != NULL)
		c->lru_tail->next = t;
	else
		c->lru_head = t;
	c->lru_tail = t;
}

/* Unlinks t from its bucket and the LRU and frees it. */
static void
nftpl_remove(struct nftpl_cache *c, struct nftpl *t)
{
	struct nftpl **pp = &c->tpls[nftpl_tpl_bucket(t->src, t->id)];

	while (*pp != NULL && *pp != t)
		pp = &(*pp)->hnext;
	if (*pp == t)
		*pp = t->hnext;
	nftpl_lru_unlink(c, t);
	t->src->n_tpl--;
	c->n_tpls--;
	c->bytes -= t->bytes;
	free(t);
}

void
nftpl_cache_free(struct nftpl_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	while (c->lru_head != NULL)
		nftpl_remove(c, c->lru_head);
	while (c->pend != NULL) {
		struct nftpl_pend *p = c->pend;

		c->pend = p->next;
		free(p);
	}
	for (i = 0; i < NFTPL_SRC_BUCKETS; i++) {
		while (c->srcs[i] != NULL) {
			struct nftpl_src *s = c->srcs[i];

			c->srcs[i] = s->next;
			nfnsel_free(s->nsel);
			free(s);
		}
	}
	free(c);
}

struct nftpl_src *
nftpl_source(struct nftpl_cache *c, const uint8_t addr[16], uint8_t version,
    uint32_t domain, int64_t now_s, struct nfstats *st)
{
	size_t b = nftpl_src_hash(addr, version, domain) % NFTPL_SRC_BUCKETS;
	struct nftpl_src *s;

	for (s = c->srcs[b]; s != NULL; s = s->next) {
		if (s->domain == domain && s->version == version &&
		    memcmp(s->addr, addr, 16) == 0) {
			s->seen_s = now_s;
			return s;
		}
	}
	if (c->n_srcs >= c->lim.max_sources) {
		if (st != NULL)
			st->sources_refused++;
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	memcpy(s->addr, addr, 16);
	s->version = version;
	s->domain = domain;
	s->seen_s = now_s;
	s->next = c->srcs[b];
	c->srcs[b] = s;
	c->n_srcs++;
	return s;
}

static struct nftpl *
nftpl_lookup(struct nftpl_cache *c, const struct nftpl_src *src, uint16_t id)
{
	struct nftpl *t;

	for (t = c->tpls[nftpl_tpl_bucket(src, id)]; t != NULL; t = t->hnext)
		if (t->src == src && t->id == id)
			return t;
	return NULL;
}

/* The meaning of an IANA IE of width len, or -1 when we do not read it. */
static int
nftpl_what(uint16_t ie, uint16_t len)
{
	int w = -1, addr = 0;

	switch (ie) {
	case 1:
		w = NFW_BYTES;
		break;
	case 2:
		w = NFW_PKTS;
		break;
	case 85:
		w = NFW_BYTES_TOT;
		break;
	case 86:
		w = NFW_PKTS_TOT;
		break;
	case 4:
		w = NFW_PROTO;
		break;
	case 7:
		w = NFW_SPORT;
		break;
	case 11:
		w = NFW_DPORT;
		break;
	case 10:
		w = NFW_INIF;
		break;
	case 14:
		w = NFW_OUTIF;
		break;
	case 252: /* ingressPhysicalInterface */
		w = NFW_INIF_PHYS;
		break;
	case 253: /* egressPhysicalInterface */
		w = NFW_OUTIF_PHYS;
		break;
	case 61:
		w = NFW_DIR;
		break;
	case 22:
		w = NFW_FIRST_UP;
		break;
	case 21:
		w = NFW_LAST_UP;
		break;
	case 150:
		w = NFW_START_S;
		break;
	case 151:
		w = NFW_END_S;
		break;
	case 152:
		w = NFW_START_MS;
		break;
	case 153:
		w = NFW_END_MS;
		break;
	case 154:
		w = NFW_START_US;
		break;
	case 155:
		w = NFW_END_US;
		break;
	case 156:
		w = NFW_START_NS;
		break;
	case 157:
		w = NFW_END_NS;
		break;
	case 158:
		w = NFW_START_DUS;
		break;
	case 159:
		w = NFW_END_DUS;
		break;
	case 160:
		w = NFW_SYSINIT_MS;
		break;
	case 34:
		w = NFW_SAMP_INT;
		break;
	case 35:
		w = NFW_SAMP_ALGO;
		break;
	case 305:
		w = NFW_PKT_INT;
		break;
	case 306:
		w = NFW_PKT_SPACE;
		break;
	case 48:
		w = NFW_SAMPLER_ID;
		break;
	case 302:
		w = NFW_SAMPLER_ID;
		break;
	case 50:
		w = NFW_SAMP_RAND;
		break;
	case 32:  /* icmpTypeCodeIPv4 */
	case 139: /* icmpTypeCodeIPv6 */
		w = NFW_ICMP;
		break;
	case 231: /* initiatorOctets (ASA NF_F_FWD_FLOW_DELTA_BYTES) */
		w = NFW_INIT_BYTES;
		break;
	case 232: /* responderOctets (NF_F_REV_FLOW_DELTA_BYTES) */
		w = NFW_RESP_BYTES;
		break;
	case 298: /* initiatorPackets */
		w = NFW_INIT_PKTS;
		break;
	case 299: /* responderPackets */
		w = NFW_RESP_PKTS;
		break;
	case 233:   /* firewallEvent (NF_F_FW_EVENT) */
	case 40005: /* ASA 8.4's NF_F_FW_EVENT_84 (v9 only) */
		w = NFW_FW_EVENT;
		break;
	case 148: /* flowId (NF_F_CONN_ID) */
		w = NFW_CONN_ID;
		break;
	case 176: /* icmpTypeIPv4 */
	case 178: /* icmpTypeIPv6 */
		w = NFW_ICMP_TYPE;
		break;
	case 177: /* icmpCodeIPv4 */
	case 179: /* icmpCodeIPv6 */
		w = NFW_ICMP_CODE;
		break;
	case 8:
		w = NFW_SRC4;
		addr = 4;
		break;
	case 12:
		w = NFW_DST4;
		addr = 4;
		break;
	case 27:
		w = NFW_SRC6;
		addr = 16;
		break;
	case 28:
		w = NFW_DST6;
		addr = 16;
		break;
	default:
		return -1;
	}
	if (addr)
		return len == addr ? w : -1;
	if ((w == NFW_START_US || w == NFW_END_US || w == NFW_START_NS ||
	        w == NFW_END_NS) &&
	    len != 8)
		return -1;
	return len >= 1 && len <= 8 ? w : -1;
}

/* 1 for field i of a v9 options template when it is one of RFC 3954's
 * scope types (1 System .. 5 Template), which are not IEs.  Cisco's
 * Flexible NetFlow uses IEs as v9 scope fields (samplerId 48 for its
 * sampler table, as nfdump reads them): those are read. */
static int
nftpl_v9_scope_type(
    const struct nftpl_src *src, size_t i, size_t n_scope, uint16_t ie)
{
	return src->version == 9 && i < n_scope && ie >= 1 && ie <= 5;
}

int
nftpl_add(struct nftpl_cache *c, struct nftpl_src *src, uint16_t id,
    int options, size_t n_scope, const struct nftpl_field *fields, size_t n,
    int64_t now_s, struct nfstats *st, char *err, size_t errlen)
{
	struct nftpl *t, *old;
	uint64_t have = 0, min_len = 0;
	size_t i, n_ops = 0, size;
	int has_var = 0, pass;
	char *p;

	if (n == 0 || n > NFTPL_MAX_FIELDS) {
		snprintf(err, errlen, "template %u: %zu fields (1..%d allowed)",
		    id, n, NFTPL_MAX_FIELDS);
		goto bad;
	}
	for (i = 0; i < n; i++) {
		int w;

		if (fields[i].len == NFTPL_VARLEN) {
			has_var = 1;
			min_len += 1;
			continue;
		}
		min_len += fields[i].len;
		if (fields[i].pen != 0 ||
		    nftpl_v9_scope_type(src, i, n_scope, fields[i].ie))
			continue;
		w = nftpl_what(fields[i].ie, fields[i].len);
		if (w >= 0 && !(have & (UINT64_C(1) << w))) {
			have |= UINT64_C(1) << w;
			n_ops++;
		}
	}
	if (min_len == 0 || min_len > 65535) {
		snprintf(err, errlen, "template %u: record size %llu", id,
		    (unsigned long long)min_len);
		goto bad;
	}
	old = nftpl_lookup(c, src, id);
	if (old == NULL && src->n_tpl >= c->lim.max_per_source) {
		snprintf(err, errlen,
		    "template %u: the source already has %zu templates", id,
		    c->lim.max_per_source);
		goto bad;
	}
	size = sizeof(*t) + n * sizeof(uint16_t) * 2 +
	    n_ops * sizeof(struct nftpl_op) + 8;
	t = xcalloc(1, size);
	p = (char *)(t + 1);
	t->ops = (struct nftpl_op *)(void *)p;
	p += n_ops * sizeof(struct nftpl_op);
	t->lens = (uint16_t *)(void *)p;
	p += n * sizeof(uint16_t);
	t->offs = (uint16_t *)(void *)p;
	t->src = src;
	t->id = id;
	t->options = options != 0;
	t->has_var = (uint8_t)has_var;
	t->n_fields = (uint16_t)n;
	t->min_len = (uint32_t)min_len;
	t->updated_s = now_s;
	t->bytes = size;
	min_len = 0;
	for (i = 0; i < n; i++) {
		t->lens[i] = fields[i].len;
		t->offs[i] = (uint16_t)min_len;
		min_len += fields[i].len == NFTPL_VARLEN ? 1 : fields[i].len;
	}
	/* address ops first, then values: a record's loop then has no
	 * branch on the kind (each value is set once either way) */
	have = 0;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			struct nftpl_op *op = &t->ops[t->n_ops];
			int w;

			if (fields[i].len == NFTPL_VARLEN ||
			    fields[i].pen != 0 ||
			    nftpl_v9_scope_type(src, i, n_scope, fields[i].ie))
				continue;
			w = nftpl_what(fields[i].ie, fields[i].len);
			if (w < 0 || (have & (UINT64_C(1) << w)) ||
			    (w <= NFW_DST6) != (pass == 0))
				continue;
			have |= UINT64_C(1) << w;
			op->fi = (uint16_t)i;
			op->off = t->offs[i];
			op->len = (uint8_t)fields[i].len;
			op->what = (uint8_t)w;
			op->shift = (uint8_t)(pass == 1 ? 64 - 8 * op->len : 0);
			if (pass == 0)
				t->n_addr_ops++;
			else if (op->off + 8u > t->max_end8)
				t->max_end8 = op->off + 8u;
			t->n_ops++;
		}
	}
	t->have = have;
	if (old != NULL)
		nftpl_remove(c, old);
	{
		size_t b = nftpl_tpl_bucket(src, id);

		t->hnext = c->tpls[b];
		c->tpls[b] = t;
	}
	nftpl_lru_append(c, t);
	src->n_tpl++;
	c->n_tpls++;
	c->bytes += size;
	if (st != NULL)
		st->templates_added++;
	/* Over the memory cap: the least recently refreshed go first. */
	while (c->bytes > c->lim.max_bytes && c->lru_head != t) {
		nftpl_remove(c, c->lru_head);
		if (st != NULL)
			st->templates_evicted++;
	}
	return 0;
bad:
	if (st != NULL)
		st->templates_bad++;
	return -1;
}

size_t
nftpl_withdraw(struct nftpl_cache *c, struct nftpl_src *src, uint16_t id,
    struct nfstats *st)
{
	struct nftpl *t, *next;
	size_t n = 0;

	if (id == 2 || id == 3) {
		for (t = c->lru_head; t != NULL; t = next) {
			next = t->next;
			if (t->src == src && t->options == (id == 3)) {
				nftpl_remove(c, t);
				n++;
			}
		}
	} else if ((t = nftpl_lookup(c, src, id)) != NULL) {
		nftpl_remove(c, t);
		n = 1;
	}
	if (st != NULL)
		st->templates_withdrawn += n;
	return n;
}

const struct nftpl *
nftpl_find(
    struct nftpl_cache *c, struct nftpl_src *src, uint16_t id, int64_t now_s)
{
	struct nftpl *t = nftpl_lookup(c, src, id);

	if (t != NULL && now_s - t->updated_s > c->lim.ttl_s) {
		nftpl_remove(c, t);
		return NULL;
	}
	return t;
}

void
nftpl_expire(struct nftpl_cache *c, int64_t now_s, struct nfstats *st)
{
	struct nftpl *t, *next;
	size_t i;

	nftpl_pend_drop(c, NULL, now_s);
	for (t = c->lru_head; t != NULL; t = next) {
		next = t->next;
		if (now_s - t->updated_s <= c->lim.ttl_s)
			break; /* the list is in refresh order */
		nftpl_remove(c, t);
		if (st != NULL)
			st->templates_evicted++;
	}
	for (i = 0; i < NFTPL_SRC_BUCKETS; i++) {
		struct nftpl_src **pp = &c->srcs[i];

		while (*pp != NULL) {
			struct nftpl_src *s = *pp;

			if (s->n_tpl == 0 && now_s - s->seen_s > c->lim.ttl_s) {
				*pp = s->next;
				nftpl_pend_drop(c, s, now_s);
				nfnsel_free(s->nsel);
				free(s);
				c->n_srcs--;
			} else {
				pp = &s->next;
			}
		}
	}
}

size_t
nftpl_cache_bytes(const struct nftpl_cache *c)
{
	return c->bytes;
}

size_t
nftpl_cache_count(const struct nftpl_cache *c)
{
	return c->n_tpls;
}

int
nftpl_is_options(const struct nftpl *t)
{
	return t->options;
}

size_t
nftpl_min_len(const struct nftpl *t)
{
	return t->min_len;
}

int
nftpl_record(const struct nftpl *t, const uint8_t *b, size_t rem, size_t *used,
    struct nftpl_rec *r)
{
	uint32_t voff[NFTPL_MAX_FIELDS];
	size_t i;

	r->have = 0;
	if (rem < t->min_len)
		return -1;
	if (!t->has_var) {
		r->have = t->have;
		for (i = 0; i < t->n_addr_ops; i++)
			r->addr[t->ops[i].what] = b + t->ops[i].off;
		if (t->max_end8 <= rem) {
			/* each value: one 8-byte load and a shift, whatever
			 * its width (no branch on it) */
			for (; i < t->n_ops; i++) {
				const struct nftpl_op *op = &t->ops[i];
				uint64_t x;

				memcpy(&x, b + op->off, 8);
				r->v[op->what] = be64toh(x) >> op->shift;
			}
		} else { /* near the set's end */
			for (; i < t->n_ops; i++) {
				const struct nftpl_op *op = &t->ops[i];

				r->v[op->what] =
				    nfflow_be(b + op->off, op->len);
			}
		}
		*used = t->min_len;
		return 0;
	} else {
		size_t pos = 0;

		for (i = 0; i < t->n_fields; i++) {
			size_t l = t->lens[i];

			if (l == NFTPL_VARLEN) {
				if (pos + 1 > rem)
					return -1;
				l = b[pos++];
				if (l == 255) {
					if (pos + 2 > rem)
						return -1;
					l = (size_t)nfflow_be(b + pos, 2);
					pos += 2;
				}
			}
			voff[i] = (uint32_t)pos;
			if (l > rem - pos)
				return -1;
			pos += l;
		}
		for (i = 0; i < t->n_ops; i++) {
			const struct nftpl_op *op = &t->ops[i];
			const uint8_t *p = b + voff[op->fi];

			r->have |= UINT64_C(1) << op->what;
			if (op->what <= NFW_DST6)
				r->addr[op->what] = p;
			else
				r->v[op->what] = nfflow_be(p, op->len);
		}
		*used = pos;
		return 0;
	}
}
