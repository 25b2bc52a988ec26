/*
 * A chained hash table of origins.  An origin's entry lives while it has
 * a request in flight or waiting, so origins of removed jobs go away by
 * themselves.  Waiting slots form a FIFO list per origin.
 */
#include "apihost.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct apihost {
	char *origin;
	size_t running;
	struct apihost_slot *head, *tail; /* waiting */
	size_t waiting;
	struct apihost *chain;
};

struct apihosts {
	size_t cap;
	struct apihost **bucket;
	size_t n_buckets; /* a power of two */
	size_t n;
};

static uint64_t
apihost_hash(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

struct apihosts *
apihosts_new(size_t cap)
{
	struct apihosts *t = xcalloc(1, sizeof(*t));

	t->cap = cap > 0 ? cap : 1;
	t->n_buckets = 64;
	t->bucket = xcalloc(t->n_buckets, sizeof(*t->bucket));
	return t;
}

void
apihosts_free(struct apihosts *t)
{
	struct apihost *h, *next;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n_buckets; i++) {
		for (h = t->bucket[i]; h != NULL; h = next) {
			next = h->chain;
			free(h->origin);
			free(h);
		}
	}
	free(t->bucket);
	free(t);
}

static struct apihost *
apihost_find(const struct apihosts *t, const char *origin)
{
	struct apihost *h;

	h = t->bucket[apihost_hash(origin) & (t->n_buckets - 1)];
	while (h != NULL && strcmp(h->origin, origin) != 0)
		h = h->chain;
	return h;
}

static void
apihost_grow(struct apihosts *t)
{
	struct apihost **b, *h, *next;
	size_t i, n = t->n_buckets * 2, k;

	b = xcalloc(n, sizeof(*b));
	for (i = 0; i < t->n_buckets; i++) {
		for (h = t->bucket[i]; h != NULL; h = next) {
			next = h->chain;
			k = apihost_hash(h->origin) & (n - 1);
			h->chain = b[k];
			b[k] = h;
		}
	}
	free(t->bucket);
	t->bucket = b;
	t->n_buckets = n;
}

static void
apihost_drop(struct apihosts *t, struct apihost *h)
{
	struct apihost **pp;

	pp = &t->bucket[apihost_hash(h->origin) & (t->n_buckets - 1)];
	while (*pp != h)
		pp = &(*pp)->chain;
	*pp = h->chain;
	free(h->origin);
	free(h);
	t->n--;
}

int
apihost_enter(struct apihosts *t, const char *origin, struct apihost_slot *s)
{
	struct apihost *h = apihost_find(t, origin);
	size_t k;

	if (h == NULL) {
		if (t->n >= t->n_buckets)
			apihost_grow(t);
		h = xcalloc(1, sizeof(*h));
		h->origin = xstrdup(origin);
		k = apihost_hash(origin) & (t->n_buckets - 1);
		h->chain = t->bucket[k];
		t->bucket[k] = h;
		t->n++;
	}
	s->host = h;
	s->prev = s->next = NULL;
	if (h->running < t->cap) {
		h->running++;
		s->running = 1;
		return 1;
	}
	s->running = 0;
	s->prev = h->tail;
	if (h->tail != NULL)
		h->tail->next = s;
	else
		h->head = s;
	h->tail = s;
	h->waiting++;
	return 0;
}

struct apihost_slot *
apihost_leave(struct apihosts *t, struct apihost_slot *s)
{
	struct apihost *h = s->host;
	struct apihost_slot *next = NULL;

	if (h == NULL)
		return NULL;
	if (s->running) {
		h->running--;
		if (h->head != NULL) {
			next = h->head;
			h->head = next->next;
			if (h->head != NULL)
				h->head->prev = NULL;
			else
				h->tail = NULL;
			h->waiting--;
			next->prev = next->next = NULL;
			next->running = 1;
			h->running++;
		}
	} else {
		if (s->prev != NULL)
			s->prev->next = s->next;
		else
			h->head = s->next;
		if (s->next != NULL)
			s->next->prev = s->prev;
		else
			h->tail = s->prev;
		h->waiting--;
	}
	s->host = NULL;
	s->running = 0;
	s->prev = s->next = NULL;
	if (h->running == 0 && h->waiting == 0)
		apihost_drop(t, h);
	return next;
}

size_t
apihost_running(const struct apihosts *t, const char *origin)
{
	const struct apihost *h = apihost_find(t, origin);

	return h != NULL ? h->running : 0;
}

size_t
apihost_waiting(const struct apihosts *t, const char *origin)
{
	const struct apihost *h = apihost_find(t, origin);

	return h != NULL ? h->waiting : 0;
}
