/*
 * Delta and rate: this poll's items are sorted by key and merged with the
 * previous poll's sorted list, which is then replaced by them.  Keys that
 * disappear are forgotten, so the state never outgrows one answer.
 */
#include "apimode.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

int
apimode_parse(const char *s, enum apimode *m)
{
	if (strcmp(s, "value") == 0)
		*m = APIMODE_VALUE;
	else if (strcmp(s, "delta") == 0)
		*m = APIMODE_DELTA;
	else if (strcmp(s, "rate") == 0)
		*m = APIMODE_RATE;
	else
		return -1;
	return 0;
}

const char *
apimode_name(enum apimode m)
{
	switch (m) {
	case APIMODE_DELTA:
		return "delta";
	case APIMODE_RATE:
		return "rate";
	default:
		return "value";
	}
}

static int
apimode_item_cmp(const void *a, const void *b)
{
	const struct apifilter_item *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	/* Equal keys keep their order: items sit in one array, so their
	 * addresses say which came first. */
	return x < y ? -1 : x > y;
}

static const struct apimode_prev *
apimode_find(const struct apimode_state *st, const char *key)
{
	size_t lo = 0, hi = st->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(st->prev[mid].key, key);

		if (c == 0)
			return &st->prev[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t
apimode_apply(struct apimode_state *st, enum apimode m,
    struct apifilter_item *items, size_t n, double t, apimode_emit_fn *emit,
    void *arg)
{
	struct apimode_prev *next;
	size_t i, k = 0, emitted = 0;
	double dt = t - st->t;

	if (n > 1)
		qsort(items, n, sizeof(*items), apimode_item_cmp);
	if (m == APIMODE_VALUE) {
		for (i = 0; i < n; i++) {
			if (i + 1 < n &&
			    strcmp(items[i].key, items[i + 1].key) == 0)
				continue;
			emit(arg, items[i].key, items[i].v);
			emitted++;
		}
		return emitted;
	}
	next = xreallocarray(NULL, n ? n : 1, sizeof(*next));
	for (i = 0; i < n; i++) {
		const struct apimode_prev *p;
		double d;

		if (i + 1 < n && strcmp(items[i].key, items[i + 1].key) == 0)
			continue;
		p = apimode_find(st, items[i].key);
		if (p != NULL && items[i].v >= p->v &&
		    (m == APIMODE_DELTA || dt > 0)) {
			d = items[i].v - p->v;
			emit(arg, items[i].key, m == APIMODE_RATE ? d / dt : d);
			emitted++;
		}
		next[k].key = xstrdup(items[i].key);
		next[k].v = items[i].v;
		k++;
	}
	apimode_state_release(st);
	st->prev = next;
	st->n = k;
	st->t = t;
	return emitted;
}

void
apimode_state_release(struct apimode_state *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		free(st->prev[i].key);
	free(st->prev);
	st->prev = NULL;
	st->n = 0;
}
