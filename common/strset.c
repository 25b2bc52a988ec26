/*
 * Linear probing at a load factor of at most one half; the table doubles
 * when that is reached.  Strings are never removed one by one.
 */
#include "strset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static uint64_t
strset_hash(const char *str)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *str != '\0'; str++) {
		h ^= (unsigned char)*str;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void
strset_init(struct strset *s)
{
	memset(s, 0, sizeof(*s));
}

void
strset_release(struct strset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	strset_init(s);
}

/* The slot of str, or the free slot where it would go. */
static size_t
strset_slot(char *const *slots, size_t cap, const char *str)
{
	size_t i = (size_t)strset_hash(str) & (cap - 1);

	while (slots[i] != NULL && strcmp(slots[i], str) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

int
strset_has(const struct strset *s, const char *str)
{
	if (s->n == 0)
		return 0;
	return s->slots[strset_slot(s->slots, s->cap, str)] != NULL;
}

static void
strset_grow(struct strset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64, i;
	char **slots = xcalloc(cap, sizeof(*slots));

	for (i = 0; i < s->cap; i++)
		if (s->slots[i] != NULL)
			slots[strset_slot(slots, cap, s->slots[i])] =
			    s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
}

int
strset_add(struct strset *s, const char *str)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap)
		strset_grow(s);
	i = strset_slot(s->slots, s->cap, str);
	if (s->slots[i] != NULL)
		return 0;
	s->slots[i] = xstrdup(str);
	s->n++;
	return 1;
}

void
strset_move(struct strset *dst, struct strset *src)
{
	strset_release(dst);
	*dst = *src;
	strset_init(src);
}
