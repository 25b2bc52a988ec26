/*
 * Delivery of values.  The backend sender keeps a queue per account and
 * sends it as PUT accounts/{id}/values/ batches with the measurement time,
 * de-duplicated and split under 1 MiB, from the loop: polling never waits
 * for it.  The stdout sender prints "path value timestamp" lines (Graphite
 * plaintext) instead.
 */
#ifndef BOT_SENDER_H
#define BOT_SENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct backend;
struct values;
struct sender;

struct sender_config {
	size_t max_batch_values; /* default 1000 */
	size_t max_batch_bytes;  /* default 1000000, under nginx's 1 MiB */
	int64_t flush_delay_ms;  /* gather values this long (default 200) */
	size_t max_in_flight;    /* concurrent PUTs (default 4) */
};

void sender_config_defaults(struct sender_config *c);

/* Sends to the backend b (borrowed); c is copied. */
struct sender *sender_backend_new(
    struct backend *b, const struct sender_config *c);
/* Prints to out (borrowed). */
struct sender *sender_stdout_new(FILE *out);
void sender_free(struct sender *s);

/* Takes every value out of vs (vs is left empty, still initialised). */
void sender_put(struct sender *s, struct values *vs);

typedef void sender_flushed_cb(void *arg);
/* Sends everything queued as soon as possible and calls cb once when the
 * queue is empty or at deadline_ms (monotonic), whichever is first. */
void sender_flush(
    struct sender *s, int64_t deadline_ms, sender_flushed_cb *cb, void *arg);

struct sender_counters {
	uint64_t queued;  /* values accepted */
	uint64_t sent;    /* values acknowledged by the backend */
	uint64_t dropped; /* values given up on */
	uint64_t batches; /* requests sent */
	uint64_t failed;  /* requests that failed */
};

size_t sender_pending(const struct sender *s);
void sender_get_counters(const struct sender *s, struct sender_counters *c);

#endif
