/*
 * Batches of measured values (path, number, measurement time): what one
 * run of a job produced, handed to the sender as a whole.
 */
#ifndef BOT_VALUES_H
#define BOT_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

/* One measured value, the one type that carries it from run_emit to the
 * request that delivers it: a run's batch, the sender's queue, a request
 * and a bisection hold the same struct.  The path is owned by whoever
 * holds the value. */
struct value {
	char *path;
	double v;       /* always finite */
	double t;       /* Unix seconds, rounded to the microsecond */
	int64_t enq_ms; /* sender: when it was queued (monotonic) */
	uint32_t seg;   /* sender: spool segment holding it, 0 if none */
	uint32_t rec;   /* sender: its record's index in that segment */
};

struct values {
	int64_t account_id;
	struct value *items;
	size_t len;
	size_t cap;
};

void values_init(struct values *vs, int64_t account_id);
void values_release(struct values *vs);
/* Appends a copy of path with v, measured at t (rounded to the
 * microsecond).  The one check that a value can be sent: JSON cannot
 * carry NaN or infinity and the backend takes no time outside (0, 1e10)
 * (values_time_valid), so -1 (nothing added) for those, else 0. */
int values_add(struct values *vs, const char *path, double v, double t);

/* Writes v with the fewest digits that read back as the same double
 * (whole numbers as integers, others with 15 or 17 significant digits). */
void values_format_number(double v, char *out, size_t outlen);

/* Writes a Unix time to the microsecond ("1700000000.123456"): the text
 * "%.6f" gives, only faster; the same t always gives the same text, so
 * retries resend identical times.  A time of 1e15 s or more in size, which
 * values_time_valid refuses, is written with 17 significant digits so
 * that a 40-byte buffer never cuts it. */
void values_format_time(double t, char *out, size_t outlen);

/* The times a value may carry: after 1970 and before VALUES_TIME_MAX
 * (1e10 s, the year 2286: the backend's limit for a time as text).  1 if
 * t is one, 0 if not (NaN, infinite, <= 0, too far ahead). */
#define VALUES_TIME_MAX 1e10
int values_time_valid(double t);

#endif
