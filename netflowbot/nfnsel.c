/*
 * The set of NSEL connections with update events: open addressing with
 * linear probing and backward-shift deletion, grown by doubling up to
 * NFNSEL_MAX_CONNS.
 */
#include "nfnsel.h"

#include <stdlib.h>

#include "xmalloc.h"

struct nfnsel_slot {
	uint64_t conn;
	int64_t last_s; /* 0: empty */
};

struct nfnsel {
	struct nfnsel_slot *slot;
	size_t cap; /* a power of two */
	size_t n;
};

static size_t
nfnsel_home(const struct nfnsel *ns, uint64_t conn)
{
	uint64_t h = conn * UINT64_C(0x9e3779b97f4a7c15);

	return (size_t)(h >> 32) & (ns->cap - 1);
}

static struct nfnsel_slot *
nfnsel_find(const struct nfnsel *ns, uint64_t conn)
{
	size_t i = nfnsel_home(ns, conn);

	while (ns->slot[i].last_s != 0) {
		if (ns->slot[i].conn == conn)
			return &ns->slot[i];
		i = (i + 1) & (ns->cap - 1);
	}
	return NULL;
}

/* Removes the slot at i, moving later members of its run back. */
static void
nfnsel_remove_at(struct nfnsel *ns, size_t i)
{
	size_t j = i, k;

	ns->slot[i].last_s = 0;
	ns->n--;
	for (;;) {
		j = (j + 1) & (ns->cap - 1);
		if (ns->slot[j].last_s == 0)
			return;
		k = nfnsel_home(ns, ns->slot[j].conn);
		/* j's member may move to i when its home is not in (i, j] */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		ns->slot[i] = ns->slot[j];
		ns->slot[j].last_s = 0;
		i = j;
	}
}

static void
nfnsel_put(struct nfnsel *ns, uint64_t conn, int64_t last_s)
{
	size_t i = nfnsel_home(ns, conn);

	while (ns->slot[i].last_s != 0)
		i = (i + 1) & (ns->cap - 1);
	ns->slot[i].conn = conn;
	ns->slot[i].last_s = last_s;
	ns->n++;
}

static void
nfnsel_rehash(struct nfnsel *ns, size_t cap, int64_t keep_after_s)
{
	struct nfnsel_slot *old = ns->slot;
	size_t old_cap = ns->cap, i;

	ns->slot = xcalloc(cap, sizeof(*ns->slot));
	ns->cap = cap;
	ns->n = 0;
	for (i = 0; i < old_cap; i++)
		if (old[i].last_s != 0 && old[i].last_s > keep_after_s)
			nfnsel_put(ns, old[i].conn, old[i].last_s);
	free(old);
}

/* The median of the members' times (to forget the oldest half). */
static int64_t
nfnsel_median_s(const struct nfnsel *ns)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN, mid;
	size_t i, below;

	for (i = 0; i < ns->cap; i++) {
		if (ns->slot[i].last_s == 0)
			continue;
		if (ns->slot[i].last_s < lo)
			lo = ns->slot[i].last_s;
		if (ns->slot[i].last_s > hi)
			hi = ns->slot[i].last_s;
	}
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		for (below = 0, i = 0; i < ns->cap; i++)
			if (ns->slot[i].last_s != 0 &&
			    ns->slot[i].last_s <= mid)
				below++;
		if (below >= ns->n / 2)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Makes room for one more: sheds stale members, then grows, then (at
 * the cap) forgets the older half. */
static void
nfnsel_room(struct nfnsel *ns, int64_t now_s)
{
	int64_t cut;

	if ((ns->n + 1) * 4 <= ns->cap * 3)
		return;
	nfnsel_rehash(ns, ns->cap, now_s - NFNSEL_STALE_S);
	if ((ns->n + 1) * 4 <= ns->cap * 3)
		return;
	if (ns->cap * 3 / 4 < NFNSEL_MAX_CONNS) {
		nfnsel_rehash(ns, ns->cap * 2, INT64_MIN);
		return;
	}
	/* keeps those newer than the median: at most half */
	cut = nfnsel_median_s(ns);
	nfnsel_rehash(ns, ns->cap, cut);
}

void
nfnsel_updated(struct nfnsel **nsp, uint64_t conn, int64_t now_s)
{
	struct nfnsel *ns = *nsp;
	struct nfnsel_slot *s;

	if (now_s <= 0)
		now_s = 1; /* 0 marks an empty slot */
	if (ns == NULL) {
		ns = xcalloc(1, sizeof(*ns));
		ns->cap = 64;
		ns->slot = xcalloc(ns->cap, sizeof(*ns->slot));
		*nsp = ns;
	}
	s = nfnsel_find(ns, conn);
	if (s != NULL) {
		s->last_s = now_s;
		return;
	}
	nfnsel_room(ns, now_s);
	nfnsel_put(ns, conn, now_s);
}

int
nfnsel_torn_down(struct nfnsel *ns, uint64_t conn)
{
	struct nfnsel_slot *s;

	if (ns == NULL || ns->n == 0)
		return 0;
	s = nfnsel_find(ns, conn);
	if (s == NULL)
		return 0;
	nfnsel_remove_at(ns, (size_t)(s - ns->slot));
	return 1;
}

size_t
nfnsel_count(const struct nfnsel *ns)
{
	return ns != NULL ? ns->n : 0;
}

void
nfnsel_free(struct nfnsel *ns)
{
	if (ns == NULL)
		return;
	free(ns->slot);
	free(ns);
}
