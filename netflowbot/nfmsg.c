/*
 * v9 and IPFIX share the set walk and the record decoding; they differ in
 * header size, set ids, field specifiers (IPFIX has enterprise numbers and
 * variable-length fields) and options template layout.  The header's
 * record count is never trusted: set lengths drive every loop, and each
 * loop checks the bytes left before reading.
 */
#include "nfmsg.h"

#include <stdlib.h>
#include <string.h>

#include "nfnsel.h"
#include "nftpl.h"
#include "nfv5.h"

#define NFMSG_EPOCH_1900 INT64_C(2208988800)

/* The state of one message: its source and export time. */
struct nfmsg {
	const struct nfdecode *d;
	struct nftpl_src *src;
	int version;
	uint32_t sys_up;   /* v9 header */
	int64_t export_ms; /* Unix ms */
	int flows;
};

int64_t
nfmsg_ntp_to_unix_ms(uint64_t ntp)
{
	int64_t s = (int64_t)(ntp >> 32) - NFMSG_EPOCH_1900;
	uint64_t frac = ntp & UINT64_C(0xffffffff);

	return s * 1000 + (int64_t)((frac * 1000) >> 32);
}

#define HAS(r, w) (((r)->have >> (w)) & 1)
/* A value the record has, else 0 (the rest of r->v is stale). */
#define VAL(r, w) (HAS(r, w) ? (r)->v[w] : 0)

/* Times beyond this (year 2255 in ms) are garbage: reported unknown, and
 * no arithmetic below can overflow. */
#define NFMSG_MAX_MS (INT64_C(1) << 43)

static int64_t
nfmsg_ms(uint64_t v)
{
	return v > (uint64_t)NFMSG_MAX_MS ? 0 : (int64_t)v;
}

static uint64_t
nfmsg_rate_of(const struct nftpl_rec *r, int *known)
{
	*known = 1;
	if (HAS(r, NFW_SAMP_INT) && r->v[NFW_SAMP_INT] >= 1)
		return r->v[NFW_SAMP_INT];
	if (HAS(r, NFW_SAMP_RAND) && r->v[NFW_SAMP_RAND] >= 1)
		return r->v[NFW_SAMP_RAND];
	if (HAS(r, NFW_PKT_INT) && r->v[NFW_PKT_INT] >= 1) {
		uint64_t space =
		    HAS(r, NFW_PKT_SPACE) ? r->v[NFW_PKT_SPACE] : 0;

		return (r->v[NFW_PKT_INT] + space) / r->v[NFW_PKT_INT];
	}
	*known = 0;
	return 1;
}

/* Options data: sampling rates (by sampler id or for the whole source)
 * and the IPFIX system init time. */
static void
nfmsg_options(struct nfmsg *m, const struct nftpl_rec *r)
{
	struct nftpl_src *s = m->src;
	int known;
	uint64_t rate = nfmsg_rate_of(r, &known);
	size_t i;

	if (m->d->st != NULL)
		m->d->st->options_records++;
	if (HAS(r, NFW_SYSINIT_MS))
		s->sys_init_ms = nfmsg_ms(r->v[NFW_SYSINIT_MS]);
	if (!known)
		return;
	if (!HAS(r, NFW_SAMPLER_ID)) {
		s->samp_default = rate;
		return;
	}
	for (i = 0; i < s->n_samp; i++)
		if (s->samp_id[i] == r->v[NFW_SAMPLER_ID])
			break;
	if (i == NFTPL_MAX_SAMPLERS)
		i = NFTPL_MAX_SAMPLERS - 1; /* full: the last slot is reused */
	else if (i == s->n_samp)
		s->n_samp++;
	s->samp_id[i] = r->v[NFW_SAMPLER_ID];
	s->samp_rate[i] = rate;
}

/* Inline so each call's constant start folds the six field choices. */
static inline __attribute__((always_inline)) int64_t
nfmsg_time(const struct nfmsg *m, const struct nftpl_rec *r, int start)
{
	int up = start ? NFW_FIRST_UP : NFW_LAST_UP;
	int sec = start ? NFW_START_S : NFW_END_S;
	int ms = start ? NFW_START_MS : NFW_END_MS;
	int us = start ? NFW_START_US : NFW_END_US;
	int ns = start ? NFW_START_NS : NFW_END_NS;
	int dus = start ? NFW_START_DUS : NFW_END_DUS;

	if (HAS(r, ms))
		return nfmsg_ms(r->v[ms]);
	if (HAS(r, sec))
		return r->v[sec] > (uint64_t)NFMSG_MAX_MS / 1000
		    ? 0
		    : (int64_t)r->v[sec] * 1000;
	if (HAS(r, us))
		return nfmsg_ntp_to_unix_ms(r->v[us]);
	if (HAS(r, ns))
		return nfmsg_ntp_to_unix_ms(r->v[ns]);
	if (HAS(r, dus))
		return m->export_ms - nfmsg_ms(r->v[dus] / 1000);
	if (HAS(r, up)) {
		if (m->version == 9)
			return nfv5_uptime_to_unix(
			    (uint32_t)r->v[up], m->sys_up, m->export_ms);
		if (HAS(r, NFW_SYSINIT_MS))
			return nfmsg_ms(r->v[NFW_SYSINIT_MS]) +
			    (int64_t)(uint32_t)r->v[up];
		if (m->src->sys_init_ms > 0)
			return m->src->sys_init_ms +
			    (int64_t)(uint32_t)r->v[up];
	}
	return 0;
}

/* 1 when a template with both address families (nProbe, dual-stack
 * exporters) left the IPv4 ones zero and has IPv6 ones: an IPv6 flow. */
static int
nfmsg_v4_unused(const struct nftpl_rec *r)
{
	static const uint8_t zero[4];

	if (!HAS(r, NFW_SRC6) && !HAS(r, NFW_DST6))
		return 0;
	if (HAS(r, NFW_SRC4) && memcmp(r->addr[NFW_SRC4], zero, 4) != 0)
		return 0;
	if (HAS(r, NFW_DST4) && memcmp(r->addr[NFW_DST4], zero, 4) != 0)
		return 0;
	return 1;
}

/* Cisco ASA NSEL event codes (firewallEvent). */
#define NFMSG_FW_DELETED 2
#define NFMSG_FW_UPDATED 5

/* A record that counts both directions of a connection (Cisco ASA NSEL:
 * initiator/responder octets and packets, IEs 231/232 and 298/299): the
 * initiator's side is the flow from source to destination, the
 * responder's the reverse one (addresses, ports and interfaces swapped;
 * an ICMP type and code stay).  An ASA teardown repeats the totals of a
 * connection that had flow-update events: it is counted only for the
 * others (nfnsel.h).  Sides with no bytes and no packets are left out. */
static void
nfmsg_biflow(
    struct nfmsg *m, const struct nftpl_rec *r, struct nfflow *f, uint64_t rate)
{
	const struct nfdecode *d = m->d;
	uint64_t event = VAL(r, NFW_FW_EVENT);
	struct nfflow rev = *f;

	if (HAS(r, NFW_CONN_ID)) {
		if (event == NFMSG_FW_UPDATED)
			nfnsel_updated(
			    &m->src->nsel, r->v[NFW_CONN_ID], d->now_s);
		else if (event == NFMSG_FW_DELETED &&
		    nfnsel_torn_down(m->src->nsel, r->v[NFW_CONN_ID]))
			return;
	}
	f->bytes = VAL(r, NFW_INIT_BYTES) * rate;
	f->packets = VAL(r, NFW_INIT_PKTS) * rate;
	if (f->bytes > 0 || f->packets > 0)
		d->cb(f, d->arg);
	memcpy(rev.src, f->dst, sizeof(rev.src));
	memcpy(rev.dst, f->src, sizeof(rev.dst));
	if (f->proto != 1 && f->proto != 58) {
		rev.sport = f->dport;
		rev.dport = f->sport;
	}
	rev.in_if = f->out_if;
	rev.out_if = f->in_if;
	rev.bytes = VAL(r, NFW_RESP_BYTES) * rate;
	rev.packets = VAL(r, NFW_RESP_PKTS) * rate;
	if (rev.bytes > 0 || rev.packets > 0)
		d->cb(&rev, d->arg);
}

static void
nfmsg_flow(struct nfmsg *m, const struct nftpl_rec *r)
{
	const struct nfdecode *d = m->d;
	struct nftpl_src *s = m->src;
	struct nfflow f;
	uint64_t rate;
	int known;
	size_t i;

	memset(&f, 0, sizeof(f));
	if ((HAS(r, NFW_SRC4) || HAS(r, NFW_DST4)) && !nfmsg_v4_unused(r)) {
		f.af = 4;
		if (HAS(r, NFW_SRC4))
			memcpy(f.src, r->addr[NFW_SRC4], 4);
		if (HAS(r, NFW_DST4))
			memcpy(f.dst, r->addr[NFW_DST4], 4);
	} else if (HAS(r, NFW_SRC6) || HAS(r, NFW_DST6)) {
		f.af = 6;
		if (HAS(r, NFW_SRC6))
			memcpy(f.src, r->addr[NFW_SRC6], 16);
		if (HAS(r, NFW_DST6))
			memcpy(f.dst, r->addr[NFW_DST6], 16);
	}
	f.proto = (uint8_t)VAL(r, NFW_PROTO);
	f.sport = (uint16_t)VAL(r, NFW_SPORT);
	/* ICMP type and code as the destination port, as nfdump does */
	if (HAS(r, NFW_DPORT))
		f.dport = (uint16_t)r->v[NFW_DPORT];
	else if (HAS(r, NFW_ICMP))
		f.dport = (uint16_t)r->v[NFW_ICMP];
	else
		f.dport = (uint16_t)((VAL(r, NFW_ICMP_TYPE) & 0xff) << 8 |
		    (VAL(r, NFW_ICMP_CODE) & 0xff));
	/* the physical interfaces when the template has no logical ones */
	f.in_if = (uint32_t)(HAS(r, NFW_INIF) ? r->v[NFW_INIF]
	                                      : VAL(r, NFW_INIF_PHYS));
	f.out_if = (uint32_t)(HAS(r, NFW_OUTIF) ? r->v[NFW_OUTIF]
	                                        : VAL(r, NFW_OUTIF_PHYS));
	f.dir = VAL(r, NFW_DIR) == 1 ? NFFLOW_EGRESS : NFFLOW_INGRESS;
	f.bytes = HAS(r, NFW_BYTES) ? r->v[NFW_BYTES] : VAL(r, NFW_BYTES_TOT);
	f.packets = HAS(r, NFW_PKTS) ? r->v[NFW_PKTS] : VAL(r, NFW_PKTS_TOT);
	f.first_ms = nfmsg_time(m, r, 1);
	f.last_ms = nfmsg_time(m, r, 0);
	rate = nfmsg_rate_of(r, &known);
	if (!known && HAS(r, NFW_SAMPLER_ID)) {
		for (i = 0; i < s->n_samp; i++) {
			if (s->samp_id[i] == r->v[NFW_SAMPLER_ID]) {
				rate = s->samp_rate[i];
				known = 1;
				break;
			}
		}
	}
	if (!known && s->samp_default >= 1)
		rate = s->samp_default;
	if (d->sampling_override > 0)
		rate = d->sampling_override;
	f.sampling = rate;
	m->flows++;
	if (d->st != NULL)
		d->st->flows++;
	if (!HAS(r, NFW_BYTES) && !HAS(r, NFW_BYTES_TOT) &&
	    (HAS(r, NFW_INIT_BYTES) || HAS(r, NFW_RESP_BYTES))) {
		nfmsg_biflow(m, r, &f, rate);
		return;
	}
	f.bytes *= rate;
	f.packets *= rate;
	d->cb(&f, d->arg);
}

/* 1 when the len bytes at b are all zero (padding). */
static int
nfmsg_zero(const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* A data set: records while a whole one is left.  Zero bytes at its end
 * are padding, even as long as a record (NX-OS pads data flowsets by up
 * to 36 bytes): an all-zero record carries no bytes or addresses. */
static int
nfmsg_data(struct nfmsg *m, uint16_t id, const uint8_t *b, size_t len)
{
	const struct nfdecode *d = m->d;
	const struct nftpl *t = nftpl_find(d->cache, m->src, id, d->now_s);
	struct nftpl_rec r;
	size_t pos = 0, used, nz = len;

	if (t == NULL) {
		if (d->st != NULL)
			d->st->no_template++;
		/* kept briefly: the template may follow (exporters restart,
		 * UDP reorders) */
		if (nftpl_pend_put(d->cache, m->src, id, b, len, m->export_ms,
		        m->sys_up, d->now_s) == 0 &&
		    d->st != NULL)
			d->st->pending_kept++;
		return 0;
	}
	while (nz > 0 && b[nz - 1] == 0)
		nz--; /* b[nz..len) is zero */
	while (pos < nz && len - pos >= nftpl_min_len(t)) {
		if (nftpl_record(t, b + pos, len - pos, &used, &r) == -1) {
			nfflow_err(d,
			    "data set %u: a variable-length field "
			    "runs past the set",
			    id);
			return -1;
		}
		pos += used;
		if (nftpl_is_options(t))
			nfmsg_options(m, &r);
		else
			nfmsg_flow(m, &r);
	}
	return 0; /* what is left is padding */
}

/* Decodes the data sets that waited for template id of m's source, each
 * with its own message's times. */
static void
nfmsg_replay(struct nfmsg *m, uint16_t id)
{
	const struct nfdecode *d = m->d;
	struct nftpl_pend *p;
	int64_t export_ms = m->export_ms;
	uint32_t sys_up = m->sys_up;

	while ((p = nftpl_pend_take(d->cache, m->src, id, d->now_s)) != NULL) {
		m->export_ms = p->export_ms;
		m->sys_up = p->sys_up;
		if (d->st != NULL)
			d->st->pending_replayed++;
		(void)nfmsg_data(m, id, p->data, p->len);
		free(p);
	}
	m->export_ms = export_ms;
	m->sys_up = sys_up;
}

static void
nfmsg_tpl_err(struct nfmsg *m, const char *what)
{
	nfflow_err(m->d, "%s", what);
}

/* v9 template (options 0) or options template (1) flowset.  Zero bytes
 * after the last template are padding, even 4 or more of them (some
 * exporters pad options template flowsets beyond the 4-byte boundary). */
static int
nfmsg_v9_templates(struct nfmsg *m, int options, const uint8_t *b, size_t len)
{
	const struct nfdecode *d = m->d;
	struct nftpl_field fields[NFTPL_MAX_FIELDS];
	char err[128];
	size_t pos = 0;

	while (len - pos >= (options ? 6u : 4u)) {
		uint16_t id = (uint16_t)nfflow_be(b + pos, 2);
		size_t n, n_scope = 0, i, need;

		if (nfmsg_zero(b + pos, len - pos))
			break;
		if (!options) {
			n = (size_t)nfflow_be(b + pos + 2, 2);
			pos += 4;
		} else {
			size_t sl = (size_t)nfflow_be(b + pos + 2, 2);
			size_t ol = (size_t)nfflow_be(b + pos + 4, 2);

			pos += 6;
			if (sl == 0 || sl % 4 != 0 || ol % 4 != 0) {
				nfmsg_tpl_err(m,
				    "v9 options template: bad "
				    "scope or option length");
				if (d->st != NULL)
					d->st->templates_bad++;
				return -1;
			}
			n_scope = sl / 4;
			n = (sl + ol) / 4;
		}
		if (id < 256) {
			nfmsg_tpl_err(m, "v9 template: id below 256");
			if (d->st != NULL)
				d->st->templates_bad++;
			return -1;
		}
		need = n * 4;
		if (need > len - pos) {
			nfmsg_tpl_err(m,
			    "v9 template: fields run past the "
			    "flowset");
			if (d->st != NULL)
				d->st->templates_bad++;
			return -1;
		}
		if (n == 0 || n > NFTPL_MAX_FIELDS) {
			nfflow_err(d, "v9 template %u: %zu fields", id, n);
			if (d->st != NULL)
				d->st->templates_bad++;
			pos += need;
			continue;
		}
		for (i = 0; i < n; i++) {
			fields[i].ie = (uint16_t)nfflow_be(b + pos + 4 * i, 2);
			fields[i].len =
			    (uint16_t)nfflow_be(b + pos + 4 * i + 2, 2);
			fields[i].pen = 0;
			/* v9 has no variable-length fields: 65535 is a
			 * fixed (and too large) width. */
			if (fields[i].len == NFTPL_VARLEN)
				fields[i].len = NFTPL_VARLEN - 1;
		}
		pos += need;
		if (nftpl_add(d->cache, m->src, id, options, n_scope, fields, n,
		        d->now_s, d->st, err, sizeof(err)) == -1)
			nfflow_err(d, "v9 %s", err);
		else
			nfmsg_replay(m, id);
	}
	return 0;
}

int
nfmsg_decode_v9(const uint8_t *b, size_t len, const struct nfdecode *d)
{
	struct nfmsg m;
	size_t pos = NFMSG_V9_HEADER_LEN;

	if (len < NFMSG_V9_HEADER_LEN) {
		nfflow_err(d,
		    "v9: datagram of %zu bytes is shorter than "
		    "the header",
		    len);
		goto bad;
	}
	if (nfflow_be(b, 2) != 9) {
		nfflow_err(d, "v9: version %u", (unsigned)nfflow_be(b, 2));
		goto bad;
	}
	memset(&m, 0, sizeof(m));
	m.d = d;
	m.version = 9;
	m.sys_up = (uint32_t)nfflow_be(b + 4, 4);
	m.export_ms = (int64_t)nfflow_be(b + 8, 4) * 1000;
	m.src = nftpl_source(d->cache, d->exporter, 9,
	    (uint32_t)nfflow_be(b + 16, 4), d->now_s, d->st);
	if (m.src == NULL) {
		nfflow_err(d, "v9: too many sources; datagram ignored");
		return 0;
	}
	while (len - pos >= 4) {
		uint16_t id = (uint16_t)nfflow_be(b + pos, 2);
		size_t sl = (size_t)nfflow_be(b + pos + 2, 2);
		int rc = 0;

		/* some exporters pad the datagram with zeros to a fixed
		 * size; v9 has no message length to tell them apart */
		if (id == 0 && sl == 0 && nfmsg_zero(b + pos, len - pos))
			break;
		if (sl < 4 || sl > len - pos) {
			nfflow_err(d,
			    "v9: flowset %u length %zu (%zu bytes "
			    "left)",
			    id, sl, len - pos);
			goto bad;
		}
		if (id == 0 || id == 1)
			rc = nfmsg_v9_templates(&m, id, b + pos + 4, sl - 4);
		else if (id >= 256)
			rc = nfmsg_data(&m, id, b + pos + 4, sl - 4);
		if (rc == -1)
			goto bad;
		pos += sl;
	}
	return m.flows;
bad:
	if (d->st != NULL)
		d->st->malformed++;
	return -1;
}

/* IPFIX template (set 2) or options template (set 3) set. */
static int
nfmsg_ipfix_templates(
    struct nfmsg *m, int options, const uint8_t *b, size_t len)
{
	const struct nfdecode *d = m->d;
	struct nftpl_field fields[NFTPL_MAX_FIELDS];
	char err[128];
	size_t pos = 0;

	while (len - pos >= 4) {
		uint16_t id = (uint16_t)nfflow_be(b + pos, 2);
		size_t n = (size_t)nfflow_be(b + pos + 2, 2), n_scope = 0, i;

		pos += 4;
		if (n == 0) { /* withdrawal */
			if (id >= 256 || id == 2 || id == 3)
				nftpl_withdraw(d->cache, m->src, id, d->st);
			continue;
		}
		if (id < 256) {
			nfmsg_tpl_err(m, "IPFIX template: id below 256");
			if (d->st != NULL)
				d->st->templates_bad++;
			return -1;
		}
		if (options) {
			if (len - pos < 2) {
				nfmsg_tpl_err(m,
				    "IPFIX options template: "
				    "truncated");
				return -1;
			}
			n_scope = (size_t)nfflow_be(b + pos, 2);
			pos += 2;
			if (n_scope == 0 || n_scope > n) {
				nfflow_err(d,
				    "IPFIX options template %u: "
				    "scope count %zu of %zu fields",
				    id, n_scope, n);
				if (d->st != NULL)
					d->st->templates_bad++;
				return -1;
			}
		}
		if (n > NFTPL_MAX_FIELDS) {
			nfflow_err(d, "IPFIX template %u: %zu fields", id, n);
			if (d->st != NULL)
				d->st->templates_bad++;
			return -1; /* the field list is not skipped cheaply */
		}
		for (i = 0; i < n; i++) {
			uint16_t ie;

			if (len - pos < 4)
				goto truncated;
			ie = (uint16_t)nfflow_be(b + pos, 2);
			fields[i].len = (uint16_t)nfflow_be(b + pos + 2, 2);
			fields[i].ie = ie & 0x7fff;
			fields[i].pen = 0;
			pos += 4;
			if (ie & 0x8000) {
				if (len - pos < 4)
					goto truncated;
				fields[i].pen = (uint32_t)nfflow_be(b + pos, 4);
				/* a private field we never read; a pen of 0
				 * must not alias an IANA IE */
				if (fields[i].pen == 0)
					fields[i].pen = 0xffffffffu;
				pos += 4;
			}
		}
		if (nftpl_add(d->cache, m->src, id, options, n_scope, fields, n,
		        d->now_s, d->st, err, sizeof(err)) == -1)
			nfflow_err(d, "IPFIX %s", err);
		else
			nfmsg_replay(m, id);
	}
	return 0;
truncated:
	nfmsg_tpl_err(m, "IPFIX template: field specifiers run past the set");
	if (d->st != NULL)
		d->st->templates_bad++;
	return -1;
}

int
nfmsg_decode_ipfix(const uint8_t *b, size_t len, const struct nfdecode *d)
{
	struct nfmsg m;
	size_t pos = NFMSG_IPFIX_HEADER_LEN, mlen;

	if (len < NFMSG_IPFIX_HEADER_LEN) {
		nfflow_err(d,
		    "IPFIX: datagram of %zu bytes is shorter than "
		    "the header",
		    len);
		goto bad;
	}
	if (nfflow_be(b, 2) != 10) {
		nfflow_err(d, "IPFIX: version %u", (unsigned)nfflow_be(b, 2));
		goto bad;
	}
	mlen = (size_t)nfflow_be(b + 2, 2);
	if (mlen < NFMSG_IPFIX_HEADER_LEN || mlen > len) {
		nfflow_err(
		    d, "IPFIX: message length %zu, datagram %zu", mlen, len);
		goto bad;
	}
	len = mlen; /* bytes after the message are not ours */
	memset(&m, 0, sizeof(m));
	m.d = d;
	m.version = 10;
	m.export_ms = (int64_t)nfflow_be(b + 4, 4) * 1000;
	m.src = nftpl_source(d->cache, d->exporter, 10,
	    (uint32_t)nfflow_be(b + 12, 4), d->now_s, d->st);
	if (m.src == NULL) {
		nfflow_err(d, "IPFIX: too many sources; datagram ignored");
		return 0;
	}
	while (len - pos >= 4) {
		uint16_t id = (uint16_t)nfflow_be(b + pos, 2);
		size_t sl = (size_t)nfflow_be(b + pos + 2, 2);
		int rc = 0;

		if (sl < 4 || sl > len - pos) {
			nfflow_err(d,
			    "IPFIX: set %u length %zu (%zu bytes "
			    "left)",
			    id, sl, len - pos);
			goto bad;
		}
		if (id == 0 || id == 1) {
			nfflow_err(d, "IPFIX: set id %u is not allowed", id);
			goto bad;
		}
		if (id == 2 || id == 3)
			rc = nfmsg_ipfix_templates(
			    &m, id == 3, b + pos + 4, sl - 4);
		else if (id >= 256)
			rc = nfmsg_data(&m, id, b + pos + 4, sl - 4);
		if (rc == -1)
			goto bad;
		pos += sl;
	}
	return m.flows;
bad:
	if (d->st != NULL)
		d->st->malformed++;
	return -1;
}

int
nfmsg_decode(const uint8_t *b, size_t len, const struct nfdecode *d)
{
	unsigned v = len >= 2 ? (unsigned)nfflow_be(b, 2) : 0;

	if (d->st != NULL)
		d->st->datagrams++;
	switch (v) {
	case 5: {
		int rc = nfv5_decode(b, len, d);

		if (rc < 0 && d->st != NULL)
			d->st->malformed++;
		return rc;
	}
	case 9:
		return nfmsg_decode_v9(b, len, d);
	case 10:
		return nfmsg_decode_ipfix(b, len, d);
	default:
		if (d->st != NULL)
			d->st->bad_version++;
		nfflow_err(d, "version %u is not 5, 9 or 10", v);
		return -1;
	}
}
