/*
 * Space-Saving over a chained hash (entry indices) and a binary min-heap
 * of entry indices.  Arrays grow on demand up to cap, so the many small
 * tables of a window stay small.  The per-flow cost is memory traffic, so
 * what each step touches is kept compact: hash chains live in their own
 * array of (hash, next) links (a lookup that misses reads no entry, an
 * eviction unlinks without rehashing), heap slots carry their counts and
 * the heap positions live in their own small array, so a sift-down
 * touches two compact arrays, not one entry per level.
 */
#include "nftop.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define NFTOP_NIL UINT32_MAX /* no heap slot (the heap's sentinel) */

void
nftop_init(struct nftop *t, uint32_t cap)
{
	memset(t, 0, sizeof(*t));
	t->cap = cap ? cap : 1;
}

void
nftop_free(struct nftop *t)
{
	free(t->ents);
	free(t->links);
	free(t->heap);
	free(t->pos);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

static inline uint32_t
nftop_hash(const uint8_t *k, size_t len)
{
	return nftop_key_hash(k, len);
}

/* Short keys (1 to 33 bytes) compare faster inline than through a call:
 * byte 0, then the rest in words and a 4-, 2- and 1-byte tail as
 * nftop_key_hash reads them (so a key just written is forwarded from the
 * stores that wrote it), differences or-ed so that only the key's length
 * decides the branches. */
static inline int
nftop_key_eq(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint64_t d;
	size_t i = 1;

	if (len == 0)
		return 1;
	d = (uint8_t)(a[0] ^ b[0]);
	for (; i + 8 <= len; i += 8) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		d |= x ^ y;
	}
	if (len - i >= 4) {
		uint32_t x, y;

		memcpy(&x, a + i, 4);
		memcpy(&y, b + i, 4);
		d |= x ^ y;
		i += 4;
	}
	if (len - i >= 2) {
		uint16_t x, y;

		memcpy(&x, a + i, 2);
		memcpy(&y, b + i, 2);
		d |= (uint16_t)(x ^ y);
		i += 2;
	}
	if (len - i >= 1)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

/* Copies a short key the same way (a call to memcpy costs more). */
static inline void
nftop_key_copy(uint8_t *d, const uint8_t *s, size_t len)
{
	size_t i = 1;

	if (len == 0)
		return;
	d[0] = s[0];
	for (; i + 8 <= len; i += 8)
		memcpy(d + i, s + i, 8);
	if (len - i >= 4) {
		memcpy(d + i, s + i, 4);
		i += 4;
	}
	if (len - i >= 2) {
		memcpy(d + i, s + i, 2);
		i += 2;
	}
	if (len - i >= 1)
		d[i] = s[i];
}

/* Puts entry idx (its link's hash set) at the head of its bucket. */
static void
nftop_link_in(struct nftop *t, uint32_t idx)
{
	struct nftop_link *lk = t->links;
	uint32_t r = idx + 1, *b = &t->buckets[lk[r].hash & (t->nb - 1)];

	lk[r].next = *b;
	lk[r].prev = 0;
	lk[*b].prev = r; /* an empty bucket sets the scratch link's: unused */
	*b = r;
}

static void
nftop_rehash(struct nftop *t, uint32_t nb)
{
	uint32_t i;

	free(t->buckets);
	t->nb = nb;
	t->buckets = xcalloc(nb, sizeof(uint32_t));
	for (i = 0; i < t->n; i++)
		nftop_link_in(t, i);
}

/* Sifts slot i down.  The heap has a sentinel slot h[n] of the largest
 * count once built, so a missing right child needs no test.  On a table
 * that evicts, every add sifts a new count from the root to near a leaf,
 * so the walk is a chain of dependent loads: two levels are taken per
 * step, the four grandchildren loaded with the two children (they are
 * contiguous), and which child is smaller, a coin toss, is picked without
 * a branch.  Same moves as one level at a time. */
static void
nftop_down(struct nftop *t, uint32_t i)
{
	struct nftop_slot *h = t->heap, x = h[i];
	uint32_t *pos = t->pos, n = t->n;

	for (;;) {
		uint32_t l = 2 * i + 1, m, r;
		uint64_t c0, c1, g0, g1, g2, g3, a, b;
		struct nftop_slot c;

		if (l >= n)
			break;
		if (2 * l + 4 > n) { /* no grandchildren: one level */
			m = l + (uint32_t)(h[l + 1].count < h[l].count);
			c = h[m];
			if (c.count >= x.count)
				break;
			h[i] = c;
			pos[c.idx] = i;
			i = m;
			continue;
		}
		c0 = h[l].count;
		c1 = h[l + 1].count;
		g0 = h[2 * l + 1].count;
		g1 = h[2 * l + 2].count;
		g2 = h[2 * l + 3].count;
		g3 = h[2 * l + 4].count;
		r = (uint32_t)(c1 < c0); /* 1: the right child */
		a = r ? g2 : g0;
		b = r ? g3 : g1;
		m = l + r;
		c = h[m];
		if (c.count >= x.count)
			break;
		h[i] = c;
		pos[c.idx] = i;
		i = m;
		m = 2 * i + 1 + (uint32_t)(b < a);
		c = h[m];
		if (c.count >= x.count)
			break;
		h[i] = c;
		pos[c.idx] = i;
		i = m;
	}
	h[i] = x;
	pos[x.idx] = i;
}

/* Takes entry idx out of its chain: no walk, and no branch on whether
 * it heads its bucket or ends its chain (a missing neighbour is the
 * scratch link). */
static void
nftop_unlink(struct nftop *t, uint32_t idx)
{
	struct nftop_link *lk = t->links, *e = &lk[idx + 1];
	uint32_t *pp = e->prev != 0 ? &lk[e->prev].next
	                            : &t->buckets[e->hash & (t->nb - 1)];

	*pp = e->next;
	lk[e->next].prev = e->prev;
}

/* Builds the min-heap once the table is full (exact mode needs none). */
static void
nftop_heapify(struct nftop *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		t->heap[i].count = t->ents[i].count;
		t->heap[i].idx = i;
		t->pos[i] = i;
	}
	t->heap[t->n].count = UINT64_MAX; /* the sentinel */
	t->heap[t->n].idx = NFTOP_NIL;
	for (i = t->n / 2; i-- > 0;)
		nftop_down(t, i);
}

static int
nftop_full(const struct nftop *t)
{
	return t->n == t->cap;
}

/* The entry holding key (hash h), or NULL.  In a table that evicts most
 * lookups miss: a chain of at most two links without the hash is decided
 * with one branch, the scratch link (whose hash is made to differ) standing
 * in for the missing ones. */
static struct nftop_ent *
nftop_find(struct nftop *t, const void *key, size_t len, uint32_t h)
{
	struct nftop_link *lk = t->links;
	uint32_t r = t->buckets[h & (t->nb - 1)], r1;

	lk[0].hash = ~h;
	lk[0].next = 0;
	r1 = lk[r].next;
	if (((lk[r].hash == h) | (lk[r1].hash == h) | (lk[r1].next != 0)) == 0)
		return NULL;
	for (; r != 0; r = lk[r].next) {
		struct nftop_ent *e = &t->ents[r - 1];

		if (lk[r].hash == h && e->len == len &&
		    nftop_key_eq(e->key, key, len))
			return e;
	}
	return NULL;
}

/* Adds weight w (an estimate that may over-count by err) to key, whose
 * hash is h (len already cut to NFTOP_KEY_MAX). */
static void
nftop_add_err(struct nftop *t, const void *key, size_t len, uint32_t h,
    uint64_t w, uint64_t err)
{
	uint32_t idx;
	struct nftop_ent *e;

	t->total += w;
	if (t->nb == 0) {
		t->links = xreallocarray(t->links, 1, sizeof(*t->links));
		nftop_rehash(t, 8);
	}
	e = nftop_find(t, key, len, h);
	if (e != NULL) {
		e->count += w;
		e->err += err;
		if (nftop_full(t)) {
			uint32_t p = t->pos[e - t->ents];

			t->heap[p].count = e->count;
			nftop_down(t, p);
		}
		return;
	}
	if (t->n < t->cap) {
		if (t->n == t->alloc) {
			uint32_t na = t->alloc ? t->alloc * 2 : 8;

			if (na > t->cap)
				na = t->cap;
			t->ents = xreallocarray(t->ents, na, sizeof(*t->ents));
			t->links = xreallocarray(t->links, na + 1,
			    sizeof(*t->links)); /* + scratch */
			t->heap = xreallocarray(
			    t->heap, na + 1, sizeof(*t->heap)); /* + sentinel */
			t->pos = xreallocarray(t->pos, na, sizeof(*t->pos));
			t->alloc = na;
		}
		idx = t->n++;
		e = &t->ents[idx];
		memset(e, 0, sizeof(*e));
		e->len = (uint8_t)len;
		nftop_key_copy(e->key, key, len);
		e->count = w;
		e->err = err;
		t->links[idx + 1].hash = h;
		if (nftop_full(t))
			nftop_heapify(t);
		if (4 * t->n > t->nb) { /* load <= 1/4: mostly empty */
			nftop_rehash(t, t->nb * 2);
			return;
		}
	} else {
		/* Space-Saving: the smallest counter changes hands. */
		uint64_t min = t->heap[0].count; /* = its entry's count */

		idx = t->heap[0].idx;
		e = &t->ents[idx];
		nftop_unlink(t, idx);
		e->len = (uint8_t)len;
		nftop_key_copy(e->key, key, len);
		e->err = min + err;
		e->count = min + w;
		t->links[idx + 1].hash = h;
		t->replaced++;
		t->heap[0].count = e->count;
		nftop_down(t, 0);
	}
	nftop_link_in(t, idx);
}

void
nftop_add(struct nftop *t, const void *key, size_t len, uint64_t w)
{
	if (len > NFTOP_KEY_MAX)
		len = NFTOP_KEY_MAX;
	nftop_add_err(t, key, len, nftop_hash(key, len), w, 0);
}

void
nftop_add_hashed(
    struct nftop *t, const void *key, size_t len, uint32_t hash, uint64_t w)
{
	if (len > NFTOP_KEY_MAX)
		len = NFTOP_KEY_MAX;
	nftop_add_err(t, key, len, hash, w, 0);
}

void
nftop_merge(struct nftop *dst, const struct nftop *src)
{
	uint32_t i;

	for (i = 0; i < src->n; i++)
		nftop_add_err(dst, src->ents[i].key, src->ents[i].len,
		    src->links[i + 1].hash, src->ents[i].count,
		    src->ents[i].err);
}

uint64_t
nftop_error_bound(const struct nftop *t)
{
	if (!nftop_full(t) || t->n == 0)
		return 0;
	return t->heap[0].count;
}

static int
nftop_cmp(const void *a, const void *b)
{
	const struct nftop_ent *x = *(const struct nftop_ent *const *)a;
	const struct nftop_ent *y = *(const struct nftop_ent *const *)b;
	int c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	c = memcmp(x->key, y->key, x->len);
	return c;
}

size_t
nftop_top(const struct nftop *t, size_t k, const struct nftop_ent **out)
{
	const struct nftop_ent **all;
	size_t i, n = t->n;

	if (n == 0 || k == 0)
		return 0;
	all = xreallocarray(NULL, n, sizeof(*all));
	for (i = 0; i < n; i++)
		all[i] = &t->ents[i];
	qsort(all, n, sizeof(*all), nftop_cmp);
	if (k > n)
		k = n;
	memcpy(out, all, k * sizeof(*all));
	free(all);
	return k;
}

size_t
nftop_bytes(const struct nftop *t)
{
	return (size_t)t->alloc *
	    (sizeof(struct nftop_ent) + sizeof(struct nftop_link) +
	        sizeof(struct nftop_slot) + sizeof(uint32_t)) +
	    (t->links != NULL ? sizeof(struct nftop_link) : 0) +
	    (size_t)t->nb * 4;
}

void
nftop_restore(
    struct nftop *t, const void *key, size_t len, uint64_t count, uint64_t err)
{
	if (len > NFTOP_KEY_MAX)
		len = NFTOP_KEY_MAX;
	nftop_add_err(t, key, len, nftop_hash(key, len), count,
	    err <= count ? err : count);
}
