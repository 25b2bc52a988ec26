/*
 * A small table of datagrams in progress, each a 64 KiB buffer plus a
 * bitmap of the 8-byte blocks received.  Fragment offsets are multiples
 * of 8 in both IPv4 and IPv6, so a block is wholly in one fragment unless
 * fragments overlap, which gives the datagram up.
 */
#include "nffrag.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define NFFRAG_PAYLOAD 65535
#define NFFRAG_BLOCKS  ((NFFRAG_PAYLOAD + 7) / 8)

struct nffrag_ent {
	int used;
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t proto;
	double first;   /* time of the first fragment seen */
	uint32_t total; /* payload length, once the last fragment is seen */
	int have_last;
	uint8_t *buf;
	uint8_t map[(NFFRAG_BLOCKS + 7) / 8];
};

struct nffrag {
	struct nffrag_ent ents[NFFRAG_MAX];
	uint8_t *done; /* the last reassembled payload, until the next add */
	struct nffrag_stats st;
};

struct nffrag *
nffrag_new(void)
{
	return xcalloc(1, sizeof(struct nffrag));
}

static void
nffrag_drop(struct nffrag_ent *e)
{
	free(e->buf);
	e->buf = NULL;
	e->used = 0;
}

void
nffrag_free(struct nffrag *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < NFFRAG_MAX; i++)
		nffrag_drop(&t->ents[i]);
	free(t->done);
	free(t);
}

const struct nffrag_stats *
nffrag_stats(const struct nffrag *t)
{
	return &t->st;
}

static int
nffrag_bit(const struct nffrag_ent *e, uint32_t b)
{
	return (e->map[b / 8] >> (b % 8)) & 1;
}

static struct nffrag_ent *
nffrag_find(struct nffrag *t, const struct nffrag_piece *p, double now)
{
	struct nffrag_ent *e, *oldest = NULL, *free_ent = NULL;
	size_t i;

	for (i = 0; i < NFFRAG_MAX; i++) {
		e = &t->ents[i];
		if (e->used && now - e->first > NFFRAG_TIMEOUT_S) {
			nffrag_drop(e);
			t->st.timed_out++;
		}
		if (!e->used) {
			if (free_ent == NULL)
				free_ent = e;
			continue;
		}
		if (e->id == p->id && e->proto == p->proto &&
		    memcmp(e->src, p->src, 16) == 0 &&
		    memcmp(e->dst, p->dst, 16) == 0)
			return e;
		if (oldest == NULL || e->first < oldest->first)
			oldest = e;
	}
	if (free_ent == NULL) {
		nffrag_drop(oldest);
		t->st.evicted++;
		free_ent = oldest;
	}
	e = free_ent;
	memset(e, 0, sizeof(*e));
	e->used = 1;
	memcpy(e->src, p->src, 16);
	memcpy(e->dst, p->dst, 16);
	e->id = p->id;
	e->proto = p->proto;
	e->first = now;
	e->buf = xmalloc(NFFRAG_PAYLOAD);
	return e;
}

int
nffrag_add(struct nffrag *t, const struct nffrag_piece *p, double now,
    const uint8_t **out, size_t *outlen)
{
	struct nffrag_ent *e;
	uint32_t b, b0, b1, end;

	t->st.fragments++;
	free(t->done);
	t->done = NULL;
	if (p->offset % 8 != 0 || p->len > NFFRAG_PAYLOAD ||
	    p->offset > NFFRAG_PAYLOAD - p->len ||
	    (p->more && (p->len == 0 || p->len % 8 != 0))) {
		t->st.bad++;
		return -1;
	}
	end = p->offset + (uint32_t)p->len;
	e = nffrag_find(t, p, now);
	b0 = p->offset / 8;
	b1 = (end + 7) / 8;
	if (!p->more) {
		if ((e->have_last && e->total != end))
			goto bad;
		for (b = b1; b < NFFRAG_BLOCKS; b++)
			if (nffrag_bit(e, b))
				goto bad; /* data beyond the end */
		e->total = end;
		e->have_last = 1;
	} else if (e->have_last && end > e->total) {
		goto bad;
	}
	for (b = b0; b < b1; b++)
		if (nffrag_bit(e, b))
			goto bad; /* overlap */
	memcpy(e->buf + p->offset, p->data, p->len);
	for (b = b0; b < b1; b++)
		e->map[b / 8] |= (uint8_t)(1u << (b % 8));
	if (!e->have_last)
		return 0;
	for (b = 0; b < (e->total + 7) / 8; b++)
		if (!nffrag_bit(e, b))
			return 0;
	t->done = e->buf;
	e->buf = NULL;
	*out = t->done;
	*outlen = e->total;
	e->used = 0;
	t->st.reassembled++;
	return 1;
bad:
	nffrag_drop(e);
	t->st.bad++;
	return -1;
}
