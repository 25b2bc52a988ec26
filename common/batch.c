/*
 * Building value requests.  The backend rejects a whole PUT that repeats
 * a (path, t), and a POST that repeats a path, so a batch stops at the
 * first value that would repeat one it holds: a small open-addressing set
 * over the batch tells.  Values are encoded one at a time so that the byte
 * bound is checked before a value joins the body; a value that cannot fit
 * even alone is dropped, never sent.  Paths are validated upstream, but a
 * bad one must still give valid JSON so that the backend can say what is
 * wrong with it.
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "values.h"
#include "xmalloc.h"

#define BATCH_LOG_MS 60000

/* Appends one value as JSON. */
static void
batch_encode_item(struct buf *out, const struct value *it, int with_t)
{
	char num[40], when[40];
	const char *p;

	buf_add_str(out, "{\"p\":\"");
	for (p = it->path; *p != '\0';) {
		unsigned char ch;
		size_t n = 0;

		/* Copy the run of plain characters in one go. */
		while (p[n] != '\0' && p[n] != '"' && p[n] != '\\' &&
		    (unsigned char)p[n] >= 0x20)
			n++;
		buf_add(out, p, n);
		p += n;
		if (*p == '\0')
			break;
		ch = (unsigned char)*p++;
		if (ch == '"' || ch == '\\')
			buf_addf(out, "\\%c", ch);
		else
			buf_addf(out, "\\u%04x", ch);
	}
	values_format_number(it->v, num, sizeof(num));
	if (with_t) {
		values_format_time(it->t, when, sizeof(when));
		buf_addf(out, "\",\"v\":%s,\"t\":%s}", num, when);
	} else {
		buf_addf(out, "\",\"v\":%s}", num);
	}
}

void
batch_encode(const struct value *items, size_t n, int with_t, struct buf *out)
{
	size_t i;

	buf_add_str(out, "[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_add_str(out, ",");
		batch_encode_item(out, &items[i], with_t);
	}
	buf_add_str(out, "]");
}

/* The set of (path, t), or of paths, in the batch being built. */
struct batch_dupset {
	uint32_t *slot; /* index + 1 into items, 0 = empty */
	size_t mask;
};

static uint64_t
batch_hash(const struct value *it, int with_t)
{
	uint64_t h = 1469598103934665603ULL, tb;
	const char *p;

	/* FNV-1a over the path, then t's bits mixed in. */
	for (p = it->path; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	if (with_t) {
		memcpy(&tb, &it->t, sizeof(tb));
		h ^= tb + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	}
	return h;
}

/* Returns 1 if it duplicates an item already in the set, else adds it as
 * items[idx]. */
static int
batch_dupset_check(struct batch_dupset *d, const struct value *items,
    size_t idx, const struct value *it, int with_t)
{
	size_t i = (size_t)batch_hash(it, with_t) & d->mask;

	while (d->slot[i] != 0) {
		const struct value *o = &items[d->slot[i] - 1];

		if (strcmp(o->path, it->path) == 0 &&
		    (!with_t || o->t == it->t))
			return 1;
		i = (i + 1) & d->mask;
	}
	d->slot[i] = (uint32_t)idx + 1;
	return 0;
}

size_t
batch_take(struct sendq *q, size_t i, const struct batch_spec *spec,
    struct buf *body, struct value **items_out, size_t *n_stale)
{
	struct batch_dupset dup;
	struct value it, *items;
	struct buf item;
	size_t cap = spec->max_values, n = 0, tbl = 16;
	int with_t = !spec->post;
	char shown[101];

	*n_stale = 0;
	/* At most half full, so that probing stays short. */
	while (tbl < cap * 2)
		tbl *= 2;
	dup.slot = xcalloc(tbl, sizeof(*dup.slot));
	dup.mask = tbl - 1;
	items = xreallocarray(NULL, cap < 64 ? cap : 64, sizeof(*items));
	buf_init_text(&item);
	buf_add_str(body, "[");
	while (n < cap && sendq_len(q, i) > 0) {
		const struct value *head = sendq_head(q, i);

		if (spec->post &&
		    spec->wall_s - head->t >
		        (double)spec->post_max_age_ms / 1000.0) {
			sendq_pop(q, i, &it);
			sendq_drop(q, &it, 1, SENDQ_DROP_STALE);
			(*n_stale)++;
			continue;
		}
		if (batch_dupset_check(&dup, items, n, head, with_t))
			break; /* the next request takes it */
		buf_reset(&item);
		batch_encode_item(&item, head, with_t);
		if (body->len + item.len + 2 > spec->max_bytes) {
			if (n > 0)
				break;
			sendq_pop(q, i, &it);
			/* Redacted before it is cut to 100 characters. */
			(void)log_sanitize(
			    it.path, strlen(it.path), shown, sizeof(shown));
			log_warnx_limited(spec->big_limit, BATCH_LOG_MS,
			    "values: %s: one value is larger than a "
			    "request may be (%zu bytes); dropped",
			    shown, spec->max_bytes);
			sendq_drop(q, &it, 1, SENDQ_DROP_REFUSED);
			/* The set pointed at it: start over. */
			memset(dup.slot, 0, tbl * sizeof(*dup.slot));
			continue;
		}
		if (n > 0)
			buf_add_str(body, ",");
		buf_add(body, item.data, item.len);
		/* Grow at 64, 128, 256...: the array doubles when full. */
		if ((n & (n - 1)) == 0 && n >= 64)
			items = xreallocarray(items, n * 2, sizeof(*items));
		sendq_pop(q, i, &items[n++]);
	}
	buf_add_str(body, "]");
	free(dup.slot);
	buf_release(&item);
	if (n == 0) {
		free(items);
		items = NULL;
	}
	*items_out = items;
	return n;
}
