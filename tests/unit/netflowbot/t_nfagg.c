/*
 * Unit tests for the aggregation: Space-Saving's error bound against
 * exact counts, window alignment and closing, the value paths of the
 * protocol (section 5), top-10 lists, IP escaping and protocol names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../netflowbot/nfagg.h"
#include "../../../netflowbot/nfproto.h"
#include "../../../netflowbot/nftop.h"
#include "../t.h"
#include "path.h"

T_TEST(nftop_exact_below_cap)
{
	const struct nftop_ent *top[3];
	struct nftop t;
	uint32_t k;

	nftop_init(&t, 100);
	for (k = 0; k < 50; k++)
		nftop_add(&t, &k, sizeof(k), k + 1);
	nftop_add(&t, &(uint32_t){7}, 4, 1000);
	T_EQ_INT(nftop_error_bound(&t), 0);
	T_EQ_INT(nftop_top(&t, 3, top), 3);
	T_EQ_INT(top[0]->count, 1008);
	T_EQ_INT(top[0]->err, 0);
	T_EQ_INT(top[1]->count, 50);
	T_EQ_INT(top[2]->count, 49);
	nftop_free(&t);
}

T_TEST(nftop_space_saving_bound)
{
	enum { KEYS = 5000, CAP = 64 };
	static uint64_t truth[KEYS];
	const struct nftop_ent *top[CAP];
	uint64_t total = 0, bound;
	struct nftop t;
	size_t i, n;
	uint32_t seed = 12345;

	memset(truth, 0, sizeof(truth));
	nftop_init(&t, CAP);
	for (i = 0; i < 200000; i++) {
		uint32_t k, w;

		seed = seed * 1103515245u + 12345u;
		/* skewed: a few heavy keys, a long tail */
		k = (seed >> 8) % 100 < 30 ? (seed >> 16) % 8
		                           : (seed >> 12) % KEYS;
		w = 1 + (seed >> 4) % 1500;
		truth[k] += w;
		total += w;
		nftop_add(&t, &k, sizeof(k), w);
	}
	T_EQ_INT(t.total, total);
	bound = nftop_error_bound(&t);
	T_ASSERT(bound > 0);
	T_ASSERT(bound <= total / CAP);
	n = nftop_top(&t, CAP, top);
	T_EQ_INT(n, CAP);
	for (i = 0; i < n; i++) {
		uint32_t k;

		memcpy(&k, top[i]->key, 4);
		T_ASSERT(top[i]->count >= truth[k]);
		T_ASSERT(top[i]->count - top[i]->err <= truth[k]);
		T_ASSERT(top[i]->err <= bound);
	}
	/* every key above N/m is in the table; the 8 heavy ones lead */
	for (i = 0; i < KEYS; i++) {
		size_t j;
		int found = 0;

		if (truth[i] <= total / CAP)
			continue;
		for (j = 0; j < n; j++)
			found |= memcmp(top[j]->key, &(uint32_t){(uint32_t)i},
			             4) == 0;
		T_ASSERT(found);
	}
	for (i = 0; i < 8; i++) {
		uint32_t k;

		memcpy(&k, top[i]->key, 4);
		T_ASSERT(k < 8);
	}
	nftop_free(&t);
}

/* A plain Space-Saving to check nftop against: entries in arrival order,
 * keys found by a linear scan, a binary min-heap sifted one level at a
 * time.  nftop's chains, two-level sift-down and key tricks must give the
 * very same entries (ties included), as the values posted depend on it. */
struct t_ss {
	uint32_t cap, n;
	struct nftop_ent e[64];
	uint32_t heap[64]; /* entry indices, once full */
};

static void
t_ss_down(struct t_ss *s, uint32_t i)
{
	uint32_t x = s->heap[i];

	for (;;) {
		uint32_t l = 2 * i + 1, m = l;

		if (l >= s->n)
			break;
		if (l + 1 < s->n &&
		    s->e[s->heap[l + 1]].count < s->e[s->heap[l]].count)
			m = l + 1;
		if (s->e[s->heap[m]].count >= s->e[x].count)
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	s->heap[i] = x;
}

static void
t_ss_add(
    struct t_ss *s, const uint8_t *key, uint8_t len, uint64_t w, uint64_t err)
{
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		if (s->e[i].len == len && memcmp(s->e[i].key, key, len) == 0) {
			s->e[i].count += w;
			s->e[i].err += err;
			if (s->n == s->cap) {
				uint32_t p = 0;

				while (s->heap[p] != i)
					p++;
				t_ss_down(s, p);
			}
			return;
		}
	}
	if (s->n < s->cap) {
		i = s->n++;
		memset(&s->e[i], 0, sizeof(s->e[i]));
		s->e[i].len = len;
		memcpy(s->e[i].key, key, len);
		s->e[i].count = w;
		s->e[i].err = err;
		if (s->n == s->cap) {
			for (i = 0; i < s->n; i++)
				s->heap[i] = i;
			for (i = s->n / 2; i-- > 0;)
				t_ss_down(s, i);
		}
		return;
	}
	i = s->heap[0];
	s->e[i].len = len;
	memcpy(s->e[i].key, key, len);
	s->e[i].err = s->e[i].count + err;
	s->e[i].count += w;
	t_ss_down(s, 0);
}

static int
t_ss_same(const struct t_ss *s, const struct nftop *t)
{
	uint32_t i;

	if (t->n != s->n)
		return 0;
	for (i = 0; i < s->n; i++)
		if (t->ents[i].len != s->e[i].len ||
		    memcmp(t->ents[i].key, s->e[i].key, s->e[i].len) != 0 ||
		    t->ents[i].count != s->e[i].count ||
		    t->ents[i].err != s->e[i].err)
			return 0;
	return 1;
}

T_TEST(nftop_matches_a_plain_space_saving)
{
	static const uint8_t lens[] = {1, 2, 5, 9, 17, 33};
	static const uint32_t caps[] = {1, 2, 7, 16, 64};
	uint32_t seed = 777;
	size_t c;

	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		struct t_ss ref, ref2;
		struct nftop t, t2;
		size_t i;

		memset(&ref, 0, sizeof(ref));
		ref.cap = caps[c];
		nftop_init(&t, caps[c]);
		for (i = 0; i < 20000; i++) {
			uint8_t key[NFTOP_KEY_MAX];
			uint8_t len;
			uint64_t w;
			size_t j;

			seed = seed * 1103515245u + 12345u;
			len = lens[(seed >> 8) % 6];
			/* few distinct values per byte: hits, long chains */
			for (j = 0; j < len; j++) {
				seed = seed * 1103515245u + 12345u;
				key[j] = (uint8_t)((seed >> 16) % 3);
			}
			/* small weights: many equal counts, so ties decide */
			w = 1 + (seed >> 4) % 3;
			if (i % 2)
				nftop_add(&t, key, len, w);
			else
				nftop_add_hashed(
				    &t, key, len, nftop_key_hash(key, len), w);
			t_ss_add(&ref, key, len, w, 0);
			if (i % 997 == 0)
				T_ASSERT(t_ss_same(&ref, &t));
		}
		T_ASSERT(t_ss_same(&ref, &t));
		T_EQ_INT(nftop_error_bound(&t),
		    ref.n == ref.cap ? ref.e[ref.heap[0]].count : 0);
		/* a merge into a table holding part of the same keys */
		memset(&ref2, 0, sizeof(ref2));
		ref2.cap = caps[c];
		nftop_init(&t2, caps[c]);
		for (i = 0; i < ref.n / 2 + 1 && i < ref.n; i++) {
			nftop_add(&t2, ref.e[i].key, ref.e[i].len, 5);
			t_ss_add(&ref2, ref.e[i].key, ref.e[i].len, 5, 0);
		}
		nftop_merge(&t2, &t);
		for (i = 0; i < ref.n; i++)
			t_ss_add(&ref2, ref.e[i].key, ref.e[i].len,
			    ref.e[i].count, ref.e[i].err);
		T_ASSERT(t_ss_same(&ref2, &t2));
		nftop_free(&t);
		nftop_free(&t2);
	}
}

static struct nfflow
t_flow(uint8_t src_last, uint8_t proto, uint16_t dport, uint64_t bytes)
{
	struct nfflow f;

	memset(&f, 0, sizeof(f));
	f.af = 4;
	f.src[0] = 10;
	f.src[3] = src_last;
	f.dst[0] = 192;
	f.dst[1] = 0;
	f.dst[2] = 2;
	f.dst[3] = 1;
	f.proto = proto;
	f.dport = dport;
	f.in_if = 3;
	f.out_if = 4;
	f.bytes = bytes;
	f.packets = 1;
	return f;
}

static const struct nfagg_value *
t_find(const struct nfagg_value *v, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].path, path) == 0)
			return &v[i];
	return NULL;
}

static void
t_values_free(struct nfagg_value *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

T_TEST(nfagg_windows_and_paths)
{
	struct nfagg_limits lim;
	struct nfagg *a;
	struct nfagg_value *v;
	const struct nfagg_value *x;
	struct nfflow f;
	size_t n, i, n_topip = 0;
	int64_t t0 = 1700000110; /* 50 s before a minute boundary */

	nfagg_limits_defaults(&lim);
	a = nfagg_new(7, &lim);
	for (i = 1; i <= 12; i++) {
		f = t_flow((uint8_t)i, i == 12 ? 93 : 6, 443, 100 * i);
		nfagg_add(a, 42, &f, t0);
	}
	f = t_flow(1, 17, 53, 5);
	f.dir = NFFLOW_EGRESS;
	nfagg_add(a, 42, &f, t0 + 5);
	T_EQ_INT(nfagg_take(a, &v), 0);
	free(v);
	/* the next minute: the 1min window closes, the others stay open */
	nfagg_advance(a, t0 + 50);
	n = nfagg_take(a, &v);
	T_ASSERT(n > 0);
	for (i = 0; i < n; i++) {
		T_ASSERT(path_valid(v[i].path));
		T_EQ_DBL(v[i].t, 1700000160.0, 0);
		T_ASSERT(strncmp(v[i].path, "netflow.1min.", 13) == 0);
		if (strstr(v[i].path, ".entity.42.topip.") != NULL &&
		    strstr(v[i].path, "ingress") != NULL)
			n_topip++;
	}
	T_EQ_INT(n_topip, 10);
	x = t_find(v, n, "netflow.1min.ingress");
	T_ASSERT(x != NULL);
	T_EQ_DBL(x->v, 7800, 0);
	x = t_find(v, n, "netflow.1min.egress");
	T_ASSERT(x != NULL);
	T_EQ_DBL(x->v, 5, 0);
	x = t_find(v, n, "netflow.1min.ingress.entity.42");
	T_ASSERT(x != NULL && x->v == 7800);
	x = t_find(v, n, "netflow.1min.ingress.entity.42.if.3");
	T_ASSERT(x != NULL && x->v == 7800);
	x = t_find(v, n, "netflow.1min.egress.entity.42.if.4");
	T_ASSERT(x != NULL && x->v == 5);
	x = t_find(
	    v, n, "netflow.1min.ingress.entity.42.topip.10%2e0%2e0%2e12");
	T_ASSERT(x != NULL && x->v == 1200);
	/* the two smallest sources are not in the top 10 */
	T_ASSERT(
	    t_find(v, n,
	        "netflow.1min.ingress.entity.42.topip.10%2e0%2e0%2e1") == NULL);
	x = t_find(v, n, "netflow.1min.egress.entity.42.topip.192%2e0%2e2%2e1");
	T_ASSERT(x != NULL && x->v == 5);
	x = t_find(v, n, "netflow.1min.ingress.entity.42.topprotocol.TCP");
	T_ASSERT(x != NULL && x->v == 6600);
	x = t_find(v, n, "netflow.1min.ingress.entity.42.topprotocol.AX%2e25");
	T_ASSERT(x != NULL && x->v == 1200);
	x = t_find(v, n, "netflow.1min.ingress.entity.42.if.3.topprotocol.TCP");
	T_ASSERT(x != NULL && x->v == 6600);
	x = t_find(v, n, "netflow.1min.ingress.entity.42.topdstports.443");
	T_ASSERT(x != NULL && x->v == 7800);
	x = t_find(v, n,
	    "netflow.1min.ingress.entity.42.topconn.10%2e0%2e0%2e5."
	    "192%2e0%2e2%2e1");
	T_ASSERT(x != NULL && x->v == 500);
	/* no conn / port lists per interface */
	for (i = 0; i < n; i++)
		T_ASSERT(!(strstr(v[i].path, ".if.") &&
		    (strstr(v[i].path, "topconn") ||
		        strstr(v[i].path, "topdstports"))));
	t_values_free(v, n);
	/* end of capture: every window that saw flows closes at its end */
	nfagg_flush(a);
	n = nfagg_take(a, &v);
	x = t_find(v, n, "netflow.15min.ingress");
	T_ASSERT(x != NULL && x->v == 7800);
	T_EQ_DBL(x->t, 1700001000.0, 0);
	x = t_find(v, n, "netflow.24h.egress.entity.42");
	T_ASSERT(x != NULL && x->v == 5);
	T_EQ_DBL(x->t, 1700006400.0, 0);
	T_ASSERT(t_find(v, n, "netflow.1min.ingress") == NULL);
	t_values_free(v, n);
	nfagg_free(a);
}

T_TEST(nfagg_ipv6_and_idle_windows)
{
	struct nfagg_limits lim;
	struct nfagg *a;
	struct nfagg_value *v;
	const struct nfagg_value *x;
	struct nfflow f;
	size_t n, i;

	nfagg_limits_defaults(&lim);
	a = nfagg_new(1, &lim);
	f = t_flow(1, 58, 0, 64);
	f.af = 6;
	memset(f.src, 0, 16);
	f.src[0] = 0x20;
	f.src[1] = 0x01;
	f.src[2] = 0x0d;
	f.src[3] = 0xb8;
	f.src[15] = 1;
	nfagg_add(a, 5, &f, 1700000000); /* window 1699999980..40 */
	nfagg_advance(a, 1700000060);
	nfagg_advance(a, 1700000125); /* an idle minute reports zeros */
	n = nfagg_take(a, &v);
	x = t_find(
	    v, n, "netflow.1min.ingress.entity.5.topip.2001%3adb8%3a%3a1");
	T_ASSERT(x != NULL && x->v == 64);
	x = t_find(v, n, "netflow.1min.ingress.entity.5.topprotocol.IPv6-ICMP");
	T_ASSERT(x != NULL);
	T_EQ_DBL(x->t, 1700000040.0, 0);
	for (i = 0; i < n; i++)
		if (strcmp(v[i].path, "netflow.1min.ingress") == 0 &&
		    v[i].t == 1700000100.0)
			break;
	T_ASSERT(i < n);
	T_EQ_DBL(v[i].v, 0, 0);
	t_values_free(v, n);
	nfagg_free(a);
}

T_TEST(nfagg_interface_cap)
{
	struct nfagg_limits lim;
	struct nfagg *a;
	struct nfflow f;
	uint32_t i;

	nfagg_limits_defaults(&lim);
	lim.max_ifaces = 4;
	a = nfagg_new(1, &lim);
	for (i = 0; i < 100; i++) {
		f = t_flow(1, 6, 80, 10);
		f.in_if = i;
		nfagg_add(a, 5, &f, 1700000000);
	}
	T_ASSERT(nfagg_iface_overflow(a) > 0);
	nfagg_free(a);
}

T_TEST(nfproto_names_path_safe)
{
	char buf[64], path[128];
	unsigned p;

	T_EQ_STR(nfproto_name(6, buf, sizeof(buf)), "TCP");
	T_EQ_STR(nfproto_name(17, buf, sizeof(buf)), "UDP");
	T_EQ_STR(nfproto_name(58, buf, sizeof(buf)), "IPv6-ICMP");
	T_EQ_STR(nfproto_name(132, buf, sizeof(buf)), "SCTP");
	T_EQ_STR(nfproto_name(145, buf, sizeof(buf)), "NSH");
	T_EQ_STR(nfproto_name(39, buf, sizeof(buf)), "TP--");
	T_EQ_STR(nfproto_name(107, buf, sizeof(buf)), "A-N");
	T_EQ_STR(nfproto_name(124, buf, sizeof(buf)), "ISIS-over-IPv4");
	T_EQ_STR(nfproto_name(135, buf, sizeof(buf)), "Mobility-Header");
	T_EQ_STR(nfproto_name(61, buf, sizeof(buf)), "proto61");
	T_EQ_STR(nfproto_name(200, buf, sizeof(buf)), "proto200");
	for (p = 0; p < 256; p++) {
		snprintf(path, sizeof(path),
		    "netflow.1min.ingress.topprotocol.%s",
		    nfproto_name((uint8_t)p, buf, sizeof(buf)));
		T_ASSERT(path_valid(path));
	}
}

T_TEST(nftop_merge_keeps_the_bound)
{
	/* 15 per-minute summaries of 32 counters merged into one: every
	 * reported count is an over-estimate by at most its error, and the
	 * error stays within twice N / m */
	enum { KEYS = 3000, CAP = 32, MINUTES = 15 };
	static uint64_t truth[KEYS];
	const struct nftop_ent *top[CAP];
	struct nftop big, m;
	uint64_t total = 0;
	uint32_t seed = 99;
	size_t i, j, n;

	memset(truth, 0, sizeof(truth));
	nftop_init(&big, CAP);
	for (j = 0; j < MINUTES; j++) {
		nftop_init(&m, CAP);
		for (i = 0; i < 5000; i++) {
			uint32_t k, w;

			seed = seed * 1103515245u + 12345u;
			k = (seed >> 8) % 100 < 40 ? (seed >> 16) % 5
			                           : (seed >> 12) % KEYS;
			w = 1 + (seed >> 4) % 100;
			truth[k] += w;
			total += w;
			nftop_add(&m, &k, sizeof(k), w);
		}
		nftop_merge(&big, &m);
		nftop_free(&m);
	}
	T_EQ_INT(big.total, total);
	n = nftop_top(&big, CAP, top);
	T_EQ_INT(n, CAP);
	for (i = 0; i < n; i++) {
		uint32_t k;

		memcpy(&k, top[i]->key, 4);
		T_ASSERT(top[i]->count >= truth[k]);
		T_ASSERT(top[i]->count - top[i]->err <= truth[k]);
		T_ASSERT(top[i]->err <= 2 * total / CAP);
	}
	for (i = 0; i < 5; i++) {
		uint32_t k;

		memcpy(&k, top[i]->key, 4);
		T_ASSERT(k < 5); /* the heavy keys lead */
	}
	nftop_free(&big);
}
