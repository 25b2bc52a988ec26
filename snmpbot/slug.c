/*
 * python-slugify 4.0.0, step by step, as the official SNMP bot calls it:
 * decode UTF-8; runs of "'" become '-'; Unidecode transliterates to
 * ASCII; HTML named, then decimal, then hexadecimal references are
 * decoded (a reference beyond U+10FFFF makes Python abandon that whole
 * pass); NFKD; "'" dropped; ',' between digits dropped; every run outside
 * [0-9a-zA-Z_-] becomes '-'; repeated '-' collapse; '-' stripped.  After
 * NFKD only ASCII characters matter, so non-ASCII code points are carried
 * as two classes: a decimal digit (\Nd, for the comma rule) or other.
 * The tables come from scripts/gen_slugtab.py.  Scratch buffers grow as
 * needed and are kept between calls (loop thread only).
 */
#include "slug.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slugtab.inc"
#include "xmalloc.h"

#define SLUG_MARK_DIGIT 0x81 /* a non-ASCII decimal digit */
#define SLUG_MARK_OTHER 0x80 /* any other character outside ASCII */
#define SLUG_MAX_CP     0x10ffff

static struct {
	uint32_t *cp; /* code points */
	size_t cap_cp;
	uint32_t *cp2;
	size_t cap_cp2;
	unsigned char *b; /* bytes */
	size_t cap_b;
} sc;

static void
slug_grow32(uint32_t **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	*cap = need + need / 2 + 16;
	*p = xreallocarray(*p, *cap, sizeof(**p));
}

static void
slug_grow8(unsigned char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	*cap = need + need / 2 + 16;
	*p = xreallocarray(*p, *cap, 1);
}

void
slug_release(void)
{
	free(sc.cp);
	free(sc.cp2);
	free(sc.b);
	memset(&sc, 0, sizeof(sc));
}

/* Strict UTF-8 (as Python decodes it); an invalid byte is dropped alone,
 * as surrogateescape followed by Unidecode drops it. */
static size_t
slug_decode(const unsigned char *s, size_t len, uint32_t *out)
{
	size_t i = 0, n = 0;

	while (i < len) {
		unsigned c = s[i];
		uint32_t cp;
		size_t k, need;
		unsigned lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			out[n++] = c;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			i++;
			continue;
		}
		for (k = 1; k <= need; k++) {
			unsigned d;

			if (i + k >= len)
				break;
			d = s[i + k];
			if (d < (k == 1 ? lo : 0x80) ||
			    d > (k == 1 ? hi : 0xbf))
				break;
			cp = (cp << 6) | (d & 0x3f);
		}
		if (k <= need) {
			i++; /* drop the bad lead; continuations drop alone */
			continue;
		}
		out[n++] = cp;
		i += need + 1;
	}
	return n;
}

/* Unidecode's replacement of cp (ASCII, possibly empty). */
static const char *
slug_unidecode(uint32_t cp, size_t *len)
{
	unsigned page, idx, pos;

	*len = 0;
	if (cp > 0xeffff)
		return "";
	page = cp >> 8;
	pos = cp & 0xff;
	idx = slugtab_page_index[page];
	if (idx == 0)
		return "";
	idx--;
	*len = (size_t)(slugtab_page_off[idx][pos + 1] -
	    slugtab_page_off[idx][pos]);
	return slugtab_blob + slugtab_page_base[idx] +
	    slugtab_page_off[idx][pos];
}

static int
slug_entity_cmp(const void *key, const void *elem)
{
	const struct slugtab_entity *e = elem;

	return strcmp(key, e->name);
}

/* Named references, on ASCII input b[0..n): into cp. */
static size_t
slug_entities(const unsigned char *b, size_t n, uint32_t *cp)
{
	size_t i = 0, k = 0;

	while (i < n) {
		if (b[i] == '&') {
			char name[40];
			size_t j = i + 1, m = 0;
			const struct slugtab_entity *e = NULL;

			while (j < n && b[j] != ';' && b[j] != '&' &&
			    m < sizeof(name) - 1)
				name[m++] = (char)b[j++];
			name[m] = '\0';
			if (m > 0 && j < n && b[j] == ';')
				e = bsearch(name, slugtab_entities,
				    sizeof(slugtab_entities) /
				        sizeof(slugtab_entities[0]),
				    sizeof(slugtab_entities[0]),
				    slug_entity_cmp);
			if (e != NULL) {
				cp[k++] = e->cp;
				i = j + 1;
				continue;
			}
		}
		cp[k++] = b[i++];
	}
	return k;
}

/* The value of a decimal digit in Python's \d sense, or -1. */
static int
slug_digit(uint32_t c)
{
	size_t lo = 0, hi;

	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c < 0x80)
		return -1;
	hi = sizeof(slugtab_digits) / sizeof(slugtab_digits[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c < slugtab_digits[mid].first)
			hi = mid;
		else if (c > slugtab_digits[mid].last)
			lo = mid + 1;
		else
			return slugtab_digits[mid].value +
			    (int)(c - slugtab_digits[mid].first);
	}
	return -1;
}

static int
slug_hexval(uint32_t c)
{
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return slug_digit(c);
}

/* Matches "&#" [x] digits ";" at in[i]: sets *end (one past ';') and
 * *val (saturated above U+10FFFF).  0 when there is no match.  Decimal
 * references take ASCII digits only (nothing before this step makes
 * others), hexadecimal ones take any \d, as Python's int() does. */
static int
slug_ref_at(
    const uint32_t *in, size_t n, size_t i, int hex, size_t *end, uint32_t *val)
{
	size_t j = i + 2 + (hex ? 1 : 0);
	uint64_t v = 0;

	if (i + 2 >= n || in[i] != '&' || in[i + 1] != '#')
		return 0;
	if (hex && in[i + 2] != 'x')
		return 0;
	if (j >= n)
		return 0;
	for (; j < n; j++) {
		int d = hex ? slug_hexval(in[j]) : slug_digit(in[j]);

		if (d < 0 || (!hex && in[j] >= 0x80))
			break;
		v = v * (hex ? 16 : 10) + (uint64_t)d;
		if (v > SLUG_MAX_CP)
			v = SLUG_MAX_CP + 1;
	}
	if (j == i + 2 + (hex ? 1 : 0) || j >= n || in[j] != ';')
		return 0;
	*end = j + 1;
	*val = (uint32_t)v;
	return 1;
}

/* One pass of numeric references from in into out.  A reference beyond
 * U+10FFFF makes chr() raise, which slugify swallows: the pass then
 * leaves the text as it was. */
static size_t
slug_refs(const uint32_t *in, size_t n, uint32_t *out, int hex)
{
	size_t i = 0, k = 0, end;
	uint32_t v;

	for (i = 0; i < n; i++)
		if (slug_ref_at(in, n, i, hex, &end, &v) && v > SLUG_MAX_CP) {
			memcpy(out, in, n * sizeof(*in));
			return n;
		}
	i = 0;
	while (i < n) {
		if (slug_ref_at(in, n, i, hex, &end, &v)) {
			out[k++] = v;
			i = end;
		} else {
			out[k++] = in[i++];
		}
	}
	return k;
}

static int
slug_nfkd_cmp(const void *key, const void *elem)
{
	uint32_t c = *(const uint32_t *)key;
	const struct slugtab_nfkd *e = elem;

	return c < e->cp ? -1 : c > e->cp;
}

/* NFKD of one code point as later steps see it, appended to b. */
static size_t
slug_project(uint32_t c, unsigned char *b)
{
	const struct slugtab_nfkd *e;
	size_t k = 0;
	const char *p;

	if (c < 0x80) {
		/* Control characters are "other" in every later step; keep
		 * them clear of the markers. */
		b[0] = c < 0x20 ? SLUG_MARK_OTHER : (unsigned char)c;
		return 1;
	}
	e = bsearch(&c, slugtab_nfkd, sizeof(slugtab_nfkd) / sizeof(*e),
	    sizeof(*e), slug_nfkd_cmp);
	if (e == NULL) {
		b[0] = slug_digit(c) >= 0 ? SLUG_MARK_DIGIT : SLUG_MARK_OTHER;
		return 1;
	}
	for (p = e->proj; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == 1)
			ch = SLUG_MARK_DIGIT;
		else if (ch < 0x20)
			ch = SLUG_MARK_OTHER;
		b[k++] = ch;
	}
	return k;
}

static int
slug_is_digit(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == SLUG_MARK_DIGIT;
}

static int
slug_allowed(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

int
slug_make(const char *in, size_t len, char *out, size_t outlen)
{
	size_t n, i, nb, o = 0;
	int pending_dash = 0;

	if (outlen == 0)
		return -1;
	slug_grow32(&sc.cp, &sc.cap_cp, len + 1);
	n = slug_decode((const unsigned char *)in, len, sc.cp);

	/* Quotes, then Unidecode (at most 18 bytes per code point). */
	slug_grow8(&sc.b, &sc.cap_b, n * 18 + 1);
	for (i = 0, nb = 0; i < n; i++) {
		const char *r;
		size_t rl;

		if (sc.cp[i] == '\'') {
			if (i == 0 || sc.cp[i - 1] != '\'')
				sc.b[nb++] = '-';
			continue;
		}
		r = slug_unidecode(sc.cp[i], &rl);
		memcpy(sc.b + nb, r, rl);
		nb += rl;
	}

	/* References: named, decimal, hexadecimal (each may only shrink). */
	slug_grow32(&sc.cp, &sc.cap_cp, nb + 1);
	slug_grow32(&sc.cp2, &sc.cap_cp2, nb + 1);
	n = slug_entities(sc.b, nb, sc.cp);
	n = slug_refs(sc.cp, n, sc.cp2, 0);
	n = slug_refs(sc.cp2, n, sc.cp, 1);

	/* NFKD (at most 18 characters per code point), quotes dropped. */
	slug_grow8(&sc.b, &sc.cap_b, n * 18 + 1);
	for (i = 0, nb = 0; i < n; i++) {
		unsigned char tmp[32];
		size_t m = slug_project(sc.cp[i], tmp), j;

		for (j = 0; j < m; j++)
			if (tmp[j] != '\'')
				sc.b[nb++] = tmp[j];
	}

	/* Commas between digits go (decided on the text before removal),
	 * then runs of anything else become one '-', stripped at both
	 * ends. */
	for (i = 0; i < nb; i++) {
		unsigned char c = sc.b[i];

		if (c == ',' && i > 0 && i + 1 < nb &&
		    slug_is_digit(sc.b[i - 1]) && slug_is_digit(sc.b[i + 1]))
			continue;
		if (!slug_allowed(c) || c == '-') {
			pending_dash = 1;
			continue;
		}
		if (pending_dash && o > 0) {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = '-';
		}
		pending_dash = 0;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	if (o == 0) {
		if (outlen < 2)
			return -1;
		out[o++] = '-';
	}
	out[o] = '\0';
	return (int)o;
}
