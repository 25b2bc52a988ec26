/*
 * Value batches.  Stamps are rounded to the microsecond, the resolution
 * the backend stores, so equal stamps compare equal; numbers are printed
 * with the fewest digits that read back as the same double.
 */
#include "values.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
values_format_number(double v, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.15g", v);
	if (strtod(out, NULL) != v)
		snprintf(out, outlen, "%.17g", v);
}
