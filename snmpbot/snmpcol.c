/*
 * Columns of fetched values (see snmpcol.h).  Everything grows by
 * doubling and is kept across polls (snmpcol_reset), so a steady device
 * costs no allocation per poll once its tables reached their size.
 */
#include "snmpcol.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void
snmpcol_init(struct snmpcol *c)
{
	memset(c, 0, sizeof(*c));
}

void
snmpcol_release(struct snmpcol *c)
{
	free(c->ents);
	free(c->ids);
	free(c->strs);
	snmpcol_init(c);
}

void
snmpcol_reset(struct snmpcol *c)
{
	c->n = c->n_ids = c->n_strs = 0;
}

void
snmpcol_swap(struct snmpcol *a, struct snmpcol *b)
{
	struct snmpcol t = *a;

	*a = *b;
	*b = t;
}

static void *
snmpcol_grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	*cap = need < 16 ? 16 : need * 2;
	return xreallocarray(p, *cap, size);
}

void
snmpcol_add(struct snmpcol *c, const uint32_t *idx, size_t idx_len,
    const struct snmpcol_val *v)
{
	struct snmpcol_ent *e;
	size_t slen = 0;

	if (idx_len > SNMPCOL_MAX_OID)
		idx_len = SNMPCOL_MAX_OID;
	c->ents = snmpcol_grow(c->ents, &c->cap, c->n + 1, sizeof(*c->ents));
	c->ids = snmpcol_grow(
	    c->ids, &c->cap_ids, c->n_ids + idx_len, sizeof(*c->ids));
	e = &c->ents[c->n++];
	memset(e, 0, sizeof(*e));
	e->idx_off = (uint32_t)c->n_ids;
	e->idx_len = (uint32_t)idx_len;
	if (idx_len > 0)
		memcpy(c->ids + c->n_ids, idx, idx_len * sizeof(*idx));
	c->n_ids += idx_len;
	e->type = v->type;
	e->i = v->i;
	e->u = v->u;
	e->d = v->d;
	e->t_s = v->t_s;
	if ((v->type == SNMPCOL_STRING || v->type == SNMPCOL_TEXT) &&
	    v->str != NULL) {
		slen = v->len > SNMPCOL_MAX_STR ? SNMPCOL_MAX_STR : v->len;
		c->strs = snmpcol_grow(
		    c->strs, &c->cap_strs, c->n_strs + slen + 1, 1);
		memcpy(c->strs + c->n_strs, v->str, slen);
		c->strs[c->n_strs + slen] = '\0';
		e->str_off = (uint32_t)c->n_strs;
		e->str_len = (uint32_t)slen;
		c->n_strs += slen + 1;
	}
}

int
snmpcol_oid_cmp(const uint32_t *a, size_t alen, const uint32_t *b, size_t blen)
{
	size_t i, n = alen < blen ? alen : blen;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return alen < blen ? -1 : alen > blen;
}

const uint32_t *
snmpcol_idx(const struct snmpcol *c, const struct snmpcol_ent *e)
{
	return c->ids + e->idx_off;
}

const char *
snmpcol_str(const struct snmpcol *c, const struct snmpcol_ent *e)
{
	return c->strs != NULL ? c->strs + e->str_off : "";
}

const struct snmpcol_ent *
snmpcol_find(const struct snmpcol *c, const uint32_t *idx, size_t idx_len)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct snmpcol_ent *e = &c->ents[mid];
		int r = snmpcol_oid_cmp(
		    idx, idx_len, snmpcol_idx(c, e), e->idx_len);

		if (r == 0)
			return e;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Python float() of a string: optional white space around a decimal
 * number; no hexadecimal, and only finite values count. */
static int
snmpcol_parse_number(const char *s, size_t len, double *out)
{
	char buf[64];
	size_t a = 0, b = len, i;
	char *end;
	double d;

	while (a < b && isspace((unsigned char)s[a]))
		a++;
	while (b > a && isspace((unsigned char)s[b - 1]))
		b--;
	if (a == b || b - a >= sizeof(buf))
		return -1;
	for (i = a; i < b; i++)
		if (!isdigit((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '-' && s[i] != '+' && s[i] != 'e' && s[i] != 'E')
			return -1;
	memcpy(buf, s + a, b - a);
	buf[b - a] = '\0';
	d = strtod(buf, &end);
	if (*end != '\0' || end == buf || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

int
snmpcol_number(
    const struct snmpcol *c, const struct snmpcol_ent *e, double *out)
{
	switch (e->type) {
	case SNMPCOL_INT:
		*out = (double)e->i;
		return 0;
	case SNMPCOL_UINT:
	case SNMPCOL_COUNTER32:
	case SNMPCOL_COUNTER64:
		*out = (double)e->u;
		return 0;
	case SNMPCOL_FLOAT:
		if (!isfinite(e->d))
			return -1;
		*out = e->d;
		return 0;
	case SNMPCOL_STRING:
		return snmpcol_parse_number(snmpcol_str(c, e), e->str_len, out);
	default:
		return -1;
	}
}

size_t
snmpcol_text(const struct snmpcol *c, const struct snmpcol_ent *e, char *out,
    size_t outlen, const char **ptr)
{
	int n = 0;

	*ptr = out;
	switch (e->type) {
	case SNMPCOL_INT:
		n = snprintf(out, outlen, "%" PRId64, e->i);
		break;
	case SNMPCOL_UINT:
	case SNMPCOL_COUNTER32:
	case SNMPCOL_COUNTER64:
		n = snprintf(out, outlen, "%" PRIu64, e->u);
		break;
	case SNMPCOL_FLOAT:
		n = snprintf(out, outlen, "%.17g", e->d);
		break;
	case SNMPCOL_STRING:
	case SNMPCOL_TEXT:
		*ptr = snmpcol_str(c, e);
		return e->str_len;
	default:
		return 0;
	}
	if (n < 0)
		return 0;
	return (size_t)n < outlen ? (size_t)n : outlen - 1;
}
