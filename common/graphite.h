/*
 * The Graphite output: Carbon's plaintext protocol ("path value time\n")
 * over one persistent TCP connection, driven by the loop.  Values wait in
 * the same bounded buffer as the Grafolean sender's (sendq.h: bytes,
 * count and age, oldest dropped first and counted).  Carbon never answers,
 * so a line counts as delivered once the peer's TCP has acknowledged its
 * last byte (the socket's unacknowledged-bytes count, SIOCOUTQ): when the
 * connection breaks, exactly the lines not yet acknowledged are sent again
 * on the next one, so no line is lost while the buffer holds and none that
 * reached the listener is sent twice.  Reconnects back off with jitter.
 */
#ifndef BOT_GRAPHITE_H
#define BOT_GRAPHITE_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct loop;
struct graphite;
struct values;

struct graphite_config {
	size_t max_buffer_bytes;  /* buffer bound (0: none) */
	size_t max_buffer_values; /* the same as a count (0: none) */
	int64_t max_age_ms;       /* oldest kept value (0: no bound) */
	int64_t retry_min_ms;     /* reconnect delay floor */
	int64_t retry_max_ms;     /* and cap */
	int64_t timeout_ms;       /* connect timeout, and how long written
	                             bytes may stay unacknowledged */
};

struct graphite_counters {
	uint64_t queued;  /* values accepted */
	uint64_t sent;    /* values acknowledged by the peer's TCP */
	uint64_t dropped; /* values dropped by the buffer's bounds */
	uint64_t resent;  /* values written again after a broken connection */
	uint64_t connects;
	uint64_t failures; /* connections that failed or broke */
};

/* Connects to host (a name or numeric address; resolved off the loop
 * thread at every connection attempt) and port; everything is copied, l
 * is borrowed.  Never fails: an unreachable Carbon is retried. */
struct graphite *graphite_new(struct loop *l, const char *host,
    const char *port, const struct graphite_config *c);
/* Closes the connection; values still buffered are lost (and counted in
 * graphite_log_totals beforehand).  NULL is a no-op. */
void graphite_free(struct graphite *g);

/* Copies every finite value of vs (borrowed) into the buffer. */
void graphite_put(struct graphite *g, const struct values *vs);

typedef void graphite_flushed_cb(void *arg);
/* Calls cb once, later, when every buffered value is acknowledged or at
 * deadline_ms (monotonic), whichever comes first (a reconnect wait is cut
 * short). */
void graphite_flush(struct graphite *g, int64_t deadline_ms,
    graphite_flushed_cb *cb, void *arg);

/* Values buffered or written and not yet acknowledged. */
size_t graphite_pending(const struct graphite *g);
void graphite_get_counters(
    const struct graphite *g, struct graphite_counters *c);
/* One info line with the counters (for the exit). */
void graphite_log_totals(const struct graphite *g);
/* "host:port", for log lines (borrowed). */
const char *graphite_target(const struct graphite *g);

#endif
