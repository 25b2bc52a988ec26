/*
 * Unit tests for the NSEL connection set: membership against a plain
 * array under random updates and teardowns (the table's deletion moves
 * members), staleness, and the cap.
 */
#include <stdlib.h>
#include <string.h>

#include "../../../netflowbot/nfnsel.h"
#include "../t.h"

T_TEST(nfnsel_matches_a_plain_set)
{
	enum { KEYS = 3000, STEPS = 200000 };
	static unsigned char in[KEYS];
	struct nfnsel *ns = NULL;
	unsigned seed = 12345;
	size_t n = 0, k;
	int step;

	memset(in, 0, sizeof(in));
	T_EQ_INT(nfnsel_torn_down(ns, 5), 0); /* no set yet */
	for (step = 0; step < STEPS; step++) {
		seed = seed * 1103515245u + 12345u;
		k = (seed >> 8) % KEYS;
		if ((seed >> 4) & 1) {
			nfnsel_updated(&ns, (uint64_t)k * 7919, 1000);
			if (!in[k])
				n++;
			in[k] = 1;
		} else {
			T_EQ_INT(
			    nfnsel_torn_down(ns, (uint64_t)k * 7919), in[k]);
			if (in[k])
				n--;
			in[k] = 0;
		}
		if (nfnsel_count(ns) != n)
			break;
	}
	T_EQ_INT(nfnsel_count(ns), n);
	for (k = 0; k < KEYS; k++)
		T_EQ_INT(nfnsel_torn_down(ns, (uint64_t)k * 7919), in[k]);
	T_EQ_INT(nfnsel_count(ns), 0);
	nfnsel_free(ns);
}

T_TEST(nfnsel_forgets_stale_and_stays_bounded)
{
	struct nfnsel *ns = NULL;
	uint64_t k;

	/* a connection without updates for NFNSEL_STALE_S is forgotten when
	 * room is needed */
	nfnsel_updated(&ns, 1, 100);
	for (k = 2; k < 200; k++)
		nfnsel_updated(&ns, k, 100 + NFNSEL_STALE_S + 1);
	T_EQ_INT(nfnsel_torn_down(ns, 1), 0);
	T_EQ_INT(nfnsel_torn_down(ns, 150), 1);
	/* far more live connections than the cap: the older ones go, the
	 * newest stay, and the count stays bounded */
	for (k = 1000; k < 1000 + 3 * (uint64_t)NFNSEL_MAX_CONNS; k++)
		nfnsel_updated(&ns, k, 1000000 + (int64_t)(k / 1000));
	T_ASSERT(nfnsel_count(ns) <= 2 * (size_t)NFNSEL_MAX_CONNS);
	T_ASSERT(nfnsel_count(ns) >= (size_t)NFNSEL_MAX_CONNS / 2);
	T_EQ_INT(nfnsel_torn_down(ns, 999 + 3 * (uint64_t)NFNSEL_MAX_CONNS), 1);
	T_EQ_INT(nfnsel_torn_down(ns, 1000), 0);
	nfnsel_free(ns);
}
