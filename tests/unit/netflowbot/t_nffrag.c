/*
 * Unit tests for IP fragment reassembly: any order, overlaps and bad
 * lengths refused, the timeout and the bound on datagrams in progress,
 * and IPv4 / IPv6 fragments found in frames.
 */
#include <pcap/pcap.h>
#include <string.h>

#include "../../../netflowbot/nffrag.h"
#include "../../../netflowbot/nfpcap.h"
#include "../t.h"

#define T_DLT_RAW DLT_RAW

static uint8_t t_payload[3000];

static void
t_piece(struct nffrag_piece *p, uint32_t id, uint32_t off, size_t len, int more)
{
	memset(p, 0, sizeof(*p));
	p->src[15] = 1;
	p->dst[15] = 2;
	p->id = id;
	p->proto = 17;
	p->offset = off;
	p->more = more;
	p->data = t_payload + off;
	p->len = len;
}

T_TEST(nffrag_any_order)
{
	struct nffrag *t = nffrag_new();
	struct nffrag_piece p;
	const uint8_t *out = NULL;
	size_t i, n = 0;

	for (i = 0; i < sizeof(t_payload); i++)
		t_payload[i] = (uint8_t)(i * 7 + 3);
	/* last, first, middle: complete only with the middle one */
	t_piece(&p, 5, 2400, 600, 0);
	T_EQ_INT(nffrag_add(t, &p, 1.0, &out, &n), 0);
	t_piece(&p, 5, 0, 1200, 1);
	T_EQ_INT(nffrag_add(t, &p, 1.0, &out, &n), 0);
	/* another datagram (other id) interleaved */
	t_piece(&p, 6, 0, 1200, 1);
	T_EQ_INT(nffrag_add(t, &p, 1.0, &out, &n), 0);
	t_piece(&p, 5, 1200, 1200, 1);
	T_EQ_INT(nffrag_add(t, &p, 1.5, &out, &n), 1);
	T_EQ_INT(n, 3000);
	T_EQ_MEM(out, t_payload, 3000);
	t_piece(&p, 6, 1200, 100, 0);
	T_EQ_INT(nffrag_add(t, &p, 1.5, &out, &n), 1);
	T_EQ_INT(n, 1300);
	T_EQ_MEM(out, t_payload, 1300);
	T_EQ_INT(nffrag_stats(t)->reassembled, 2);
	T_EQ_INT(nffrag_stats(t)->fragments, 5);
	nffrag_free(t);
}

T_TEST(nffrag_refusals)
{
	struct nffrag *t = nffrag_new();
	struct nffrag_piece p;
	const uint8_t *out;
	size_t n;

	/* overlap: the datagram is given up, its rest never completes */
	t_piece(&p, 1, 0, 1200, 1);
	T_EQ_INT(nffrag_add(t, &p, 0, &out, &n), 0);
	t_piece(&p, 1, 800, 800, 1);
	T_EQ_INT(nffrag_add(t, &p, 0, &out, &n), -1);
	t_piece(&p, 1, 1600, 100, 0);
	T_EQ_INT(nffrag_add(t, &p, 0, &out, &n), 0);
	/* a non-last fragment whose length is no multiple of 8 */
	t_piece(&p, 2, 0, 1001, 1);
	T_EQ_INT(nffrag_add(t, &p, 0, &out, &n), -1);
	/* beyond 65535 bytes */
	t_piece(&p, 3, 65528, 16, 0);
	p.data = t_payload;
	T_EQ_INT(nffrag_add(t, &p, 0, &out, &n), -1);
	/* two different ends */
	t_piece(&p, 4, 800, 100, 0);
	T_EQ_INT(nffrag_add(t, &p, 0, &out, &n), 0);
	t_piece(&p, 4, 800, 200, 0);
	T_EQ_INT(nffrag_add(t, &p, 0, &out, &n), -1);
	/* data after the end */
	t_piece(&p, 7, 1600, 8, 1);
	T_EQ_INT(nffrag_add(t, &p, 0, &out, &n), 0);
	t_piece(&p, 7, 0, 800, 0);
	T_EQ_INT(nffrag_add(t, &p, 0, &out, &n), -1);
	T_EQ_INT(nffrag_stats(t)->bad, 5);
	T_EQ_INT(nffrag_stats(t)->reassembled, 0);
	nffrag_free(t);
}

T_TEST(nffrag_timeout_and_bound)
{
	struct nffrag *t = nffrag_new();
	struct nffrag_piece p;
	const uint8_t *out;
	size_t n;
	uint32_t i;

	t_piece(&p, 1, 0, 800, 1);
	T_EQ_INT(nffrag_add(t, &p, 100.0, &out, &n), 0);
	t_piece(&p, 1, 800, 8, 0);
	T_EQ_INT(nffrag_add(t, &p, 100.0 + NFFRAG_TIMEOUT_S + 1, &out, &n),
	    0); /* the first half expired: this one starts over */
	T_EQ_INT(nffrag_stats(t)->timed_out, 1);
	/* NFFRAG_MAX more in progress: the oldest (id 1) is given up */
	for (i = 0; i < NFFRAG_MAX; i++) {
		t_piece(&p, 100 + i, 0, 8, 1);
		T_EQ_INT(nffrag_add(t, &p, 112.0, &out, &n), 0);
	}
	T_EQ_INT(nffrag_stats(t)->evicted, 1);
	t_piece(&p, 1, 0, 800, 1);
	T_EQ_INT(nffrag_add(t, &p, 112.0, &out, &n), 0); /* no completion */
	/* the others are intact: id 100 + 5 completes */
	t_piece(&p, 105, 8, 8, 0);
	T_EQ_INT(nffrag_add(t, &p, 112.0, &out, &n), 1);
	T_EQ_INT(n, 16);
	nffrag_free(t);
}

T_TEST(nffrag_frames_v4_v6)
{
	uint8_t f[200];
	struct nfpcap_dgram dg;
	struct nffrag_piece fr;

	/* IPv4, proto 17, id 0x1234, MF and offset 16 (x 8 bytes) */
	memset(f, 0, sizeof(f));
	f[0] = 0x45;
	f[2] = 0;
	f[3] = 20 + 64;
	f[4] = 0x12;
	f[5] = 0x34;
	f[6] = 0x20;
	f[7] = 16;
	f[9] = 17;
	f[12] = 192, f[13] = 0, f[14] = 2, f[15] = 9;
	f[16] = 127, f[19] = 1;
	T_EQ_INT(nfpcap_parse_frag(T_DLT_RAW, f, 84, &dg, &fr), 1);
	T_EQ_INT(fr.id, 0x1234);
	T_EQ_INT(fr.offset, 128);
	T_EQ_INT(fr.more, 1);
	T_EQ_INT(fr.len, 64);
	T_EQ_INT(fr.src[15], 9);
	T_EQ_INT(fr.src[10], 0xff);
	/* without reassembly it is no datagram; truncated: refused */
	T_EQ_INT(nfpcap_parse(T_DLT_RAW, f, 84, &dg), -1);
	T_EQ_INT(nfpcap_parse_frag(T_DLT_RAW, f, 80, &dg, &fr), -1);
	/* not UDP */
	f[9] = 6;
	T_EQ_INT(nfpcap_parse_frag(T_DLT_RAW, f, 84, &dg, &fr), -1);

	/* IPv6 with a fragment header: UDP, offset 24, last, id 77 */
	memset(f, 0, sizeof(f));
	f[0] = 0x60;
	f[5] = 8 + 40;
	f[6] = 44;
	f[8] = 0x20;
	f[23] = 5;
	f[40] = 17;
	f[42] = 0;
	f[43] = 24; /* offset 24 bytes, M = 0 */
	f[47] = 77;
	T_EQ_INT(nfpcap_parse_frag(T_DLT_RAW, f, 96, &dg, &fr), 1);
	T_EQ_INT(fr.id, 77);
	T_EQ_INT(fr.offset, 24);
	T_EQ_INT(fr.more, 0);
	T_EQ_INT(fr.len, 40);
	T_EQ_INT(fr.src[0], 0x20);
	T_EQ_INT(nfpcap_parse(T_DLT_RAW, f, 96, &dg), -1);
	/* a fragment header before something else than UDP: refused */
	f[40] = 6;
	T_EQ_INT(nfpcap_parse_frag(T_DLT_RAW, f, 96, &dg, &fr), -1);
}
