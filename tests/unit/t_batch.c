/*
 * Unit tests for batch.c: the JSON body with and without "t", escaping of
 * paths nobody checked, the value bound, the split before a repeated
 * (path, t) (or path, for POST), the split by body size, dropping a value
 * too big for any request, and dropping values too old for POST.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "buf.h"
#include "log.h"
#include "sendq.h"
#include "t.h"
#include "xmalloc.h"

#define W0 1700000000.0

static struct log_limit big_limit;

static void
push(struct sendq *q, const char *path, double v, double t)
{
	struct value it;

	it.path = xstrdup(path);
	it.v = v;
	it.t = t;
	it.enq_ms = 0;
	it.seg = 0;
	it.rec = 0;
	sendq_push(q, sendq_index(q, 1), &it);
}

static void
spec_init(struct batch_spec *sp, size_t max_values, size_t max_bytes)
{
	memset(sp, 0, sizeof(*sp));
	sp->max_values = max_values;
	sp->max_bytes = max_bytes;
	sp->wall_s = W0;
	sp->post_max_age_ms = 30000;
	sp->big_limit = &big_limit;
}

/* Takes one batch from account 1 into body (reset first); returns how many
 * values it took, and finishes them. */
static size_t
take(struct sendq *q, const struct batch_spec *sp, struct buf *body,
    size_t *n_stale)
{
	struct value *items;
	size_t n;

	buf_reset(body);
	n = batch_take(q, sendq_index(q, 1), sp, body, &items, n_stale);
	if (n == 0 && items != NULL)
		return SIZE_MAX; /* the contract says NULL */
	sendq_done(q, items, n);
	free(items);
	return n;
}

T_TEST(batch_encode_with_and_without_t)
{
	struct value it[2];
	struct buf b;

	it[0].path = "a\"b\\c\001d";
	it[0].v = -2.5;
	it[0].t = W0 + 0.5;
	it[1].path = "x.y";
	it[1].v = 3;
	it[1].t = W0;
	buf_init_text(&b);
	batch_encode(it, 2, 1, &b);
	T_EQ_MEM(b.data,
	    "[{\"p\":\"a\\\"b\\\\c\\u0001d\",\"v\":-2.5,\"t\":1700000000."
	    "500000},{\"p\":\"x.y\",\"v\":3,\"t\":1700000000.000000}]",
	    b.len);
	buf_reset(&b);
	batch_encode(it + 1, 1, 0, &b);
	T_EQ_INT(b.len, strlen("[{\"p\":\"x.y\",\"v\":3}]"));
	T_EQ_MEM(b.data, "[{\"p\":\"x.y\",\"v\":3}]", b.len);
	buf_reset(&b);
	batch_encode(it, 0, 1, &b);
	T_EQ_MEM(b.data, "[]", 2);
	buf_release(&b);
	/* A text buffer has no ceiling: a body of 100,000 values is built
	 * whole (a buf_init ceiling would be fatal: t_buf.c). */
	{
		struct value *many = calloc(100000, sizeof(*many));
		size_t k;

		T_ASSERT(many != NULL);
		for (k = 0; k < 100000; k++)
			many[k] = it[1];
		buf_init_text(&b);
		batch_encode(many, 100000, 1, &b);
		/* 39 bytes a value, a comma between, brackets around. */
		T_EQ_INT(b.len, 100000 * 40 - 1 + 2);
		buf_release(&b);
		free(many);
	}
}

T_TEST(batch_takes_up_to_max_values_oldest_first)
{
	struct sendq *q = sendq_new(0, 0, 0);
	struct batch_spec sp;
	struct buf body;
	char path[32];
	size_t i, stale;

	for (i = 0; i < 2500; i++) {
		snprintf(path, sizeof(path), "a.p%05zu", i);
		push(q, path, (double)i, W0);
	}
	spec_init(&sp, 1000, 1000000);
	buf_init_text(&body);
	T_EQ_INT(take(q, &sp, &body, &stale), 1000);
	T_EQ_INT(stale, 0);
	T_ASSERT(body.len > 2 && body.data[0] == '[');
	T_EQ_INT(body.data[body.len - 1], ']');
	T_ASSERT(strstr(body.data, "\"a.p00000\"") != NULL);
	T_ASSERT(strstr(body.data, "\"a.p00999\"") != NULL);
	T_ASSERT(strstr(body.data, "\"a.p01000\"") == NULL);
	T_EQ_INT(take(q, &sp, &body, &stale), 1000);
	T_EQ_INT(take(q, &sp, &body, &stale), 500);
	T_EQ_INT(take(q, &sp, &body, &stale), 0);
	T_EQ_MEM(body.data, "[]", 2);
	T_EQ_INT(sendq_values(q), 0);
	buf_release(&body);
	sendq_free(q);
}

T_TEST(batch_splits_before_a_repeat)
{
	struct sendq *q = sendq_new(0, 0, 0);
	struct batch_spec sp;
	struct buf body;
	size_t stale;

	push(q, "a.x", 1, W0);
	push(q, "a.y", 1, W0);
	push(q, "a.x", 2, W0 - 1); /* same path, another t: fine for PUT */
	push(q, "a.x", 3, W0);     /* same (p, t): the next request */
	push(q, "a.z", 4, W0);
	spec_init(&sp, 1000, 1000000);
	buf_init_text(&body);
	T_EQ_INT(take(q, &sp, &body, &stale), 3);
	T_ASSERT(strstr(body.data, "\"v\":3") == NULL);
	T_EQ_INT(take(q, &sp, &body, &stale), 2);
	T_ASSERT(strstr(body.data, "\"v\":3") != NULL);

	/* POST: one value per path, and no "t". */
	push(q, "a.x", 1, W0);
	push(q, "a.y", 1, W0);
	push(q, "a.x", 2, W0 - 1);
	sp.post = 1;
	T_EQ_INT(take(q, &sp, &body, &stale), 2);
	T_ASSERT(strstr(body.data, "\"t\"") == NULL);
	T_EQ_INT(take(q, &sp, &body, &stale), 1);
	T_ASSERT(strstr(body.data, "\"v\":2") != NULL);
	buf_release(&body);
	sendq_free(q);
}

T_TEST(batch_splits_by_size_and_drops_what_never_fits)
{
	struct sendq *q = sendq_new(0, 0, 0);
	struct sendq_drops d;
	struct batch_spec sp;
	struct buf body;
	char big[200];
	size_t stale, one;

	/* {"p":"a.p1","v":1,"t":1700000000.000000} is 40 bytes. */
	push(q, "a.p1", 1, W0);
	spec_init(&sp, 1000, 1000000);
	buf_init_text(&body);
	T_EQ_INT(take(q, &sp, &body, &stale), 1);
	one = body.len - 2;
	T_EQ_INT(one, 40);
	/* Room for exactly three: "[" + 3 * 40 + 2 commas + "]". */
	sp.max_bytes = 1 + 3 * one + 2 + 1;
	push(q, "a.p1", 1, W0);
	push(q, "a.p2", 2, W0);
	push(q, "a.p3", 3, W0);
	push(q, "a.p4", 4, W0);
	T_EQ_INT(take(q, &sp, &body, &stale), 3);
	T_EQ_INT(body.len, sp.max_bytes);
	T_EQ_INT(take(q, &sp, &body, &stale), 1);
	T_ASSERT(strstr(body.data, "a.p4") != NULL);

	/* A value bigger than any request is dropped, and what follows is
	 * taken, repeats still split. */
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	push(q, big, 9, W0);
	push(q, "a.p5", 5, W0);
	push(q, "a.p5", 6, W0);
	T_EQ_INT(take(q, &sp, &body, &stale), 1);
	T_ASSERT(strstr(body.data, "\"v\":5") != NULL);
	sendq_get_drops(q, &d);
	T_EQ_INT(d.refused, 1);
	T_EQ_INT(take(q, &sp, &body, &stale), 1);
	T_ASSERT(strstr(body.data, "\"v\":6") != NULL);
	/* Only oversized values: nothing to send, all dropped. */
	push(q, big, 9, W0);
	push(q, big, 10, W0);
	T_EQ_INT(take(q, &sp, &body, &stale), 0);
	sendq_get_drops(q, &d);
	T_EQ_INT(d.refused, 3);
	T_EQ_INT(sendq_values(q), 0);
	buf_release(&body);
	sendq_free(q);
}

T_TEST(batch_post_drops_values_too_old_for_it)
{
	struct sendq *q = sendq_new(0, 0, 0);
	struct sendq_drops d;
	struct batch_spec sp;
	struct buf body;
	size_t stale;

	push(q, "a.old1", 1, W0 - 100);
	push(q, "a.new", 2, W0 - 30); /* exactly at the bound: kept */
	push(q, "a.old2", 3, W0 - 31);
	push(q, "a.now", 4, W0);
	spec_init(&sp, 1000, 1000000);
	sp.post = 1;
	buf_init_text(&body);
	T_EQ_INT(take(q, &sp, &body, &stale), 2);
	T_EQ_INT(stale, 2);
	T_ASSERT(strstr(body.data, "a.new") != NULL);
	T_ASSERT(strstr(body.data, "a.now") != NULL);
	sendq_get_drops(q, &d);
	T_EQ_INT(d.stale, 2);
	T_EQ_INT(d.total, 2);
	/* PUT keeps old values: they carry their time. */
	push(q, "a.old1", 1, W0 - 100);
	sp.post = 0;
	T_EQ_INT(take(q, &sp, &body, &stale), 1);
	T_EQ_INT(stale, 0);
	buf_release(&body);
	sendq_free(q);
}
