/*
 * libpcap input.  Frame parsing checks every length before reading; the
 * IPv6 parser follows the usual extension headers (hop-by-hop, routing,
 * destination options).  Fragments of UDP datagrams (IPv4, or an IPv6
 * fragment header followed by UDP) go to nffrag.c, and a reassembled
 * datagram is handed over as if it had come in one packet, with the time
 * of its last fragment.
 */
#include "nfpcap.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfflow.h"
#include "nffrag.h"
#include "xmalloc.h"

/* "udp" lets IPv4 fragments through (protocol 17) but not IPv6 ones,
 * whose next header is the fragment header (44). */
#define NFPCAP_DEFAULT_FILTER "udp or (ip6 and ip6[6] == 44)"

struct nfpcap_live {
	pcap_t *p;
	int dlt;
	struct nffrag *frag;
};

static int
nfpcap_udp(const uint8_t *p, size_t len, struct nfpcap_dgram *dg)
{
	size_t ulen;

	if (len < 8)
		return -1;
	ulen = (size_t)nfflow_be(p + 4, 2);
	if (ulen < 8)
		return -1;
	if (ulen > len)
		return -1; /* truncated capture or a fragment */
	dg->dport = (uint16_t)nfflow_be(p + 2, 2);
	dg->payload = p + 8;
	dg->len = ulen - 8;
	return 0;
}

/* 0: a UDP datagram (dg); 1: a fragment of one (fr, when fr is not
 * NULL); -1: neither. */
static int
nfpcap_ip(const uint8_t *p, size_t len, struct nfpcap_dgram *dg,
    struct nffrag_piece *fr)
{
	if (len < 1)
		return -1;
	if ((p[0] >> 4) == 4) {
		size_t ihl = (size_t)(p[0] & 15) * 4, tot;
		uint32_t frag;

		if (ihl < 20 || len < ihl)
			return -1;
		tot = (size_t)nfflow_be(p + 2, 2);
		if (tot < ihl)
			return -1;
		if (tot < len)
			len = tot; /* Ethernet padding */
		if (p[9] != 17)
			return -1;
		nfflow_map4(p + 12, dg->src);
		frag = (uint32_t)nfflow_be(p + 6, 2);
		if ((frag & 0x3fff) == 0 ||
		    (fr == NULL && (frag & 0x1fff) == 0))
			return nfpcap_udp(p + ihl, len - ihl, dg);
		if (fr == NULL || len < tot)
			return -1; /* no reassembly, or a truncated capture */
		memcpy(fr->src, dg->src, 16);
		nfflow_map4(p + 16, fr->dst);
		fr->id = (uint32_t)nfflow_be(p + 4, 2);
		fr->proto = 17;
		fr->offset = (frag & 0x1fff) * 8;
		fr->more = (frag & 0x2000) != 0;
		fr->data = p + ihl;
		fr->len = len - ihl;
		return 1;
	}
	if ((p[0] >> 4) == 6) {
		size_t off = 40, plen;
		uint8_t nh;

		if (len < 40)
			return -1;
		plen = (size_t)nfflow_be(p + 4, 2);
		if (40 + plen < len)
			len = 40 + plen;
		memcpy(dg->src, p + 8, 16);
		nh = p[6];
		for (;;) {
			if (nh == 17)
				return nfpcap_udp(p + off, len - off, dg);
			if (nh == 0 || nh == 43 || nh == 60) {
				size_t hl;

				if (len - off < 8)
					return -1;
				hl = ((size_t)p[off + 1] + 1) * 8;
				if (hl > len - off)
					return -1;
				nh = p[off];
				off += hl;
			} else if (nh == 44) {
				uint32_t fo;

				if (len - off < 8)
					return -1;
				fo = (uint32_t)nfflow_be(p + off + 2, 2);
				if ((fo & 0xfff9) == 0 ||
				    (fr == NULL && (fo & 0xfff8) == 0)) {
					/* an atomic fragment (whole), or a
					 * first one without reassembly */
					nh = p[off];
					off += 8;
					continue;
				}
				if (fr == NULL || p[off] != 17 ||
				    len < 40 + plen)
					return -1;
				memcpy(fr->src, p + 8, 16);
				memcpy(fr->dst, p + 24, 16);
				fr->id = (uint32_t)nfflow_be(p + off + 4, 4);
				fr->proto = 17;
				fr->offset = fo & 0xfff8;
				fr->more = fo & 1;
				fr->data = p + off + 8;
				fr->len = len - off - 8;
				return 1;
			} else {
				return -1;
			}
		}
	}
	return -1;
}

/* The IP packet in a frame: its offset, or -1. */
static long
nfpcap_l3(int dlt, const uint8_t *f, size_t len)
{
	size_t off;
	uint32_t et;

	switch (dlt) {
	case DLT_EN10MB:
		if (len < 14)
			return -1;
		et = (uint32_t)nfflow_be(f + 12, 2);
		off = 14;
		while ((et == 0x8100 || et == 0x88a8) && len >= off + 4) {
			et = (uint32_t)nfflow_be(f + off + 2, 2);
			off += 4;
		}
		if (et != 0x0800 && et != 0x86dd)
			return -1;
		return (long)off;
	case DLT_LINUX_SLL:
		if (len < 16)
			return -1;
		et = (uint32_t)nfflow_be(f + 14, 2);
		if (et != 0x0800 && et != 0x86dd)
			return -1;
		return 16;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		if (len < 20)
			return -1;
		et = (uint32_t)nfflow_be(f, 2);
		if (et != 0x0800 && et != 0x86dd)
			return -1;
		return 20;
#endif
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		return 0;
	case DLT_NULL:
	case DLT_LOOP:
		if (len < 4)
			return -1;
		return 4;
	default:
		return -1;
	}
}

int
nfpcap_parse(int dlt, const uint8_t *f, size_t len, struct nfpcap_dgram *dg)
{
	long off = nfpcap_l3(dlt, f, len);

	if (off < 0)
		return -1;
	return nfpcap_ip(f + off, len - (size_t)off, dg, NULL);
}

int
nfpcap_parse_frag(int dlt, const uint8_t *f, size_t len,
    struct nfpcap_dgram *dg, struct nffrag_piece *fr)
{
	long off = nfpcap_l3(dlt, f, len);

	if (off < 0)
		return -1;
	return nfpcap_ip(f + off, len - (size_t)off, dg, fr);
}

/* Hands the datagram or completed fragmented datagram of a frame to cb. */
static int
nfpcap_deliver(int dlt, const uint8_t *f, size_t len, double ts,
    struct nffrag *frag, nfpcap_cb *cb, void *arg)
{
	struct nfpcap_dgram dg;
	struct nffrag_piece fr;
	const uint8_t *whole;
	size_t wlen;
	int rc = nfpcap_parse_frag(dlt, f, len, &dg, &fr);

	if (rc == 1) {
		if (nffrag_add(frag, &fr, ts, &whole, &wlen) != 1)
			return 0;
		memcpy(dg.src, fr.src, 16);
		if (nfpcap_udp(whole, wlen, &dg) == -1)
			return 0;
	} else if (rc == -1) {
		return 0;
	}
	dg.ts = ts;
	cb(&dg, arg);
	return 1;
}

static int
nfpcap_filter(pcap_t *p, const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;
	int rc;

	if (filter == NULL || strcmp(filter, "udp") == 0)
		filter = NFPCAP_DEFAULT_FILTER;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == -1) {
		snprintf(
		    err, errlen, "filter \"%s\": %s", filter, pcap_geterr(p));
		return -1;
	}
	rc = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	if (rc == -1) {
		snprintf(err, errlen, "filter: %s", pcap_geterr(p));
		return -1;
	}
	return 0;
}

long
nfpcap_replay(const char *file, const char *filter, nfpcap_cb *cb, void *arg,
    char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	struct nffrag *frag;
	long n = 0;
	int dlt, rc;

	ebuf[0] = '\0';
	p = pcap_open_offline(file, ebuf);
	if (p == NULL) {
		snprintf(err, errlen, "%s: %s", file, ebuf);
		return -1;
	}
	if (nfpcap_filter(p, filter, err, errlen) == -1) {
		pcap_close(p);
		return -1;
	}
	dlt = pcap_datalink(p);
	frag = nffrag_new();
	while ((rc = pcap_next_ex(p, &h, &data)) == 1)
		n += nfpcap_deliver(dlt, data, h->caplen,
		    (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6, frag,
		    cb, arg);
	nffrag_free(frag);
	if (rc == -1) {
		snprintf(err, errlen, "%s: %s", file, pcap_geterr(p));
		n = -1;
	}
	pcap_close(p);
	return n;
}

struct nfpcap_live *
nfpcap_live_open(
    const char *iface, const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct nfpcap_live *lv;
	pcap_t *p;

	ebuf[0] = '\0';
	p = pcap_create(iface, ebuf);
	if (p == NULL) {
		snprintf(err, errlen, "%s: %s", iface, ebuf);
		return NULL;
	}
	if (pcap_set_snaplen(p, 65535) != 0 ||
	    pcap_set_buffer_size(p, 32 << 20) != 0 ||
	    pcap_set_immediate_mode(p, 1) != 0 || pcap_activate(p) < 0 ||
	    nfpcap_filter(p, filter, err, errlen) == -1 ||
	    pcap_setnonblock(p, 1, ebuf) == -1 ||
	    pcap_get_selectable_fd(p) < 0) {
		if (err[0] == '\0')
			snprintf(err, errlen, "%s: %s", iface, pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	lv = xcalloc(1, sizeof(*lv));
	lv->p = p;
	lv->dlt = pcap_datalink(p);
	lv->frag = nffrag_new();
	return lv;
}

int
nfpcap_live_fd(const struct nfpcap_live *lv)
{
	return pcap_get_selectable_fd(lv->p);
}

struct nfpcap_live_ctx {
	struct nfpcap_live *lv;
	nfpcap_cb *cb;
	void *arg;
};

static void
nfpcap_live_one(u_char *user, const struct pcap_pkthdr *h, const u_char *d)
{
	struct nfpcap_live_ctx *c = (struct nfpcap_live_ctx *)(void *)user;

	(void)nfpcap_deliver(c->lv->dlt, d, h->caplen,
	    (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6, c->lv->frag,
	    c->cb, c->arg);
}

int
nfpcap_live_drain(struct nfpcap_live *lv, nfpcap_cb *cb, void *arg)
{
	struct nfpcap_live_ctx c = {lv, cb, arg};

	return pcap_dispatch(lv->p, 1024, nfpcap_live_one, (u_char *)&c);
}

uint64_t
nfpcap_live_drops(struct nfpcap_live *lv)
{
	struct pcap_stat ps;

	if (pcap_stats(lv->p, &ps) != 0)
		return 0;
	return ps.ps_drop;
}

void
nfpcap_live_close(struct nfpcap_live *lv)
{
	if (lv == NULL)
		return;
	pcap_close(lv->p);
	nffrag_free(lv->frag);
	free(lv);
}
