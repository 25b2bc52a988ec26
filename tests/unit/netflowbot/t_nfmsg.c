/*
 * Unit tests for the flow decoders (NetFlow v5, v9, IPFIX) and the
 * template cache: golden decodes of hand-built datagrams, sampling, every
 * timestamp form, integer widths, cache keys, limits and expiry, and the
 * regression files of tests/data/netflow/cases (test-matrix 5.3).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../netflowbot/nfflow.h"
#include "../../../netflowbot/nfmsg.h"
#include "../../../netflowbot/nftpl.h"
#include "../../../netflowbot/nfv5.h"
#include "../t.h"

#define T_NF_MAX   64
#define T_NF_CASES "tests/data/netflow/cases"

struct t_nf {
	struct nfflow f[T_NF_MAX];
	size_t n;
	struct nfstats st;
	char err[160];
	struct nfdecode d;
	uint8_t exp[16];
};

static void
t_nf_cb(const struct nfflow *f, void *arg)
{
	struct t_nf *c = arg;

	if (c->n < T_NF_MAX)
		c->f[c->n] = *f;
	c->n++;
}

static void
t_nf_init(struct t_nf *c, struct nftpl_cache *cache, uint8_t last)
{
	static const uint8_t v4[4] = {127, 0, 0, 1};

	memset(c, 0, sizeof(*c));
	nfflow_map4(v4, c->exp);
	c->exp[15] = last;
	c->d.exporter = c->exp;
	c->d.now_s = 1700000000;
	c->d.cache = cache;
	c->d.cb = t_nf_cb;
	c->d.arg = c;
	c->d.st = &c->st;
	c->d.err = c->err;
	c->d.errlen = sizeof(c->err);
}

static size_t
t_nf_read(const char *name, uint8_t *buf, size_t cap)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", T_NF_CASES, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Decodes a regression file with a fresh cache into c. */
static int
t_nf_file(struct t_nf *c, const char *name)
{
	static uint8_t buf[70000];
	struct nftpl_limits lim;
	struct nftpl_cache *cache;
	size_t n = t_nf_read(name, buf, sizeof(buf));
	int rc;

	nftpl_limits_defaults(&lim);
	cache = nftpl_cache_new(&lim);
	t_nf_init(c, cache, 1);
	rc = n == 0 ? -2 : nfmsg_decode(buf, n, &c->d);
	nftpl_cache_free(cache);
	return rc;
}

/* Big-endian writers for hand-built datagrams. */
static size_t
t_be(uint8_t *p, uint64_t v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
	return len;
}

T_TEST(nfv5_golden)
{
	struct t_nf c;
	int rc;

	rc = t_nf_file(&c, "v5-length-long-2.ok");
	T_EQ_INT(rc, 2);
	T_EQ_INT(c.n, 2);
	T_EQ_INT(c.f[0].af, 4);
	T_EQ_INT(c.f[0].src[3], 1);
	T_EQ_INT(c.f[1].src[3], 2);
	T_EQ_INT(c.f[0].dst[0], 192);
	T_EQ_INT(c.f[0].bytes, 1000);
	T_EQ_INT(c.f[0].packets, 10);
	T_EQ_INT(c.f[0].in_if, 1);
	T_EQ_INT(c.f[0].out_if, 2);
	T_EQ_INT(c.f[0].sport, 1234);
	T_EQ_INT(c.f[0].dport, 80);
	T_EQ_INT(c.f[0].proto, 6);
	/* sysUptime 100000, first 90000: 10 s before the export time */
	T_EQ_INT(c.f[0].first_ms, INT64_C(1700000000000) - 10000);
	T_EQ_INT(c.f[0].last_ms, INT64_C(1700000000000) - 1000);
}

T_TEST(nfv5_sampling_and_override)
{
	struct t_nf c;
	static uint8_t buf[4096];
	struct nftpl_cache *cache;
	struct nftpl_limits lim;
	size_t n;

	T_EQ_INT(t_nf_file(&c, "v5-sampled-2.ok"), 2);
	T_EQ_INT(c.f[0].bytes, 100000);
	T_EQ_INT(c.f[0].packets, 1000);
	T_EQ_INT(c.f[0].sampling, 100);
	n = t_nf_read("v5-sampled-2.ok", buf, sizeof(buf));
	nftpl_limits_defaults(&lim);
	cache = nftpl_cache_new(&lim);
	t_nf_init(&c, cache, 1);
	c.d.sampling_override = 7;
	T_EQ_INT(nfmsg_decode(buf, n, &c.d), 2);
	nftpl_cache_free(cache);
	T_EQ_INT(c.f[1].bytes, 7000);
}

T_TEST(nfv5_uptime_forms)
{
	/* a time after sysUptime is clamped to the export time; the wrap of
	 * the 32-bit uptime counter is handled */
	T_EQ_INT(nfv5_uptime_to_unix(5000, 1000, 1000000), 1000000);
	T_EQ_INT(nfv5_uptime_to_unix(0xfffffff0u, 500, 1000000), 1000000 - 516);
	T_EQ_INT(nfv5_uptime_to_unix(400, 500, 1000000), 1000000 - 100);
}

T_TEST(nfmsg_v9_golden)
{
	struct t_nf c;

	T_EQ_INT(t_nf_file(&c, "v9-count-lies-2.ok"), 2);
	T_EQ_INT(c.f[1].src[3], 2);
	T_EQ_INT(c.f[1].dst[3], 1);
	T_EQ_INT(c.f[1].bytes, 1000);
	T_EQ_INT(c.f[1].packets, 10);
	T_EQ_INT(c.f[1].dport, 80);
	T_EQ_INT(c.f[1].proto, 6);
	T_EQ_INT(c.f[1].in_if, 1);
	T_EQ_INT(c.f[1].out_if, 2);
	T_EQ_INT(c.f[1].first_ms, INT64_C(1700000000000) - 10000);
	T_EQ_INT(c.f[1].last_ms, INT64_C(1700000000000) - 1000);
	T_EQ_INT(c.st.templates_added, 1);
}

T_TEST(nfmsg_v9_options_sampling)
{
	struct t_nf c;

	T_EQ_INT(t_nf_file(&c, "v9-options-sampling-2.ok"), 2);
	T_EQ_INT(c.st.options_records, 1);
	T_EQ_INT(c.f[0].sampling, 50);
	T_EQ_INT(c.f[0].bytes, 50000);
	T_EQ_INT(c.f[1].packets, 500);
}

T_TEST(nfmsg_v9_edge_fields)
{
	struct t_nf c;

	/* a zero-length field among others is accepted */
	T_EQ_INT(t_nf_file(&c, "v9-one-field-len0-1.ok"), 1);
	T_EQ_INT(c.f[0].bytes, 77);
	T_EQ_INT(c.f[0].src[3], 1);
	/* IPV4_SRC_ADDR of 50 bytes is not an address: skipped */
	T_EQ_INT(t_nf_file(&c, "v9-ipv4-src-len50-1.ok"), 1);
	T_EQ_INT(c.f[0].af, 0);
	T_EQ_INT(c.f[0].bytes, 5);
	/* redefinition within a datagram: the data uses the newest */
	T_EQ_INT(t_nf_file(&c, "v9-redefined-in-datagram-1.ok"), 1);
	T_EQ_INT(c.f[0].src[3], 9);
	T_EQ_INT(c.f[0].bytes, 9);
	/* data before its template is counted, kept and decoded when the
	 * template follows */
	T_EQ_INT(t_nf_file(&c, "v9-data-before-template-1.ok"), 1);
	T_EQ_INT(c.st.no_template, 1);
	T_EQ_INT(c.st.pending_kept, 1);
	T_EQ_INT(c.st.pending_replayed, 1);
	T_EQ_INT(c.f[0].bytes, 1000);
	T_EQ_INT(t_nf_file(&c, "v9-redefined-while-queued-1.ok"), 1);
	T_EQ_INT(c.f[0].src[3], 8);
	T_EQ_INT(c.f[0].bytes, 8);
	/* zero padding past the 4-byte boundary after an options template
	 * is skipped: the sampling rate of 10 and the flow are read */
	T_EQ_INT(t_nf_file(&c, "v9-options-padded-past-4-1.ok"), 1);
	T_EQ_INT(c.st.templates_added, 2);
	T_EQ_INT(c.st.templates_bad, 0);
	T_EQ_INT(c.f[0].bytes, 50);
	T_EQ_INT(c.f[0].src[3], 4);
	/* zeros after the last flowset, and zero records at the end of a
	 * data flowset, are padding: no error, no empty flows */
	T_EQ_INT(t_nf_file(&c, "v9-datagram-zero-padded-1.ok"), 1);
	T_EQ_STR(c.err, "");
	T_EQ_INT(c.st.malformed, 0);
	T_EQ_INT(c.f[0].bytes, 6);
	T_EQ_INT(t_nf_file(&c, "v9-data-padded-past-record-1.ok"), 1);
	T_EQ_INT(c.st.flows, 1);
	T_EQ_INT(c.f[0].bytes, 7);
	/* samplerId as a v9 options scope field (Cisco FNF): each flow
	 * gets its sampler's rate, a flow of no known sampler none */
	T_EQ_INT(t_nf_file(&c, "v9-options-scope-sampler-id-3.ok"), 3);
	T_EQ_INT(c.f[0].bytes, 500);
	T_EQ_INT(c.f[1].bytes, 50);
	T_EQ_INT(c.f[2].bytes, 5);
	T_EQ_INT(c.f[2].sampling, 1);
	/* 2000 template ids from one source: the cap (512) holds */
	T_EQ_INT(t_nf_file(&c, "v9-many-template-ids-0.ok"), 0);
	T_EQ_INT(c.st.templates_added, 512);
	T_ASSERT(c.st.templates_bad > 1000);
}

T_TEST(nfmsg_ipfix_golden)
{
	struct t_nf c;

	T_EQ_INT(t_nf_file(&c, "ipfix-good-2.ok"), 2);
	T_EQ_INT(c.f[0].af, 4);
	T_EQ_INT(c.f[0].proto, 17);
	T_EQ_INT(c.f[0].dport, 53);
	T_EQ_INT(c.f[0].bytes, 500);
	T_EQ_INT(c.f[0].packets, 5);
	T_EQ_INT(c.f[0].first_ms, INT64_C(1700000000000) - 5000);
	T_EQ_INT(c.f[0].last_ms, INT64_C(1700000000000) - 1000);
	T_EQ_INT(c.f[1].src[3], 2);
}

T_TEST(nfmsg_ipfix_edge_cases)
{
	struct t_nf c;

	/* enterprise fields (fixed and variable) are skipped correctly */
	T_EQ_INT(t_nf_file(&c, "ipfix-enterprise-varlen-1.ok"), 1);
	T_EQ_INT(c.f[0].src[3], 1);
	T_EQ_INT(c.f[0].dst[3], 2);
	T_EQ_INT(c.f[0].bytes, 42);
	/* lists (291-293) as variable-length fields, nested and empty */
	T_EQ_INT(t_nf_file(&c, "ipfix-lists-nested-1.ok"), 1);
	T_EQ_INT(c.f[0].bytes, 9);
	/* withdrawal, then data for it in the same message */
	T_EQ_INT(t_nf_file(&c, "ipfix-withdraw-then-use-0.ok"), 0);
	T_EQ_INT(c.st.templates_withdrawn, 1);
	T_EQ_INT(c.st.no_template, 1);
	T_EQ_INT(t_nf_file(&c, "ipfix-withdraw-all-0.ok"), 0);
	T_EQ_INT(c.st.templates_withdrawn, 1);
	/* replaced, then used */
	T_EQ_INT(t_nf_file(&c, "ipfix-replace-then-use-1.ok"), 1);
	T_EQ_INT(c.f[0].bytes, 4);
	/* repeated IEs: accepted, the first one counts */
	T_EQ_INT(t_nf_file(&c, "ipfix-repeated-ie-1.ok"), 1);
	T_EQ_INT(c.f[0].src[3], 1);
	T_EQ_INT(c.f[0].bytes, 5);
	/* options data with selectorId and 305/306: rate (1+99)/1 */
	T_EQ_INT(t_nf_file(&c, "ipfix-options-sampling-1.ok"), 1);
	T_EQ_INT(c.f[0].sampling, 100);
	T_EQ_INT(c.f[0].bytes, 1000);
}

/* Builds an IPFIX message: template 300 with the given (ie, len) fields
 * and one data record of the given bytes; returns its length. */
static size_t
t_ipfix_one(uint8_t *b, const uint16_t (*fields)[2], size_t n,
    const uint8_t *rec, size_t rec_len, uint32_t export_s)
{
	size_t p = 0, i, tl = 4 + 4 + 4 * n, dl = 4 + rec_len;

	p += t_be(b + p, 10, 2);
	p += t_be(b + p, 16 + tl + dl, 2);
	p += t_be(b + p, export_s, 4);
	p += t_be(b + p, 1, 4);
	p += t_be(b + p, 0, 4);
	p += t_be(b + p, 2, 2);
	p += t_be(b + p, tl, 2);
	p += t_be(b + p, 300, 2);
	p += t_be(b + p, n, 2);
	for (i = 0; i < n; i++) {
		p += t_be(b + p, fields[i][0], 2);
		p += t_be(b + p, fields[i][1], 2);
	}
	p += t_be(b + p, 300, 2);
	p += t_be(b + p, dl, 2);
	memcpy(b + p, rec, rec_len);
	return p + rec_len;
}

static int
t_decode_fresh(struct t_nf *c, const uint8_t *b, size_t len)
{
	struct nftpl_limits lim;
	struct nftpl_cache *cache;
	int rc;

	nftpl_limits_defaults(&lim);
	cache = nftpl_cache_new(&lim);
	t_nf_init(c, cache, 1);
	rc = nfmsg_decode(b, len, &c->d);
	nftpl_cache_free(cache);
	return rc;
}

T_TEST(nfmsg_integer_widths)
{
	uint8_t b[256], rec[16];
	size_t w;

	for (w = 1; w <= 8; w++) {
		uint16_t fields[2][2] = {{1, 0}, {4, 1}};
		struct t_nf c;
		size_t len;

		fields[0][1] = (uint16_t)w;
		memset(rec, 0, sizeof(rec));
		rec[w - 1] = 0x2a;
		rec[0] |= 0x01;
		rec[w] = 6;
		len = t_ipfix_one(
		    b, (const uint16_t(*)[2])fields, 2, rec, w + 1, 1700000000);
		T_EQ_INT(t_decode_fresh(&c, b, len), 1);
		if (w == 1)
			T_EQ_INT(c.f[0].bytes, 0x2b);
		else
			T_EQ_INT(c.f[0].bytes,
			    (UINT64_C(1) << (8 * (w - 1))) + 0x2a);
		T_EQ_INT(c.f[0].proto, 6);
	}
}

T_TEST(nfmsg_timestamp_forms)
{
	/* seconds, ms, NTP µs, NTP ns, delta µs, sysUpTime + init ms */
	static const uint16_t ies[][3] = {{150, 151, 4}, {152, 153, 8},
	    {154, 155, 8}, {156, 157, 8}, {158, 159, 4}};
	const int64_t start = INT64_C(1700000000000) - 4000;
	uint8_t b[256], rec[32];
	size_t i, len;
	struct t_nf c;

	for (i = 0; i < sizeof(ies) / sizeof(ies[0]); i++) {
		uint16_t fields[3][2] = {
		    {ies[i][0], ies[i][2]}, {ies[i][1], ies[i][2]}, {1, 4}};
		size_t w = ies[i][2];
		uint64_t vs, ve;

		switch (i) {
		case 0:
			vs = (uint64_t)start / 1000;
			ve = vs + 2;
			break;
		case 1:
			vs = (uint64_t)start;
			ve = vs + 2000;
			break;
		case 4:
			vs = 4000000; /* µs before the export time */
			ve = 2000000;
			break;
		default:
			vs = ((uint64_t)(start / 1000) + UINT64_C(2208988800))
			        << 32 |
			    (UINT64_C(1) << 31); /* + 0.5 s */
			ve = vs + (UINT64_C(2) << 32);
			break;
		}
		t_be(rec, vs, w);
		t_be(rec + w, ve, w);
		t_be(rec + 2 * w, 100, 4);
		len = t_ipfix_one(b, (const uint16_t(*)[2])fields, 3, rec,
		    2 * w + 4, 1700000000);
		T_EQ_INT(t_decode_fresh(&c, b, len), 1);
		if (i == 2 || i == 3) {
			T_EQ_INT(c.f[0].first_ms, start + 500);
			T_EQ_INT(c.f[0].last_ms, start + 2500);
		} else {
			T_EQ_INT(c.f[0].first_ms, start);
			T_EQ_INT(c.f[0].last_ms, start + 2000);
		}
	}
	{
		uint16_t fields[4][2] = {{160, 8}, {22, 4}, {21, 4}, {1, 4}};

		t_be(rec, (uint64_t)start - 60000, 8);
		t_be(rec + 8, 60000, 4);
		t_be(rec + 12, 62000, 4);
		t_be(rec + 16, 1, 4);
		len = t_ipfix_one(
		    b, (const uint16_t(*)[2])fields, 4, rec, 20, 1700000000);
		T_EQ_INT(t_decode_fresh(&c, b, len), 1);
		T_EQ_INT(c.f[0].first_ms, start);
		T_EQ_INT(c.f[0].last_ms, start + 2000);
	}
}

T_TEST(nfmsg_fields_of_one_template_only)
{
	/* template 300 has ports and protocol, 301 only an address, bytes
	 * and the ICMP type/code: nothing of the first record may show in
	 * the second */
	uint8_t b[256];
	size_t p = 0;
	struct t_nf c;

	p += t_be(b + p, 10, 2);
	p += t_be(b + p, 0, 2); /* length, below */
	p += t_be(b + p, 1700000000, 4);
	p += t_be(b + p, 1, 4);
	p += t_be(b + p, 0, 4);
	p += t_be(b + p, 2, 2);
	p += t_be(b + p, 4 + 4 + 16 + 4 + 12, 2);
	p += t_be(b + p, 300, 2);
	p += t_be(b + p, 4, 2);
	p += t_be(b + p, 8, 2), p += t_be(b + p, 4, 2);
	p += t_be(b + p, 11, 2), p += t_be(b + p, 2, 2);
	p += t_be(b + p, 4, 2), p += t_be(b + p, 1, 2);
	p += t_be(b + p, 1, 2), p += t_be(b + p, 4, 2);
	p += t_be(b + p, 301, 2);
	p += t_be(b + p, 3, 2);
	p += t_be(b + p, 8, 2), p += t_be(b + p, 4, 2);
	p += t_be(b + p, 1, 2), p += t_be(b + p, 4, 2);
	p += t_be(b + p, 32, 2), p += t_be(b + p, 2, 2);
	p += t_be(b + p, 300, 2);
	p += t_be(b + p, 4 + 11, 2);
	p += t_be(b + p, 0x0a000001, 4);
	p += t_be(b + p, 53, 2);
	p += t_be(b + p, 17, 1);
	p += t_be(b + p, 111, 4);
	p += t_be(b + p, 301, 2);
	p += t_be(b + p, 4 + 10, 2);
	p += t_be(b + p, 0x0a000002, 4);
	p += t_be(b + p, 222, 4);
	p += t_be(b + p, 0x0800, 2);
	t_be(b + 2, p, 2);
	T_EQ_INT(t_decode_fresh(&c, b, p), 2);
	T_EQ_INT(c.f[0].dport, 53);
	T_EQ_INT(c.f[0].proto, 17);
	T_EQ_INT(c.f[1].proto, 0);
	T_EQ_INT(c.f[1].dport, 0x0800);
	T_EQ_INT(c.f[1].bytes, 222);
}

T_TEST(nfmsg_ipv6_flow)
{
	uint16_t fields[4][2] = {{27, 16}, {28, 16}, {1, 4}, {61, 1}};
	uint8_t b[256], rec[64];
	struct t_nf c;
	size_t len;

	memset(rec, 0, sizeof(rec));
	rec[0] = 0x20;
	rec[1] = 0x01;
	rec[15] = 1;
	rec[16] = 0x20;
	rec[17] = 0x01;
	rec[31] = 2;
	t_be(rec + 32, 1500, 4);
	rec[36] = 1; /* egress */
	len = t_ipfix_one(b, (const uint16_t(*)[2])fields, 4, rec, 37, 1);
	T_EQ_INT(t_decode_fresh(&c, b, len), 1);
	T_EQ_INT(c.f[0].af, 6);
	T_EQ_INT(c.f[0].src[15], 1);
	T_EQ_INT(c.f[0].dst[15], 2);
	T_EQ_INT(c.f[0].dir, NFFLOW_EGRESS);
	T_EQ_INT(c.f[0].bytes, 1500);
}

T_TEST(nftpl_same_id_two_exporters)
{
	/* exporter A's template 300 has bytes as 4 bytes, B's as 8: each
	 * keeps its own */
	uint16_t fa[2][2] = {{8, 4}, {1, 4}}, fb[2][2] = {{1, 8}, {8, 4}};
	uint8_t a[128], bb[128], ra[8] = {10, 0, 0, 1, 0, 0, 0, 5};
	uint8_t rb[12] = {0, 0, 0, 0, 0, 0, 0, 9, 10, 0, 0, 2};
	struct nftpl_limits lim;
	struct nftpl_cache *cache;
	struct t_nf ca, cb;
	size_t la, lb;

	nftpl_limits_defaults(&lim);
	cache = nftpl_cache_new(&lim);
	la = t_ipfix_one(a, (const uint16_t(*)[2])fa, 2, ra, 8, 1);
	lb = t_ipfix_one(bb, (const uint16_t(*)[2])fb, 2, rb, 12, 1);
	t_nf_init(&ca, cache, 1);
	t_nf_init(&cb, cache, 2);
	T_EQ_INT(nfmsg_decode(a, la, &ca.d), 1);
	T_EQ_INT(nfmsg_decode(bb, lb, &cb.d), 1);
	/* data alone (template set cut off) for each, again */
	a[2] = 0;
	a[3] = (uint8_t)(16 + 4 + 8);
	memmove(a + 16, a + la - 12, 12);
	bb[2] = 0;
	bb[3] = (uint8_t)(16 + 4 + 12);
	memmove(bb + 16, bb + lb - 16, 16);
	T_EQ_INT(nfmsg_decode(a, 28, &ca.d), 1);
	T_EQ_INT(nfmsg_decode(bb, 32, &cb.d), 1);
	T_EQ_INT(nftpl_cache_count(cache), 2);
	nftpl_cache_free(cache);
	T_EQ_INT(ca.f[1].bytes, 5);
	T_EQ_INT(ca.f[1].src[3], 1);
	T_EQ_INT(cb.f[1].bytes, 9);
	T_EQ_INT(cb.f[1].src[3], 2);
}

T_TEST(nfmsg_data_waits_for_its_template)
{
	/* datagram 1: data for template 300 only; datagram 2, 3 s later:
	 * the template.  Another exporter's template 300 does not count, and
	 * data older than 10 s is gone. */
	uint16_t fields[2][2] = {{8, 4}, {1, 4}};
	uint8_t b[128], rec[8] = {10, 0, 0, 1, 0, 0, 0, 77};
	struct nftpl_limits lim;
	struct nftpl_cache *cache;
	struct t_nf c, other;
	size_t len = t_ipfix_one(b, (const uint16_t(*)[2])fields, 2, rec, 8, 1);
	uint8_t data_only[64];

	/* the data-only message: header + the data set */
	memcpy(data_only, b, 16);
	memcpy(data_only + 16, b + len - 12, 12);
	data_only[2] = 0;
	data_only[3] = 28;
	nftpl_limits_defaults(&lim);
	cache = nftpl_cache_new(&lim);
	t_nf_init(&c, cache, 1);
	t_nf_init(&other, cache, 2);
	T_EQ_INT(nfmsg_decode(data_only, 28, &c.d), 0);
	T_ASSERT(nftpl_pend_bytes(cache) > 0);
	T_EQ_INT(nfmsg_decode(b, len, &other.d), 1); /* its own data only */
	c.d.now_s += 3;
	b[2] = (uint8_t)((len - 12) >> 8); /* the template set alone */
	b[3] = (uint8_t)(len - 12);
	T_EQ_INT(nfmsg_decode(b, len - 12, &c.d), 1); /* the kept record */
	T_EQ_INT(c.n, 1);
	T_EQ_INT(c.f[0].bytes, 77);
	T_EQ_INT(nftpl_pend_bytes(cache), 0);
	/* too old: dropped */
	T_EQ_INT(nfmsg_decode(data_only, 28, &other.d), 1); /* known now */
	data_only[15] = 9; /* another domain: no template there */
	T_EQ_INT(nfmsg_decode(data_only, 28, &c.d), 0);
	T_ASSERT(nftpl_pend_bytes(cache) > 0);
	nftpl_expire(cache, c.d.now_s + 11, &c.st);
	T_EQ_INT(nftpl_pend_bytes(cache), 0);
	nftpl_cache_free(cache);
}

T_TEST(nftpl_expiry_and_memory_cap)
{
	struct nftpl_field f[NFTPL_MAX_FIELDS];
	struct nftpl_limits lim;
	struct nftpl_cache *cache;
	struct nftpl_src *src, *src2;
	struct nfstats st;
	uint8_t addr[16] = {0};
	char err[128];
	size_t i;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < NFTPL_MAX_FIELDS; i++) {
		f[i].ie = 1;
		f[i].len = 4;
		f[i].pen = 0;
	}
	nftpl_limits_defaults(&lim);
	lim.max_bytes = 64 * 1024;
	lim.max_sources = 2;
	cache = nftpl_cache_new(&lim);
	src = nftpl_source(cache, addr, 10, 1, 1000, &st);
	T_ASSERT(src != NULL);
	T_EQ_INT(nftpl_add(cache, src, 256, 0, 0, f, 257, 1000, &st, err,
	             sizeof(err)),
	    -1);
	for (i = 0; i < 200; i++)
		T_EQ_INT(nftpl_add(cache, src, (uint16_t)(256 + i), 0, 0, f,
		             NFTPL_MAX_FIELDS, 1000 + (int64_t)i, &st, err,
		             sizeof(err)),
		    0);
	T_ASSERT(nftpl_cache_bytes(cache) <= lim.max_bytes);
	T_ASSERT(st.templates_evicted > 0);
	/* the newest survive the cap, the oldest went */
	T_ASSERT(nftpl_find(cache, src, 256 + 199, 1300) != NULL);
	T_ASSERT(nftpl_find(cache, src, 256, 1300) == NULL);
	/* expiry after 30 min without refresh */
	T_ASSERT(nftpl_find(cache, src, 256 + 199, 1199 + 1800) != NULL);
	T_ASSERT(nftpl_find(cache, src, 256 + 199, 1199 + 1801) == NULL);
	nftpl_expire(cache, 100000, &st);
	T_EQ_INT(nftpl_cache_count(cache), 0);
	T_EQ_INT(nftpl_cache_bytes(cache), 0);
	/* the source cap */
	addr[0] = 1;
	src2 = nftpl_source(cache, addr, 10, 1, 100000, &st);
	T_ASSERT(src2 != NULL);
	addr[0] = 2;
	T_ASSERT(nftpl_source(cache, addr, 10, 1, 100000, &st) != NULL);
	addr[0] = 3;
	T_ASSERT(nftpl_source(cache, addr, 10, 1, 100000, &st) == NULL);
	T_EQ_INT(st.sources_refused, 1);
	nftpl_cache_free(cache);
}

/* Every regression file gives the answer its name says. */
T_TEST(nfmsg_regression_cases)
{
	DIR *dir = opendir(T_NF_CASES);
	struct dirent *de;
	size_t n = 0;

	T_ASSERT(dir != NULL);
	while ((de = readdir(dir)) != NULL) {
		const char *name = de->d_name;
		size_t l = strlen(name);
		struct t_nf c;
		int rc;

		if (l < 4 || name[0] == '.')
			continue;
		rc = t_nf_file(&c, name);
		if (strcmp(name + l - 4, ".bad") == 0) {
			if (rc != -1) {
				t_fail(__FILE__, __LINE__, "%s: %d", name, rc);
				break;
			}
			if (c.err[0] == '\0') {
				t_fail(__FILE__, __LINE__, "%s: no error text",
				    name);
				break;
			}
		} else if (l > 3 && strcmp(name + l - 3, ".ok") == 0) {
			const char *dash = strrchr(name, '-');
			long want = dash ? strtol(dash + 1, NULL, 10) : -1;

			if (rc < 0 || rc != want) {
				t_fail(__FILE__, __LINE__, "%s: %d (%s)", name,
				    rc, c.err);
				break;
			}
		}
		n++;
	}
	closedir(dir);
	T_ASSERT(n >= 50);
}

/* Inputs the fuzzers found crashing, replayed (under the sanitizers in
 * the ASan build): single datagrams, or for nfseq-* the stateful target's
 * framing [exporter][length:2][bytes] with one shared cache. */
T_TEST(nfmsg_fuzz_crashes_replayed)
{
	static uint8_t buf[70000];
	DIR *dir = opendir("tests/data/netflow/fuzz-crashes");
	struct dirent *de;
	size_t n_files = 0;

	T_ASSERT(dir != NULL);
	while ((de = readdir(dir)) != NULL) {
		struct nftpl_limits lim;
		struct nftpl_cache *cache;
		char path[512];
		struct t_nf c;
		size_t n, pos = 0;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path),
		    "tests/data/netflow/fuzz-crashes/%s", de->d_name);
		f = fopen(path, "rb");
		T_ASSERT(f != NULL);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		nftpl_limits_defaults(&lim);
		cache = nftpl_cache_new(&lim);
		t_nf_init(&c, cache, 1);
		if (strncmp(de->d_name, "nfseq-", 6) != 0) {
			(void)nfmsg_decode(buf, n, &c.d);
		} else {
			while (n - pos >= 3) {
				size_t len =
				    (size_t)buf[pos + 1] << 8 | buf[pos + 2];

				c.exp[15] = buf[pos] & 7;
				pos += 3;
				if (len > n - pos)
					len = n - pos;
				c.err[0] = '\0';
				(void)nfmsg_decode(buf + pos, len, &c.d);
				pos += len;
			}
		}
		nftpl_cache_free(cache);
		n_files++;
	}
	closedir(dir);
	T_ASSERT(n_files >= 2);
}

T_TEST(nfmsg_physical_interfaces)
{
	/* ingress/egressPhysicalInterface (252/253) stand in for 10/14 when
	 * the template has only them; 10/14 win when both are sent */
	uint16_t phys[3][2] = {{252, 4}, {253, 4}, {1, 4}};
	uint16_t both[5][2] = {{252, 4}, {10, 2}, {253, 4}, {14, 2}, {1, 4}};
	uint8_t b[256], rec[32];
	struct t_nf c;
	size_t len;

	t_be(rec, 7, 4);
	t_be(rec + 4, 9, 4);
	t_be(rec + 8, 100, 4);
	len = t_ipfix_one(b, (const uint16_t(*)[2])phys, 3, rec, 12, 1);
	T_EQ_INT(t_decode_fresh(&c, b, len), 1);
	T_EQ_INT(c.f[0].in_if, 7);
	T_EQ_INT(c.f[0].out_if, 9);
	T_EQ_INT(c.f[0].bytes, 100);
	t_be(rec, 70, 4);
	t_be(rec + 4, 3, 2);
	t_be(rec + 6, 90, 4);
	t_be(rec + 10, 4, 2);
	t_be(rec + 12, 200, 4);
	len = t_ipfix_one(b, (const uint16_t(*)[2])both, 5, rec, 16, 1);
	T_EQ_INT(t_decode_fresh(&c, b, len), 1);
	T_EQ_INT(c.f[0].in_if, 3);
	T_EQ_INT(c.f[0].out_if, 4);
	T_EQ_INT(c.f[0].bytes, 200);
}

T_TEST(nfmsg_dual_stack_template)
{
	/* one template with both address families: the IPv4 fields are
	 * zero in IPv6 flows and the IPv6 ones zero in IPv4 flows */
	uint16_t fields[5][2] = {{8, 4}, {12, 4}, {27, 16}, {28, 16}, {1, 4}};
	uint8_t b[256], rec[64];
	struct t_nf c;
	size_t len;

	memset(rec, 0, sizeof(rec));
	rec[8] = 0x20;
	rec[9] = 0x01;
	rec[23] = 1;
	rec[24] = 0x20;
	rec[25] = 0x01;
	rec[39] = 2;
	t_be(rec + 40, 1500, 4);
	len = t_ipfix_one(b, (const uint16_t(*)[2])fields, 5, rec, 44, 1);
	T_EQ_INT(t_decode_fresh(&c, b, len), 1);
	T_EQ_INT(c.f[0].af, 6);
	T_EQ_INT(c.f[0].src[0], 0x20);
	T_EQ_INT(c.f[0].src[15], 1);
	T_EQ_INT(c.f[0].dst[15], 2);
	T_EQ_INT(c.f[0].bytes, 1500);
	memset(rec, 0, sizeof(rec));
	t_be(rec, 0x0a000001, 4);
	t_be(rec + 4, 0x0a000002, 4);
	t_be(rec + 40, 60, 4);
	len = t_ipfix_one(b, (const uint16_t(*)[2])fields, 5, rec, 44, 1);
	T_EQ_INT(t_decode_fresh(&c, b, len), 1);
	T_EQ_INT(c.f[0].af, 4);
	T_EQ_INT(c.f[0].src[3], 1);
	T_EQ_INT(c.f[0].dst[3], 2);
}

/* One Cisco ASA NSEL record (the fields of its teardown and update
 * templates that we read). */
struct t_asa {
	uint32_t conn, src, dst;
	uint16_t sport, dport, in_if, out_if;
	uint8_t proto, event;
	uint32_t ibytes, rbytes, ipkts, rpkts;
};

/* Builds a NetFlow v9 datagram as an ASA sends it: template 263 whose
 * event field is IE event_ie (233, or 40005 on ASA 8.4), then one data
 * flowset of the n records. */
static size_t
t_v9_asa(uint8_t *b, uint16_t event_ie, const struct t_asa *r, size_t n)
{
	static const uint16_t f[13][2] = {{148, 4}, {8, 4}, {7, 2}, {10, 2},
	    {12, 4}, {11, 2}, {14, 2}, {4, 1}, {0, 1}, {231, 4}, {232, 4},
	    {298, 4}, {299, 4}};
	size_t p = 0, i, tl = 8 + 4 * 13, dl = 4 + 38 * n;

	p += t_be(b + p, 9, 2);
	p += t_be(b + p, 1 + n, 2);
	p += t_be(b + p, 5000, 4);       /* sysUptime */
	p += t_be(b + p, 1700000000, 4); /* export time */
	p += t_be(b + p, 1, 4);          /* sequence */
	p += t_be(b + p, 0, 4);          /* source id */
	p += t_be(b + p, 0, 2);          /* template flowset */
	p += t_be(b + p, tl, 2);
	p += t_be(b + p, 263, 2);
	p += t_be(b + p, 13, 2);
	for (i = 0; i < 13; i++) {
		p += t_be(b + p, i == 8 ? event_ie : f[i][0], 2);
		p += t_be(b + p, f[i][1], 2);
	}
	p += t_be(b + p, 263, 2);
	p += t_be(b + p, dl, 2);
	for (i = 0; i < n; i++) {
		p += t_be(b + p, r[i].conn, 4);
		p += t_be(b + p, r[i].src, 4);
		p += t_be(b + p, r[i].sport, 2);
		p += t_be(b + p, r[i].in_if, 2);
		p += t_be(b + p, r[i].dst, 4);
		p += t_be(b + p, r[i].dport, 2);
		p += t_be(b + p, r[i].out_if, 2);
		p += t_be(b + p, r[i].proto, 1);
		p += t_be(b + p, r[i].event, 1);
		p += t_be(b + p, r[i].ibytes, 4);
		p += t_be(b + p, r[i].rbytes, 4);
		p += t_be(b + p, r[i].ipkts, 4);
		p += t_be(b + p, r[i].rpkts, 4);
	}
	return p;
}

static uint32_t
t_ip4(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3];
}

T_TEST(nfmsg_asa_nsel_two_directions_and_no_double_count)
{
	/* initiator bytes are a flow src -> dst (in 3, out 4), responder
	 * bytes the reverse flow (in 4, out 3, ports swapped); a create
	 * event (no counts) gives nothing; a teardown of a connection that
	 * had updates repeats their totals and is not counted, one without
	 * updates is */
	struct t_asa d1[3] = {
	    {100, 0x0a000001, 0x0a000002, 40000, 443, 3, 4, 6, 1, 0, 0, 0, 0},
	    {100, 0x0a000001, 0x0a000002, 40000, 443, 3, 4, 6, 5, 1000, 5000,
	        10, 8},
	    {200, 0x0a000009, 0x0a000002, 40001, 53, 3, 4, 17, 2, 60, 120, 1,
	        1}};
	struct t_asa d2[2] = {
	    {100, 0x0a000001, 0x0a000002, 40000, 443, 3, 4, 6, 5, 10, 20, 1, 1},
	    {100, 0x0a000001, 0x0a000002, 40000, 443, 3, 4, 6, 2, 1010, 5020,
	        11, 9}};
	struct nftpl_limits lim;
	struct nftpl_cache *cache;
	uint8_t b[512];
	struct t_nf c;
	uint64_t total = 0;
	size_t len, i;

	nftpl_limits_defaults(&lim);
	cache = nftpl_cache_new(&lim);
	t_nf_init(&c, cache, 1);
	len = t_v9_asa(b, 233, d1, 3);
	T_EQ_INT(nfmsg_decode(b, len, &c.d), 3); /* records */
	T_EQ_INT(c.n, 4);
	T_EQ_INT(t_ip4(c.f[0].src), 0x0a000001);
	T_EQ_INT(t_ip4(c.f[0].dst), 0x0a000002);
	T_EQ_INT(c.f[0].sport, 40000);
	T_EQ_INT(c.f[0].dport, 443);
	T_EQ_INT(c.f[0].in_if, 3);
	T_EQ_INT(c.f[0].out_if, 4);
	T_EQ_INT(c.f[0].bytes, 1000);
	T_EQ_INT(c.f[0].packets, 10);
	T_EQ_INT(t_ip4(c.f[1].src), 0x0a000002);
	T_EQ_INT(t_ip4(c.f[1].dst), 0x0a000001);
	T_EQ_INT(c.f[1].sport, 443);
	T_EQ_INT(c.f[1].dport, 40000);
	T_EQ_INT(c.f[1].in_if, 4);
	T_EQ_INT(c.f[1].out_if, 3);
	T_EQ_INT(c.f[1].bytes, 5000);
	T_EQ_INT(c.f[1].packets, 8);
	T_EQ_INT(c.f[2].bytes, 60);
	T_EQ_INT(c.f[3].bytes, 120);
	T_EQ_INT(c.st.flows, 3);
	/* the next datagram: the last update, then the teardown */
	t_nf_init(&c, cache, 1);
	len = t_v9_asa(b, 233, d2, 2);
	T_EQ_INT(nfmsg_decode(b, len, &c.d), 2);
	T_EQ_INT(c.n, 2);
	for (i = 0; i < c.n && i < T_NF_MAX; i++)
		total += c.f[i].bytes;
	T_EQ_INT(total, 30);
	nftpl_cache_free(cache);
}

T_TEST(nfmsg_asa_84_event_field_and_icmp)
{
	/* ASA 8.4 names the event 40005; its ICMP flows carry type and code
	 * as IEs 176/177, which become the destination port as 32 does */
	static const uint16_t icmp[5][2] = {
	    {8, 4}, {12, 4}, {176, 1}, {177, 1}, {1, 4}};
	struct t_asa r[2] = {
	    {7, 0x0a000001, 0x0a000002, 0, 0, 1, 2, 6, 5, 10, 20, 1, 1},
	    {7, 0x0a000001, 0x0a000002, 0, 0, 1, 2, 6, 2, 10, 20, 1, 1}};
	uint8_t b[512], rec[16];
	struct t_nf c;
	size_t len;

	len = t_v9_asa(b, 40005, r, 2);
	T_EQ_INT(t_decode_fresh(&c, b, len), 2);
	T_EQ_INT(c.n, 2); /* the teardown repeats the update: left out */
	T_EQ_INT(c.f[0].bytes + c.f[1].bytes, 30);
	t_be(rec, 0x0a000001, 4);
	t_be(rec + 4, 0x0a000002, 4);
	rec[8] = 8; /* echo request */
	rec[9] = 0;
	t_be(rec + 10, 84, 4);
	len = t_ipfix_one(b, icmp, 5, rec, 14, 1);
	T_EQ_INT(t_decode_fresh(&c, b, len), 1);
	T_EQ_INT(c.f[0].dport, 8 << 8);
}
