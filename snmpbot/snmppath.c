/*
 * Output path templates: compiled once per sensor into parts (literal
 * text, the index, a value), expanded per row into a caller's buffer.
 * Literal text is kept as written: the backend checks the whole path, and
 * the caller drops a row whose path it would refuse.
 */
#include "snmppath.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slug.h"
#include "xmalloc.h"

#define SNMPPATH_MAX_TMPL  400
#define SNMPPATH_MAX_PARTS 64

enum snmppath_kind {
	SNMPPATH_LIT,
	SNMPPATH_INDEX,
	SNMPPATH_VAL,
};

struct snmppath_part {
	enum snmppath_kind kind;
	int n;           /* SNMPPATH_VAL: 1-based */
	size_t off, len; /* SNMPPATH_LIT: in text */
};

struct snmppath {
	char *text;
	size_t n_parts;
	struct snmppath_part parts[SNMPPATH_MAX_PARTS];
	unsigned char uses[256];
};

void
snmppath_free(struct snmppath *p)
{
	if (p == NULL)
		return;
	free(p->text);
	free(p);
}

int
snmppath_uses(const struct snmppath *p, int n)
{
	if (p == NULL || n < 1 || n > 255)
		return 0;
	return p->uses[n - 1];
}

static int
snmppath_add(
    struct snmppath *p, enum snmppath_kind kind, int n, size_t off, size_t len)
{
	struct snmppath_part *pt;

	if (p->n_parts == SNMPPATH_MAX_PARTS)
		return -1;
	pt = &p->parts[p->n_parts++];
	pt->kind = kind;
	pt->n = n;
	pt->off = off;
	pt->len = len;
	return 0;
}

struct snmppath *
snmppath_compile(const char *tmpl, int n_oids, char *err, size_t errlen)
{
	struct snmppath *p;
	size_t i = 0, lit = 0, len;

	if (tmpl == NULL || tmpl[0] == '\0') {
		snprintf(err, errlen, "output_path is empty");
		return NULL;
	}
	len = strlen(tmpl);
	if (len > SNMPPATH_MAX_TMPL) {
		snprintf(
		    err, errlen, "output_path is too long (%zu bytes)", len);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->text = xstrdup(tmpl);
	while (i < len) {
		const char *s = tmpl + i;
		int rc = 0;

		if (*s != '{') {
			i++;
			continue;
		}
		if (i > lit)
			rc = snmppath_add(p, SNMPPATH_LIT, 0, lit, i - lit);
		if (strncmp(s, "{$index}", 8) == 0) {
			rc |= snmppath_add(p, SNMPPATH_INDEX, 0, 0, 0);
			i += 8;
		} else if (s[1] == '$' && s[2] >= '1' && s[2] <= '9') {
			char *end;
			long n = strtol(s + 2, &end, 10);

			if (*end != '}' || n > n_oids) {
				snprintf(err, errlen,
				    "output_path \"%.80s\": {$%.8s is not one "
				    "of the sensor's %d OIDs",
				    tmpl, s + 2, n_oids);
				goto fail;
			}
			rc |= snmppath_add(p, SNMPPATH_VAL, (int)n, 0, 0);
			p->uses[n - 1] = 1;
			i = (size_t)(end - tmpl) + 1;
		} else {
			snprintf(err, errlen,
			    "output_path \"%.80s\": unknown placeholder at "
			    "offset %zu (only {$index} and {$1}..{$%d})",
			    tmpl, i, n_oids);
			goto fail;
		}
		if (rc != 0) {
			snprintf(err, errlen,
			    "output_path \"%.80s\": too many parts", tmpl);
			goto fail;
		}
		lit = i;
	}
	if (i > lit && snmppath_add(p, SNMPPATH_LIT, 0, lit, i - lit) != 0) {
		snprintf(
		    err, errlen, "output_path \"%.80s\": too many parts", tmpl);
		goto fail;
	}
	return p;
fail:
	snmppath_free(p);
	return NULL;
}

int
snmppath_expand(const struct snmppath *p, int64_t entity_id,
    const uint32_t *idx, size_t idx_len, const char *const *vals,
    const size_t *lens, char *out, size_t outlen)
{
	size_t o, i, k;
	int n;

	n = snprintf(out, outlen, "entity.%" PRId64 ".snmp.", entity_id);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	o = (size_t)n;
	for (i = 0; i < p->n_parts; i++) {
		const struct snmppath_part *pt = &p->parts[i];

		switch (pt->kind) {
		case SNMPPATH_LIT:
			if (o + pt->len >= outlen)
				return -1;
			memcpy(out + o, p->text + pt->off, pt->len);
			o += pt->len;
			break;
		case SNMPPATH_INDEX:
			for (k = 0; k < idx_len; k++) {
				n = snprintf(out + o, outlen - o, "%s%" PRIu32,
				    k ? "." : "", idx[k]);
				if (n < 0 || (size_t)n >= outlen - o)
					return -1;
				o += (size_t)n;
			}
			break;
		case SNMPPATH_VAL:
			n = slug_make(vals[pt->n - 1], lens[pt->n - 1], out + o,
			    outlen - o);
			if (n < 0)
				return -1;
			o += (size_t)n;
			break;
		}
	}
	out[o] = '\0';
	return (int)o;
}
