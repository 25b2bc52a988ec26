/*
 * Delivery of values.  The backend sender keeps a queue per account and
 * sends it as PUT accounts/{id}/values/ batches with the measurement time,
 * so the backend upserts on (path, t) and a resend never stores a value
 * twice.  It survives outages: values wait in a buffer bounded in bytes,
 * count and age (oldest dropped first), failed requests are retried with
 * exponential backoff and jitter (Retry-After honoured), a refused token
 * pauses sending, a 400 batch is bisected to drop only the bad values, and
 * an optional disk spool keeps the buffer across restarts.  Everything runs
 * on the loop: polling never waits for it.  The stdout sender prints
 * "path value timestamp" lines (Graphite plaintext) instead.
 */
#ifndef BOT_SENDER_H
#define BOT_SENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "http.h"

struct backend;
struct values;
struct sender;

struct sender_config {
	size_t max_batch_values;    /* values per request (default 1000) */
	size_t max_batch_bytes;     /* body size (default 1000000 < 1 MiB) */
	int64_t flush_delay_ms;     /* gather values this long (default 200) */
	size_t max_in_flight;       /* concurrent requests (default 4) */
	size_t max_buffer_bytes;    /* buffer bound (default 64 MiB) */
	size_t max_buffer_values;   /* buffer bound in values (0 = none) */
	int64_t max_age_ms;         /* drop values buffered longer (24 h; 0 =
	                               never) */
	int64_t retry_min_ms;       /* first retry delay and floor (1000) */
	int64_t retry_max_ms;       /* retry delay cap (60000) */
	int64_t retry_after_max_ms; /* longest Retry-After obeyed (1 h) */
	int64_t post_max_age_ms;    /* POST fallback: older values are dropped
	                               (30000) */
	int64_t stats_interval_ms;  /* counter log period (60000; 0 = off) */
	const char *spool_dir;      /* NULL: no disk spool; copied */
	uint64_t spool_max_bytes;   /* spool bound (default 256 MiB) */
};

struct sender_counters {
	uint64_t queued;          /* values accepted (and loaded from spool) */
	uint64_t sent;            /* values acknowledged by the backend */
	uint64_t dropped;         /* values given up on, all reasons: */
	uint64_t dropped_full;    /*   buffer over its byte/count bound */
	uint64_t dropped_old;     /*   buffered longer than max_age_ms */
	uint64_t dropped_refused; /*   refused by the backend (400, 4xx) */
	uint64_t dropped_stale;   /*   too old to be sent with POST */
	uint64_t retried;         /* values put back after a failed request */
	uint64_t batches;         /* value requests sent */
	uint64_t failed;          /* value requests that failed */
	uint64_t spooled_in;      /* values loaded from the spool at start */
};

void sender_config_defaults(struct sender_config *c);

/* Sends to the backend b (borrowed, must outlive the sender); c is copied.
 * With c->spool_dir the spool is opened and its values queued again; a
 * spool that cannot be opened is fatal (this runs at start-up). */
struct sender *sender_backend_new(
    struct backend *b, const struct sender_config *c);
/* Prints to out (borrowed). */
struct sender *sender_stdout_new(FILE *out);
/* Frees everything, in-flight batches included (call it before the HTTP
 * client is freed, which drops their callbacks).  Values still buffered
 * are lost, or stay in the spool. */
void sender_free(struct sender *s);

/* Takes every value out of vs (vs is left empty, still initialised);
 * values_add let only finite numbers in. */
void sender_put(struct sender *s, struct values *vs);

typedef void sender_flushed_cb(void *arg);
/* Sends everything buffered as soon as possible (a backoff wait is cut
 * short, a Retry-After is not) and calls cb once when the buffer is empty
 * or at deadline_ms (monotonic), whichever is first; at the deadline it
 * logs how many values were not delivered. */
void sender_flush(
    struct sender *s, int64_t deadline_ms, sender_flushed_cb *cb, void *arg);

/* Values buffered: queued, being bisected or in flight. */
size_t sender_pending(const struct sender *s);
void sender_get_counters(const struct sender *s, struct sender_counters *c);
/* Logs the totals in one line (for the exit). */
void sender_log_totals(const struct sender *s);

/* How a request reaches the backend: path is relative to BACKEND_URL
 * ("accounts/1/values/", "profile/") and carries no token.  Same contract
 * as http_request: on 0 cb runs exactly once, later; on -1 never. */
typedef int sender_request_fn(void *arg, const char *method, const char *path,
    const char *body, size_t body_len, http_cb *cb, void *cb_arg);
/* Replaces the transport (unit tests); arg is borrowed. */
void sender_set_transport(struct sender *s, sender_request_fn *fn, void *arg);

#endif
