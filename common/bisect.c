/*
 * The bisection state: a stack of suspects, newest on top, and the halves
 * that wait in requests.  It knows nothing of HTTP: the sender sends what
 * bisect_split leaves in the suspect and reports how it went through
 * bisect_rejoin (retry), bisect_clear (the half was fine) or bisect_push
 * (the half was refused).  Every value is in exactly one place: a suspect,
 * a half or the caller's request, so nothing is lost or sent twice.
 */
#include "bisect.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct bisect_entry {
	struct bisect_entry *next;
	struct bisect_suspect sus;
};

struct bisect {
	struct bisect_entry *top;
};

struct bisect *
bisect_new(void)
{
	return xcalloc(1, sizeof(struct bisect));
}

void
bisect_free(struct bisect *b)
{
	struct bisect_entry *e;

	if (b == NULL)
		return;
	while ((e = b->top) != NULL) {
		b->top = e->next;
		bisect_suspect_release(&e->sus);
		free(e);
	}
	free(b);
}

void
bisect_push(struct bisect *b, int64_t account_id, struct value *items, size_t n,
    const char *reason)
{
	struct bisect_entry *e;

	e = xcalloc(1, sizeof(*e));
	e->sus.account_id = account_id;
	e->sus.items = items;
	e->sus.n = n;
	e->sus.reason = xstrdup(reason != NULL ? reason : "");
	/* Depth first: finish one bisection before starting another. */
	e->next = b->top;
	b->top = e;
}

int
bisect_pop(struct bisect *b, struct bisect_suspect *out)
{
	struct bisect_entry *e = b->top;

	if (e == NULL)
		return -1;
	b->top = e->next;
	*out = e->sus;
	free(e);
	return 0;
}

int
bisect_has_account(const struct bisect *b, int64_t account_id)
{
	const struct bisect_entry *e;

	for (e = b->top; e != NULL; e = e->next)
		if (e->sus.account_id == account_id)
			return 1;
	return 0;
}

void
bisect_split(struct bisect_suspect *sus, struct bisect_half *h)
{
	size_t half = sus->n / 2;

	h->n_rest = sus->n - half;
	h->rest = xreallocarray(NULL, h->n_rest, sizeof(*h->rest));
	memcpy(h->rest, sus->items + half, h->n_rest * sizeof(*h->rest));
	h->reason = sus->reason;
	sus->reason = NULL;
	sus->items = xreallocarray(sus->items, half, sizeof(*sus->items));
	sus->n = half;
}

void
bisect_rejoin(struct bisect *b, int64_t account_id, struct value *items,
    size_t n, struct bisect_half *h)
{
	struct value *all;

	all = xreallocarray(items, n + h->n_rest, sizeof(*all));
	if (h->n_rest > 0)
		memcpy(all + n, h->rest, h->n_rest * sizeof(*all));
	bisect_push(b, account_id, all, n + h->n_rest, h->reason);
	free(h->rest);
	h->rest = NULL;
	h->n_rest = 0;
}

void
bisect_clear(struct bisect *b, int64_t account_id, struct bisect_half *h)
{
	bisect_push(b, account_id, h->rest, h->n_rest, h->reason);
	h->rest = NULL;
	h->n_rest = 0;
}

void
bisect_half_release(struct bisect_half *h)
{
	sendq_items_free(h->rest, h->n_rest);
	free(h->reason);
	memset(h, 0, sizeof(*h));
}

void
bisect_suspect_release(struct bisect_suspect *sus)
{
	sendq_items_free(sus->items, sus->n);
	free(sus->reason);
	memset(sus, 0, sizeof(*sus));
}
