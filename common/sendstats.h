/*
 * The sender's counter lines: what changed over the last period (only
 * when something did) and the totals at exit.  Tests and operators parse
 * these lines, so their wording is a contract (test_delivery.py).
 */
#ifndef BOT_SENDSTATS_H
#define BOT_SENDSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "sender.h"

/* Logs the change from *last to *now over period_ms, with what is
 * buffered (values and bytes), unless nothing changed. */
void sendstats_log_period(const struct sender_counters *now,
    const struct sender_counters *last, int64_t period_ms, size_t buffered,
    size_t bytes);

/* Logs the totals *c with the undelivered values; spool_dir (may be NULL)
 * is named, with the spooled values on disk, when undelivered values stay
 * there. */
void sendstats_log_totals(const struct sender_counters *c, size_t undelivered,
    const char *spool_dir, uint64_t spooled);

#endif
