/*
 * Counter lines of the sender.
 */
#include "sendstats.h"

#include <stdio.h>

#include "log.h"

void
sendstats_log_period(const struct sender_counters *now,
    const struct sender_counters *last, int64_t period_ms, size_t buffered,
    size_t bytes)
{
	uint64_t queued = now->queued - last->queued;
	uint64_t sent = now->sent - last->sent;
	uint64_t retried = now->retried - last->retried;
	uint64_t dropped = now->dropped - last->dropped;
	uint64_t failed = now->failed - last->failed;
	uint64_t batches = now->batches - last->batches;

	if (!queued && !sent && !retried && !dropped && !failed && !batches)
		return;
	log_info("values: last %lld s: %llu measured, %llu delivered, %llu "
	         "retried, %llu dropped, %llu of %llu requests failed; %zu "
	         "buffered (%zu bytes)",
	    (long long)(period_ms / 1000), (unsigned long long)queued,
	    (unsigned long long)sent, (unsigned long long)retried,
	    (unsigned long long)dropped, (unsigned long long)failed,
	    (unsigned long long)batches, buffered, bytes);
}

void
sendstats_log_totals(const struct sender_counters *c, size_t undelivered,
    const char *spool_dir, uint64_t spooled)
{
	char where[300] = "";

	if (spool_dir != NULL && undelivered > 0)
		snprintf(where, sizeof(where), " (%llu kept in the spool %s)",
		    (unsigned long long)spooled, spool_dir);
	log_info("values: %llu measured, %llu delivered, %llu dropped (%llu "
	         "buffer full, %llu too old, %llu refused, %llu too old for "
	         "POST), %llu retried, %llu of %llu requests failed, %zu "
	         "undelivered%s",
	    (unsigned long long)c->queued, (unsigned long long)c->sent,
	    (unsigned long long)c->dropped, (unsigned long long)c->dropped_full,
	    (unsigned long long)c->dropped_old,
	    (unsigned long long)c->dropped_refused,
	    (unsigned long long)c->dropped_stale,
	    (unsigned long long)c->retried, (unsigned long long)c->failed,
	    (unsigned long long)c->batches, undelivered, where);
}
