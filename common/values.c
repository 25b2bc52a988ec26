/*
 * Value batches.  Encoding writes each number with enough digits to read
 * back the same double, and "t" with microseconds, the resolution the
 * backend stores; equal (path, t) pairs collapse before sending because
 * one duplicate makes the backend refuse the whole request.
 */
#include "values.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

void
values_init(struct values *vs, int64_t account_id)
{
	vs->account_id = account_id;
	vs->items = NULL;
	vs->len = 0;
	vs->cap = 0;
}

void
values_release(struct values *vs)
{
	size_t i;

	for (i = 0; i < vs->len; i++)
		free(vs->items[i].path);
	free(vs->items);
	vs->items = NULL;
	vs->len = 0;
	vs->cap = 0;
}

static void
values_reserve(struct values *vs, size_t n)
{
	if (vs->len + n <= vs->cap)
		return;
	while (vs->cap < vs->len + n)
		vs->cap = vs->cap ? vs->cap * 2 : 16;
	vs->items = xreallocarray(vs->items, vs->cap, sizeof(*vs->items));
}

void
values_add(struct values *vs, const char *path, double v, double t)
{
	values_reserve(vs, 1);
	vs->items[vs->len].path = xstrdup(path);
	vs->items[vs->len].v = v;
	/* Round to the microsecond now so that equal stamps compare equal. */
	vs->items[vs->len].t = round(t * 1e6) / 1e6;
	vs->len++;
}

void
values_move(struct values *dst, struct values *src)
{
	if (src->len == 0) {
		free(src->items); /* nothing to move; dst stays as it is */
	} else if (dst->len == 0 && dst->items == NULL) {
		dst->items = src->items;
		dst->len = src->len;
		dst->cap = src->cap;
	} else {
		values_reserve(dst, src->len);
		memcpy(dst->items + dst->len, src->items,
		    src->len * sizeof(*src->items));
		dst->len += src->len;
		free(src->items);
	}
	src->items = NULL;
	src->len = 0;
	src->cap = 0;
}

void
values_shift(struct values *vs, size_t n)
{
	size_t i;

	if (n > vs->len)
		n = vs->len;
	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		free(vs->items[i].path);
	memmove(vs->items, vs->items + n, (vs->len - n) * sizeof(*vs->items));
	vs->len -= n;
}

static int
values_cmp(const struct value *x, const struct value *y)
{
	int c = strcmp(x->path, y->path);

	if (c != 0)
		return c;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return 0;
}

/* A stable merge sort, so that of two equal (path, t) the one added last
 * stays last and wins below. */
static void
values_sort(struct value *a, struct value *tmp, size_t n)
{
	size_t mid = n / 2, i = 0, j = mid, o = 0;

	if (n < 2)
		return;
	values_sort(a, tmp, mid);
	values_sort(a + mid, tmp, n - mid);
	while (i < mid && j < n) {
		if (values_cmp(&a[j], &a[i]) < 0)
			tmp[o++] = a[j++];
		else
			tmp[o++] = a[i++];
	}
	while (i < mid)
		tmp[o++] = a[i++];
	while (j < n)
		tmp[o++] = a[j++];
	memcpy(a, tmp, n * sizeof(*a));
}

void
values_dedup(struct values *vs)
{
	struct value *tmp;
	size_t i, o = 0;

	if (vs->len < 2)
		return;
	tmp = xreallocarray(NULL, vs->len, sizeof(*tmp));
	values_sort(vs->items, tmp, vs->len);
	free(tmp);
	for (i = 0; i < vs->len; i++) {
		if (o > 0 &&
		    values_cmp(&vs->items[o - 1], &vs->items[i]) == 0) {
			free(vs->items[o - 1].path);
			vs->items[o - 1] = vs->items[i];
			continue;
		}
		vs->items[o++] = vs->items[i];
	}
	vs->len = o;
}

size_t
values_cost(const struct value *v)
{
	return strlen(v->path) + 64;
}

void
values_format_number(double v, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.15g", v);
	if (strtod(out, NULL) != v)
		snprintf(out, outlen, "%.17g", v);
}

/* Writes one element; -1 if the number cannot be expressed in JSON. */
static int
values_format(const struct value *v, int with_t, char *out, size_t outlen)
{
	char num[40];
	int n;

	if (!isfinite(v->v))
		return -1;
	values_format_number(v->v, num, sizeof(num));
	if (with_t)
		n = snprintf(out, outlen, "{\"p\":\"%s\",\"v\":%s,\"t\":%.6f}",
		    v->path, num, v->t);
	else
		n = snprintf(
		    out, outlen, "{\"p\":\"%s\",\"v\":%s}", v->path, num);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return n;
}

size_t
values_encode(const struct values *vs, size_t start, size_t n, size_t max_bytes,
    int with_t, struct buf *out)
{
	char item[512];
	size_t i, done = 0, used = 2;
	int len;

	if (buf_append_str(out, "[") == -1)
		return 0;
	for (i = start; i < vs->len && done < n; i++) {
		len = values_format(&vs->items[i], with_t, item, sizeof(item));
		if (len < 0)
			continue; /* validated before; never sent */
		if (used + (size_t)len + 1 > max_bytes)
			break;
		if ((done > 0 && buf_append_str(out, ",") == -1) ||
		    buf_append(out, item, (size_t)len) == -1)
			break;
		used += (size_t)len + 1;
		done++;
	}
	if (buf_append_str(out, "]") == -1)
		return 0;
	return i - start;
}
