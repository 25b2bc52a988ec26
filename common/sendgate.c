/*
 * The gate's state and timing.  The sender decides what an answer means
 * and logs the failures; this file keeps when the next attempt may go.
 */
#include "sendgate.h"

#include "log.h"
#include "retry_after.h"
#include "timer.h"

#define SENDGATE_LOG_MS 60000

void
sendgate_init(struct sendgate *g, int64_t retry_min_ms, int64_t retry_max_ms,
    int64_t retry_after_max_ms)
{
	g->state = SENDGATE_OPEN;
	g->epoch = 0;
	backoff_init(&g->bo, retry_min_ms, retry_max_ms, 0);
	g->probe_busy = 0;
	g->flushing = 0;
	g->retry_at_ms = 0;
	g->ra_until_ms = 0;
	g->outage_ms = 0;
	g->recovered_log_ms = 0;
	g->retry_min_ms = retry_min_ms;
	g->retry_after_max_ms = retry_after_max_ms;
}

/* Moves ra_until_ms to what the header asks, capped; 0 when it parsed. */
static int
sendgate_retry_after(struct sendgate *g, const char *retry_after, int64_t now)
{
	int64_t ra;

	if (retry_after == NULL ||
	    retry_after_parse(retry_after, timer_wall_s(), &ra) == -1)
		return -1;
	if (ra > g->retry_after_max_ms)
		ra = g->retry_after_max_ms;
	if (now + ra > g->ra_until_ms)
		g->ra_until_ms = now + ra;
	return 0;
}

void
sendgate_open(struct sendgate *g, size_t pending)
{
	int64_t now = timer_now_ms();

	/* The rate limit carries over from one outage to the next, so a
	 * flapping backend gets at most one such note a minute. */
	if (g->state != SENDGATE_OPEN && g->bo.failures > 0 &&
	    now >= g->recovered_log_ms) {
		log_info("values: the backend takes values again after %u "
		         "failed attempts in %.0f s; %zu values to deliver",
		    g->bo.failures, (double)(now - g->outage_ms) / 1000.0,
		    pending);
		g->recovered_log_ms = now + SENDGATE_LOG_MS;
	}
	g->state = SENDGATE_OPEN;
	g->epoch++;
	backoff_reset(&g->bo);
}

int64_t
sendgate_close(
    struct sendgate *g, enum sendgate_state to, const char *retry_after)
{
	int64_t now = timer_now_ms(), delay;

	(void)sendgate_retry_after(g, retry_after, now);
	if (g->state == SENDGATE_OPEN)
		g->outage_ms = now;
	delay = backoff_next(&g->bo);
	if (g->flushing)
		delay = g->retry_min_ms < 1000 ? g->retry_min_ms : 1000;
	if (g->state != to || to != SENDGATE_BACKOFF)
		g->epoch++;
	g->state = to;
	g->retry_at_ms = now + delay;
	if (g->retry_at_ms < g->ra_until_ms)
		g->retry_at_ms = g->ra_until_ms;
	return g->retry_at_ms - now;
}

void
sendgate_check(struct sendgate *g)
{
	if (g->state == SENDGATE_OPEN)
		g->outage_ms = timer_now_ms();
	g->state = SENDGATE_CHECK;
	g->epoch++;
	g->probe_busy = 1;
}

void
sendgate_late_retry_after(struct sendgate *g, const char *retry_after)
{
	if (sendgate_retry_after(g, retry_after, timer_now_ms()) == -1)
		return;
	if (g->state != SENDGATE_OPEN && g->retry_at_ms < g->ra_until_ms)
		g->retry_at_ms = g->ra_until_ms;
}

int
sendgate_probe_due(const struct sendgate *g, int64_t now_ms)
{
	return !g->probe_busy && now_ms >= g->retry_at_ms;
}

void
sendgate_flush(struct sendgate *g, int64_t now_ms)
{
	g->flushing = 1;
	if (g->state == SENDGATE_BACKOFF || g->state == SENDGATE_AUTH)
		g->retry_at_ms =
		    g->ra_until_ms > now_ms ? g->ra_until_ms : now_ms;
}
