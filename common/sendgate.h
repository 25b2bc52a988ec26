/*
 * The sender's gate: may value requests go, and when may the next probe.
 *   OPEN     requests flow (up to the sender's in-flight limit);
 *   BACKOFF  after a transport error, 5xx, 429 or a 413 at the smallest
 *            size: one probe when the retry time comes (exponential
 *            backoff with jitter, never before the server's Retry-After),
 *            so a dead backend sees at most one request per retry_min_ms;
 *   CHECK    after 401/403: a token check (GET profile/) is in flight;
 *   AUTH     the token is refused: the check is repeated on the backoff
 *            schedule.
 * Every move of the state moves the epoch; requests carry the epoch they
 * were sent in, and only answers of the current epoch may move the gate,
 * so four requests failing together count as one failure.
 */
#ifndef BOT_SENDGATE_H
#define BOT_SENDGATE_H

#include <stddef.h>
#include <stdint.h>

#include "backoff.h"

enum sendgate_state {
	SENDGATE_OPEN,
	SENDGATE_BACKOFF,
	SENDGATE_CHECK,
	SENDGATE_AUTH,
};

struct sendgate {
	enum sendgate_state state;
	uint64_t epoch;
	struct backoff bo;
	int probe_busy;           /* the one probe or token check in flight */
	int flushing;             /* shutdown: retry at the floor rate */
	int64_t retry_at_ms;      /* closed: the next probe, monotonic */
	int64_t ra_until_ms;      /* Retry-After: nothing before this */
	int64_t outage_ms;        /* when the gate last closed */
	int64_t recovered_log_ms; /* the recovery note's rate limit */
	int64_t retry_min_ms;
	int64_t retry_after_max_ms; /* longest Retry-After obeyed */
};

/* An open gate; retries between retry_min_ms and retry_max_ms. */
void sendgate_init(struct sendgate *g, int64_t retry_min_ms,
    int64_t retry_max_ms, int64_t retry_after_max_ms);

/* Opens the gate and forgets the failures.  After an outage it says so,
 * at most once a minute, with the pending values still to deliver. */
void sendgate_open(struct sendgate *g, size_t pending);

/* Closes the gate to BACKOFF or AUTH, or keeps it closed, until the next
 * retry: the backoff's next delay (the floor rate while flushing), never
 * before retry_after (the answer's header, may be NULL; capped).  Returns
 * the wait in ms. */
int64_t sendgate_close(
    struct sendgate *g, enum sendgate_state to, const char *retry_after);

/* Enters CHECK: the token check is in flight (probe_busy is set; clear it
 * when the check cannot start or answers). */
void sendgate_check(struct sendgate *g);

/* A failed answer of an older epoch says nothing new, but its Retry-After
 * (may be NULL) still binds. */
void sendgate_late_retry_after(struct sendgate *g, const char *retry_after);

/* 1 when the closed gate lets a probe go at now_ms. */
int sendgate_probe_due(const struct sendgate *g, int64_t now_ms);

/* Shutdown: retries at the floor rate from now on, and a backoff or AUTH
 * wait is cut short (a Retry-After still binds). */
void sendgate_flush(struct sendgate *g, int64_t now_ms);

#endif
