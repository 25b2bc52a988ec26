/*
 * Unit tests for bisect.c: suspects form a stack, a split keeps the first
 * half and moves the rest and the reason aside, rejoin restores the
 * suspect as it was, clear makes the waiting half the suspect, and a
 * simulated backend that refuses one value of 1000 has it isolated in at
 * most ten requests, wherever it sits.
 */
#include "t.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bisect.h"
#include "sendq.h"
#include "xmalloc.h"

/* n values a.p<from>..., in a new array. */
static struct value *
items_new(size_t from, size_t n)
{
	struct value *it = xcalloc(n, sizeof(*it));
	char path[32];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "a.p%04zu", from + i);
		it[i].path = xstrdup(path);
		it[i].v = (double)(from + i);
	}
	return it;
}

T_TEST(bisect_is_a_stack)
{
	struct bisect *b = bisect_new();
	struct bisect_suspect sus;

	T_EQ_INT(bisect_pop(b, &sus), -1);
	bisect_push(b, 1, items_new(0, 4), 4, "HTTP 400: no");
	bisect_push(b, 2, items_new(10, 2), 2, NULL);
	T_ASSERT(bisect_has_account(b, 1));
	T_ASSERT(bisect_has_account(b, 2));
	T_ASSERT(!bisect_has_account(b, 3));
	T_EQ_INT(bisect_pop(b, &sus), 0);
	T_EQ_INT(sus.account_id, 2);
	T_EQ_INT(sus.n, 2);
	T_EQ_STR(sus.reason, "");
	bisect_suspect_release(&sus);
	T_ASSERT(!bisect_has_account(b, 2));
	T_EQ_INT(bisect_pop(b, &sus), 0);
	T_EQ_INT(sus.account_id, 1);
	T_EQ_STR(sus.reason, "HTTP 400: no");
	T_EQ_STR(sus.items[3].path, "a.p0003");
	bisect_suspect_release(&sus);
	T_EQ_INT(bisect_pop(b, &sus), -1);
	/* What is left at the end is freed with the stack. */
	bisect_push(b, 1, items_new(0, 3), 3, "x");
	bisect_free(b);
	bisect_free(NULL);
}

T_TEST(bisect_split_rejoin_and_clear)
{
	struct bisect *b = bisect_new();
	struct bisect_suspect sus;
	struct bisect_half h;
	size_t i;

	bisect_push(b, 5, items_new(0, 5), 5, "bad");
	T_EQ_INT(bisect_pop(b, &sus), 0);
	bisect_split(&sus, &h);
	T_EQ_INT(sus.n, 2);
	T_EQ_INT(h.n_rest, 3);
	T_ASSERT(sus.reason == NULL);
	T_EQ_STR(h.reason, "bad");
	T_EQ_STR(sus.items[1].path, "a.p0001");
	T_EQ_STR(h.rest[0].path, "a.p0002");
	/* The request failed: the suspect is whole again, in order. */
	bisect_rejoin(b, 5, sus.items, sus.n, &h);
	T_ASSERT(h.rest == NULL && h.n_rest == 0);
	T_EQ_STR(h.reason, "bad"); /* still h's */
	bisect_half_release(&h);
	T_EQ_INT(bisect_pop(b, &sus), 0);
	T_EQ_INT(sus.n, 5);
	T_EQ_STR(sus.reason, "bad");
	for (i = 0; i < 5; i++)
		T_EQ_INT((int)sus.items[i].v, (int)i);
	/* The first half was fine: the second is the suspect now. */
	bisect_split(&sus, &h);
	bisect_clear(b, 5, &h);
	T_ASSERT(h.rest == NULL);
	T_EQ_STR(h.reason, "bad");
	bisect_half_release(&h);
	bisect_suspect_release(&sus);
	T_EQ_INT(bisect_pop(b, &sus), 0);
	T_EQ_INT(sus.n, 3);
	T_EQ_STR(sus.items[0].path, "a.p0002");
	T_EQ_STR(sus.reason, "bad");
	bisect_suspect_release(&sus);
	bisect_free(b);
}

/* Plays the sender against a backend that refuses a.p<bad>: each split's
 * first half is one request.  Returns the requests made; *found is the
 * value isolated. */
static size_t
isolate(size_t n, size_t bad, long *found)
{
	struct bisect *b = bisect_new();
	struct bisect_suspect sus;
	struct bisect_half h;
	size_t requests = 0, i;
	int refused;

	*found = -1;
	bisect_push(b, 1, items_new(0, n), n, "HTTP 400");
	while (bisect_pop(b, &sus) == 0) {
		if (sus.n == 1) {
			*found = (long)sus.items[0].v;
			bisect_suspect_release(&sus);
			continue;
		}
		bisect_split(&sus, &h);
		requests++;
		refused = 0;
		for (i = 0; i < sus.n; i++)
			refused |= (size_t)sus.items[i].v == bad;
		if (refused) {
			/* 400 again: the half is the suspect; the rest is
			 * innocent and goes back to the queue. */
			bisect_push(b, 1, sus.items, sus.n, "HTTP 400");
			sus.items = NULL;
			sus.n = 0;
		} else {
			bisect_clear(b, 1, &h);
		}
		bisect_half_release(&h);
		bisect_suspect_release(&sus);
	}
	bisect_free(b);
	return requests;
}

T_TEST(bisect_isolates_one_value_in_log2_requests)
{
	static const size_t where[] = {0, 1, 499, 500, 637, 998, 999};
	size_t w, requests;
	long found;

	for (w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
		requests = isolate(1000, where[w], &found);
		T_EQ_INT(found, where[w]);
		T_ASSERT(requests <= 10); /* ceil(log2(1000)) */
	}
	requests = isolate(2, 1, &found);
	T_EQ_INT(found, 1);
	T_EQ_INT(requests, 1);
}
