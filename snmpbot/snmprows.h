/*
 * From one sensor's fetched columns to values: rows come from the first
 * walked OID (one row when the sensor only GETs), a GET value is shared
 * by every row, counters become per-second rates against the previous
 * poll's sample of the same row (matched by index), the expression is
 * evaluated and the output path expanded.  A row that lacks a value it
 * needs is skipped alone and counted.
 */
#ifndef BOT_SNMPROWS_H
#define BOT_SNMPROWS_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"
#include "snmpcol.h"

struct expr;
struct snmppath;

/* A sensor as row building needs it (everything borrowed). */
struct snmprows_sensor {
	int n_oids;
	const unsigned char *walk; /* per OID: 1 walk, 0 get */
	const struct expr *expr;
	const struct snmppath *path;
};

/* What one build did; first_* name the first skipped row's cause. */
struct snmprows_stats {
	size_t rows, emitted;
	size_t missing;       /* a needed value absent or noSuch* */
	size_t not_numeric;   /* a needed value that is not a number */
	size_t first_sample;  /* a counter without a usable previous sample */
	size_t reset;         /* a counter that went back (not a wrap) */
	size_t expr_skipped;  /* division by zero, non-finite result */
	size_t bad_path;      /* a path the backend would refuse */
	int first_oid;        /* 1-based OID of the first missing/non-numeric */
	char first_path[128]; /* the first refused path (cut) */
};

/* Called per value (path borrowed for the call). */
typedef void snmprows_emit_fn(
    void *arg, const char *path, double v, double t_s);

/* Builds the rows of the columns cur[0..s->n_oids) with prev[0..n_oids)
 * the previous poll's columns (prev or an element NULL: none; counters
 * then give nothing).  counters_reset
 * (the agent restarted) makes every counter a first sample.  Calls emit
 * for every value; fills st. */
void snmprows_build(const struct snmprows_sensor *s, int64_t entity_id,
    const struct snmpcol *const *cur, const struct snmpcol *const *prev,
    int counters_reset, snmprows_emit_fn *emit, void *arg,
    struct snmprows_stats *st);

enum snmprows_rate_rc {
	SNMPROWS_RATE_OK = 0,
	SNMPROWS_RATE_RESET,   /* went back and is no wrap: nothing */
	SNMPROWS_RATE_BADTIME, /* no time passed between the samples */
};

/* The per-second rate of a counter (Counter32 when is32, else Counter64,
 * unsigned) from prev at prev_t_s to cur at cur_t_s.  A Counter32 that
 * dropped by more than half its range wrapped (the rate counts through
 * 2^32); any other drop is a reset. */
enum snmprows_rate_rc snmprows_rate(int is32, uint64_t prev, double prev_t_s,
    uint64_t cur, double cur_t_s, double *rate) BOT_WUR;

#endif
