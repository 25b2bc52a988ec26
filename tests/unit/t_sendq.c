/*
 * Unit tests for sendq.c: queues are FIFO per account through ring wraps
 * and growth, values put back go to the front in order, the buffer counts
 * values taken out until they are done or dropped, the value and byte
 * bounds drop the oldest queued values across accounts, the age bound
 * drops what waited too long, every drop is counted by reason, and
 * finished values are released from the spool.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sendq.h"
#include "spool.h"
#include "t.h"
#include "xmalloc.h"

static struct value
item(const char *path, double v, int64_t enq_ms)
{
	struct value it;

	it.path = xstrdup(path);
	it.v = v;
	it.t = 1700000000.0 + v;
	it.enq_ms = enq_ms;
	it.seg = 0;
	it.rec = 0;
	return it;
}

/* Queues a.p<v> for v in [from, to) into queue qi, queued at enq_ms. */
static void
push_range(struct sendq *q, size_t qi, int from, int to, int64_t enq_ms)
{
	struct value it;
	char path[32];
	int v;

	for (v = from; v < to; v++) {
		snprintf(path, sizeof(path), "a.p%04d", v);
		it = item(path, v, enq_ms);
		sendq_push(q, qi, &it);
	}
}

T_TEST(sendq_fifo_per_account_through_wraps)
{
	struct sendq *q = sendq_new(0, 0, 0);
	struct value it;
	size_t a, b, k;
	int v, next = 0;

	a = sendq_index(q, 7);
	b = sendq_index(q, 9);
	T_EQ_INT(a, 0);
	T_EQ_INT(b, 1);
	T_EQ_INT(sendq_index(q, 7), a);
	T_EQ_INT(sendq_accounts(q), 2);
	T_EQ_INT(sendq_account_id(q, b), 9);
	T_ASSERT(sendq_head(q, a) == NULL);
	/* Pop some, push more: the ring wraps, then grows while wrapped. */
	push_range(q, a, 0, 50, 1);
	for (k = 0; k < 40; k++) {
		sendq_pop(q, a, &it);
		T_EQ_INT((int)it.v, next++);
		free(it.path);
	}
	push_range(q, a, 50, 300, 2);
	push_range(q, b, 0, 3, 3);
	T_EQ_INT(sendq_len(q, a), 260);
	T_EQ_INT(sendq_len(q, b), 3);
	T_EQ_INT(sendq_values(q), 303); /* popped values still count */
	T_EQ_STR(sendq_head(q, a)->path, "a.p0040");
	for (v = 40; v < 300; v++) {
		sendq_pop(q, a, &it);
		T_EQ_INT((int)it.v, v);
		sendq_done(q, &it, 1);
		T_ASSERT(it.path == NULL);
	}
	T_EQ_INT(sendq_len(q, a), 0);
	T_EQ_INT(sendq_values(q), 3 + 40); /* the 40 freed are not done */
	sendq_free(q);
}

T_TEST(sendq_unshift_puts_back_in_order)
{
	struct sendq *q = sendq_new(0, 0, 0);
	struct value taken[5], it;
	size_t qi = sendq_index(q, 1), k;

	push_range(q, qi, 0, 8, 1);
	for (k = 0; k < 5; k++)
		sendq_pop(q, qi, &taken[k]);
	T_EQ_INT(sendq_values(q), 8);
	sendq_unshift(q, qi, taken, 5);
	T_EQ_INT(sendq_len(q, qi), 8);
	for (k = 0; k < 8; k++) {
		sendq_pop(q, qi, &it);
		T_EQ_INT((int)it.v, (int)k);
		sendq_done(q, &it, 1);
	}
	T_EQ_INT(sendq_values(q), 0);
	T_EQ_INT(sendq_bytes(q), 0);
	/* Unshift into an empty ring that has no storage yet. */
	qi = sendq_index(q, 2);
	push_range(q, qi, 0, 1, 1);
	sendq_pop(q, qi, &taken[0]);
	sendq_unshift(q, qi, taken, 1);
	T_EQ_STR(sendq_head(q, qi)->path, "a.p0000");
	sendq_free(q);
}

T_TEST(sendq_counts_and_drop_reasons)
{
	struct sendq *q = sendq_new(0, 0, 0);
	struct value it[4];
	struct sendq_drops d;
	size_t qi = sendq_index(q, 1), bytes1, k;

	push_range(q, qi, 0, 1, 1);
	bytes1 = sendq_bytes(q);
	/* The item, "a.p0000" and its NUL, and malloc's overhead. */
	T_EQ_INT(bytes1, sizeof(struct value) + 8 + 16);
	push_range(q, qi, 1, 4, 1);
	T_EQ_INT(sendq_bytes(q), 4 * bytes1);
	for (k = 0; k < 4; k++)
		sendq_pop(q, qi, &it[k]);
	T_EQ_INT(sendq_values(q), 4);
	sendq_drop(q, &it[0], 2, SENDQ_DROP_REFUSED);
	sendq_drop(q, &it[2], 1, SENDQ_DROP_STALE);
	sendq_done(q, &it[3], 1);
	T_EQ_INT(sendq_values(q), 0);
	T_EQ_INT(sendq_bytes(q), 0);
	sendq_get_drops(q, &d);
	T_EQ_INT(d.total, 3);
	T_EQ_INT(d.refused, 2);
	T_EQ_INT(d.stale, 1);
	T_EQ_INT(d.full + d.old, 0);
	sendq_free(q);
}

T_TEST(sendq_value_bound_drops_the_oldest_across_accounts)
{
	struct sendq *q = sendq_new(10, 0, 0);
	struct value out[3], it;
	struct sendq_drops d;
	size_t a = sendq_index(q, 1), b = sendq_index(q, 2), k;

	push_range(q, a, 0, 4, 100);
	push_range(q, b, 100, 104, 50); /* older */
	for (k = 0; k < 3; k++)
		sendq_pop(q, a, &out[k]); /* in flight: never dropped */
	push_range(q, a, 4, 9, 200);
	T_EQ_INT(sendq_values(q), 13);
	T_EQ_INT(sendq_enforce_limits(q), 3);
	T_EQ_INT(sendq_values(q), 10);
	/* b's values were the oldest queued. */
	T_EQ_INT(sendq_len(q, b), 1);
	T_EQ_STR(sendq_head(q, b)->path, "a.p0103");
	T_EQ_INT(sendq_len(q, a), 6);
	/* Only taken-out values left over the bound: nothing to drop. */
	T_EQ_INT(sendq_enforce_limits(q), 0);
	sendq_get_drops(q, &d);
	T_EQ_INT(d.full, 3);
	T_EQ_INT(d.total, 3);
	sendq_done(q, out, 3);
	while (sendq_len(q, a) > 0) {
		sendq_pop(q, a, &it);
		sendq_done(q, &it, 1);
	}
	sendq_free(q);
}

T_TEST(sendq_byte_bound)
{
	struct sendq *q = sendq_new(0, 1000, 0);
	size_t qi = sendq_index(q, 1);
	size_t cost, kept;

	push_range(q, qi, 0, 1, 1);
	cost = sendq_bytes(q);
	push_range(q, qi, 1, 100, 1);
	kept = 1000 / cost;
	T_EQ_INT(sendq_enforce_limits(q), 100 - kept);
	T_EQ_INT(sendq_values(q), kept);
	T_ASSERT(sendq_bytes(q) <= 1000);
	/* The newest survive. */
	T_EQ_INT((int)sendq_head(q, qi)->v, (int)(100 - kept));
	sendq_free(q);
}

T_TEST(sendq_age_bound)
{
	struct sendq *q = sendq_new(0, 0, 10000);
	struct sendq *never = sendq_new(0, 0, 0);
	struct sendq_drops d;
	size_t a = sendq_index(q, 1), b = sendq_index(q, 2);

	push_range(q, a, 0, 5, 1000);
	push_range(q, a, 5, 8, 5000);
	push_range(q, b, 0, 2, 2000);
	T_EQ_INT(sendq_expire(q, 11000), 0); /* exactly at the bound */
	T_EQ_INT(sendq_expire(q, 12001), 7);
	T_EQ_INT(sendq_len(q, a), 3);
	T_EQ_INT(sendq_len(q, b), 0);
	sendq_get_drops(q, &d);
	T_EQ_INT(d.old, 7);
	T_EQ_INT(sendq_values(q), 3);
	push_range(never, sendq_index(never, 1), 0, 3, 0);
	T_EQ_INT(sendq_expire(never, INT64_MAX / 2), 0);
	sendq_free(never);
	sendq_free(q);
}

static void
no_records(const struct spool_record *r, uint32_t seg, void *arg)
{
	(void)r;
	(void)seg;
	(void)arg;
}

T_TEST(sendq_releases_finished_values_from_the_spool)
{
	char dir[256], err[256];
	struct sendq *q = sendq_new(0, 0, 0);
	struct value it[4];
	struct spool *sp;
	uint32_t s1, s2;
	size_t qi = sendq_index(q, 1), k;

	snprintf(dir, sizeof(dir), "%s/sendq-spool", t_tmpdir());
	sp = spool_open(dir, 1 << 20, no_records, NULL, err, sizeof(err));
	T_ASSERT(sp != NULL);
	sendq_set_spool(q, sp);
	spool_add(sp, 1, "a.p0000", 0, 1);
	spool_add(sp, 1, "a.p0001", 1, 1);
	s1 = spool_commit(sp);
	spool_add(sp, 1, "a.p0002", 2, 1);
	spool_add(sp, 1, "a.p0003", 3, 1);
	s2 = spool_commit(sp);
	T_ASSERT(s1 != 0 && s2 != 0);
	T_EQ_INT(spool_pending(sp), 4);
	for (k = 0; k < 4; k++) {
		it[k] = item("a.p", (double)k, 1);
		it[k].seg = k < 2 ? s1 : s2;
		it[k].rec = (uint32_t)k; /* one segment: records 0 .. 3 */
		sendq_push(q, qi, &it[k]);
	}
	for (k = 0; k < 4; k++)
		sendq_pop(q, qi, &it[k]);
	/* One run across both segments. */
	sendq_done(q, &it[1], 2);
	T_EQ_INT(spool_pending(sp), 2);
	sendq_drop(q, &it[3], 1, SENDQ_DROP_OLD);
	T_EQ_INT(spool_pending(sp), 1);
	/* Values in memory only (segment 0) release nothing. */
	it[0].seg = 0;
	sendq_done(q, &it[0], 1);
	T_EQ_INT(spool_pending(sp), 1);
	sendq_free(q);
	spool_close(sp);
}
