/*
 * A chained hash of exporters by address.
 */
#include "nfexp.h"

#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "nfflow.h"
#include "xmalloc.h"

#define NFEXP_BUCKETS 512

struct nfexp_table {
	struct nfexp *b[NFEXP_BUCKETS];
	size_t n, max;
	uint64_t refused;
};

struct nfexp_table *
nfexp_table_new(size_t max)
{
	struct nfexp_table *t = xcalloc(1, sizeof(*t));

	t->max = max;
	return t;
}

void
nfexp_table_free(struct nfexp_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < NFEXP_BUCKETS; i++) {
		while (t->b[i] != NULL) {
			struct nfexp *e = t->b[i];

			t->b[i] = e->next;
			free(e);
		}
	}
	free(t);
}

int
nfexp_addr_text(const uint8_t addr[16], char *out, size_t outlen)
{
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (memcmp(addr, mapped, 12) == 0) {
		if (inet_ntop(AF_INET, addr + 12, out, (socklen_t)outlen) ==
		    NULL)
			out[0] = '\0';
		return 1;
	}
	if (inet_ntop(AF_INET6, addr, out, (socklen_t)outlen) == NULL)
		out[0] = '\0';
	return 0;
}

int
nfexp_addr_parse(const char *text, uint8_t out[16])
{
	uint8_t v4[4];

	if (inet_pton(AF_INET, text, v4) == 1) {
		nfflow_map4(v4, out);
		return 0;
	}
	if (inet_pton(AF_INET6, text, out) == 1)
		return 0;
	return -1;
}

struct nfexp *
nfexp_get(struct nfexp_table *t, const uint8_t addr[16])
{
	uint32_t h = 2166136261u;
	struct nfexp *e;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	h %= NFEXP_BUCKETS;
	for (e = t->b[h]; e != NULL; e = e->next)
		if (memcmp(e->addr, addr, 16) == 0)
			return e;
	if (t->n >= t->max) {
		t->refused++;
		return NULL;
	}
	e = xcalloc(1, sizeof(*e));
	memcpy(e->addr, addr, 16);
	e->is_v4 = nfexp_addr_text(addr, e->text, sizeof(e->text));
	e->next = t->b[h];
	t->b[h] = e;
	t->n++;
	return e;
}

uint64_t
nfexp_refused(const struct nfexp_table *t)
{
	return t->refused;
}

size_t
nfexp_count(const struct nfexp_table *t)
{
	return t->n;
}

void
nfexp_each(
    struct nfexp_table *t, void (*fn)(struct nfexp *e, void *arg), void *arg)
{
	size_t i;
	struct nfexp *e;

	for (i = 0; i < NFEXP_BUCKETS; i++)
		for (e = t->b[i]; e != NULL; e = e->next)
			fn(e, arg);
}

int
nfexp_allow(struct nfexp *e, uint64_t rate, int64_t now_ms)
{
	if (rate == 0)
		return 1;
	if (e->refill_ms == 0) {
		e->tokens = (double)rate;
		e->refill_ms = now_ms;
	} else if (now_ms > e->refill_ms) {
		e->tokens +=
		    (double)(now_ms - e->refill_ms) * (double)rate / 1000.0;
		if (e->tokens > (double)rate)
			e->tokens = (double)rate;
		e->refill_ms = now_ms;
	}
	if (e->tokens >= 1.0) {
		e->tokens -= 1.0;
		return 1;
	}
	e->limited++;
	return 0;
}
