/*
 * The values one sensor fetched: a column per OID, each entry an OID
 * index (the sub-identifiers after the requested OID) with its value and
 * the time its answer arrived.  A GET gives a column of one entry with an
 * empty index.  Entries are appended in walk order, which the poller
 * keeps strictly increasing, so lookups by index are binary searches.
 * Indexes and strings live in pools owned by the column.
 */
#ifndef BOT_SNMPCOL_H
#define BOT_SNMPCOL_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

/* The most sub-identifiers in an OID (RFC 2578's limit). */
#define SNMPCOL_MAX_OID 128

enum snmpcol_type {
	SNMPCOL_NONE = 0, /* noSuchObject, noSuchInstance, endOfMibView, NULL */
	SNMPCOL_INT,      /* INTEGER / Integer32 */
	SNMPCOL_UINT,     /* Gauge32, Unsigned32, TimeTicks */
	SNMPCOL_COUNTER32, /* become per-second rates */
	SNMPCOL_COUNTER64,
	SNMPCOL_FLOAT,  /* net-snmp's opaque float and double */
	SNMPCOL_STRING, /* OCTET STRING, Opaque: raw bytes */
	SNMPCOL_TEXT,   /* OBJECT IDENTIFIER, IpAddress: as dotted text */
};

/* One value as the poller hands it over (strings borrowed). */
struct snmpcol_val {
	enum snmpcol_type type;
	int64_t i;       /* SNMPCOL_INT */
	uint64_t u;      /* SNMPCOL_UINT, COUNTER32, COUNTER64 */
	double d;        /* SNMPCOL_FLOAT */
	const char *str; /* SNMPCOL_STRING, SNMPCOL_TEXT */
	size_t len;
	double t_s; /* wall-clock time the answer arrived */
};

struct snmpcol_ent {
	uint32_t idx_off; /* into ids */
	uint32_t idx_len;
	uint32_t str_off; /* into strs */
	uint32_t str_len;
	enum snmpcol_type type;
	int64_t i;
	uint64_t u;
	double d;
	double t_s;
};

struct snmpcol {
	struct snmpcol_ent *ents;
	size_t n, cap;
	uint32_t *ids;
	size_t n_ids, cap_ids;
	char *strs;
	size_t n_strs, cap_strs;
};

void snmpcol_init(struct snmpcol *c);
void snmpcol_release(struct snmpcol *c);
/* Empties c, keeping its memory for the next poll. */
void snmpcol_reset(struct snmpcol *c);
/* Exchanges the contents of a and b. */
void snmpcol_swap(struct snmpcol *a, struct snmpcol *b);

/* Appends idx[0..idx_len) with a copy of v.  Strings longer than
 * SNMPCOL_MAX_STR are cut there. */
#define SNMPCOL_MAX_STR 65535
void snmpcol_add(struct snmpcol *c, const uint32_t *idx, size_t idx_len,
    const struct snmpcol_val *v);

/* The entry whose index is idx[0..idx_len), or NULL.  Borrowed. */
const struct snmpcol_ent *snmpcol_find(
    const struct snmpcol *c, const uint32_t *idx, size_t idx_len);

/* The entry's index (borrowed from c) and string bytes. */
const uint32_t *snmpcol_idx(
    const struct snmpcol *c, const struct snmpcol_ent *e);
const char *snmpcol_str(const struct snmpcol *c, const struct snmpcol_ent *e);

/* Compares two OIDs (or indexes) lexicographically: <0, 0, >0. */
int snmpcol_oid_cmp(
    const uint32_t *a, size_t alen, const uint32_t *b, size_t blen);

/* The entry as a number for an expression: 0 with *out, or -1 when it is
 * not numeric (strings count when the whole text is a finite number, as
 * the official bot's float() takes them).  Counters give their raw
 * value. */
int snmpcol_number(
    const struct snmpcol *c, const struct snmpcol_ent *e, double *out) BOT_WUR;

/* The entry as text for {$N} in an output path: numbers in decimal,
 * strings as they are.  Writes at most outlen bytes (no NUL) and returns
 * the length; *ptr points at the text (into c or into out). */
size_t snmpcol_text(const struct snmpcol *c, const struct snmpcol_ent *e,
    char *out, size_t outlen, const char **ptr);

#endif
