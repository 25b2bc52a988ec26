/*
 * A short array: only requests answered 429/503 with Retry-After are in
 * it, and each leaves when its hold expires.
 */
#include "apiwait.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct apiwait_entry {
	char *key;
	int64_t until_ms;
};

struct apiwait {
	struct apiwait_entry *e;
	size_t n;
};

struct apiwait *
apiwait_new(void)
{
	return xcalloc(1, sizeof(struct apiwait));
}

void
apiwait_free(struct apiwait *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n; i++) {
		explicit_bzero(w->e[i].key, strlen(w->e[i].key));
		free(w->e[i].key);
	}
	free(w->e);
	free(w);
}

/* Keys hold URLs, whose queries may carry API keys: wiped. */
static void
apiwait_drop(struct apiwait *w, size_t i)
{
	explicit_bzero(w->e[i].key, strlen(w->e[i].key));
	free(w->e[i].key);
	w->e[i] = w->e[--w->n];
}

static struct apiwait_entry *
apiwait_find(struct apiwait *w, const char *key, int64_t now_ms)
{
	size_t i = 0;

	while (i < w->n) {
		if (w->e[i].until_ms <= now_ms) {
			apiwait_drop(w, i);
			continue;
		}
		if (strcmp(w->e[i].key, key) == 0)
			return &w->e[i];
		i++;
	}
	return NULL;
}

int64_t
apiwait_hold(
    struct apiwait *w, const char *key, int64_t now_ms, int64_t delay_ms)
{
	struct apiwait_entry *x;

	if (delay_ms > APIWAIT_MAX_MS)
		delay_ms = APIWAIT_MAX_MS;
	if (delay_ms <= 0)
		return 0;
	x = apiwait_find(w, key, now_ms);
	if (x == NULL) {
		w->e = xreallocarray(w->e, w->n + 1, sizeof(*w->e));
		x = &w->e[w->n++];
		x->key = xstrdup(key);
	}
	x->until_ms = now_ms + delay_ms;
	return delay_ms;
}

int64_t
apiwait_left(struct apiwait *w, const char *key, int64_t now_ms)
{
	struct apiwait_entry *x;

	if (w->n == 0)
		return 0;
	x = apiwait_find(w, key, now_ms);
	return x != NULL ? x->until_ms - now_ms : 0;
}
