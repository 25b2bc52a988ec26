/*
 * Batches of measured values (path, number, measurement time) and their
 * JSON encoding for PUT accounts/{id}/values/.
 */
#ifndef BOT_VALUES_H
#define BOT_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct buf;

struct value {
	char *path;
	double v;
	double t; /* Unix seconds, microsecond resolution */
};

struct values {
	int64_t account_id;
	struct value *items;
	size_t len;
	size_t cap;
};

void values_init(struct values *vs, int64_t account_id);
void values_release(struct values *vs);
/* Appends a copy of path. */
void values_add(struct values *vs, const char *path, double v, double t);
/* Moves every value of src to the end of dst; src is left empty. */
void values_move(struct values *dst, struct values *src);
/* Removes items [0, n) (their memory is freed). */
void values_shift(struct values *vs, size_t n);

/* Sorts by (path, t) and keeps the last of each duplicate pair: the
 * backend rejects a whole batch that repeats a (path, t). */
void values_dedup(struct values *vs);

/* Appends the JSON array of items [start, start + n) to out, with "t" when
 * with_t.  Stops early so the array stays within max_bytes.  Returns how
 * many items were encoded (0 if even one does not fit). */
size_t values_encode(const struct values *vs, size_t start, size_t n,
    size_t max_bytes, int with_t, struct buf *out);

/* Writes v with the fewest digits that read back as the same double. */
void values_format_number(double v, char *out, size_t outlen);

/* Bytes the encoded value takes, for buffer accounting. */
size_t values_cost(const struct value *v);

#endif
