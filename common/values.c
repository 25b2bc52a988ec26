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

int
values_add(struct values *vs, const char *path, double v, double t)
{
	struct value *it;

	if (!isfinite(v) || !values_time_valid(t))
		return -1;
	values_reserve(vs, 1);
	it = &vs->items[vs->len++];
	it->path = xstrdup(path);
	it->v = v;
	/* Round to the microsecond now so that equal stamps compare equal. */
	it->t = round(t * 1e6) / 1e6;
	it->enq_ms = 0;
	it->seg = 0;
	it->rec = 0;
	return 0;
}

void
values_format_time(double t, char *out, size_t outlen)
{
	double sec, x, below;
	long long us;

	/* Integer arithmetic instead of %.6f, whose exact decimal expansion
	 * of a 10-digit number costs more than everything else in a value.
	 * Near a half microsecond the two could round apart: let printf
	 * decide there, so the text is always what %.6f prints. */
	if (t >= 0 && t < 1e11) {
		sec = floor(t);
		x = (t - sec) * 1e6; /* t - sec is exact */
		below = floor(x);
		if (fabs(x - below - 0.5) > 1e-3) {
			us = (long long)below + (x - below > 0.5);
			if (us == 1000000) {
				sec += 1;
				us = 0;
			}
			snprintf(
			    out, outlen, "%lld.%06lld", (long long)sec, us);
			return;
		}
	}
	if (!(fabs(t) < 1e15)) {
		/* %.6f of 1e300 is 308 characters: never cut a time. */
		snprintf(out, outlen, "%.17g", t);
		return;
	}
	snprintf(out, outlen, "%.6f", t);
}

int
values_time_valid(double t)
{
	return t > 0 && t < VALUES_TIME_MAX;
}

void
values_format_number(double v, char *out, size_t outlen)
{
	/* Flags, counts and other whole numbers are most values; as
	 * integers they print several times faster than through %g. */
	if (v >= -1e15 && v <= 1e15 && v == (double)(long long)v &&
	    !(v == 0 && signbit(v))) {
		snprintf(out, outlen, "%lld", (long long)v);
		return;
	}
	snprintf(out, outlen, "%.15g", v);
	if (strtod(out, NULL) != v)
		snprintf(out, outlen, "%.17g", v);
}
