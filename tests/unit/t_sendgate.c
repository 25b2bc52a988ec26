/*
 * Unit tests for sendgate.c on fake clocks: the epoch moves with the
 * state (but not while it stays in BACKOFF), the waits stay between the
 * floor and the backoff ceiling and never before a Retry-After (capped),
 * a late Retry-After still binds, and a flush cuts a wait short to the
 * floor rate.  The sender's use of it is tested in t_sender.c.
 */
#include <stdint.h>

#include "sendgate.h"
#include "t.h"
#include "timer.h"

static int64_t now_ms;

static int64_t
fake_now(void)
{
	return now_ms;
}

static double
fake_wall(void)
{
	return 1700000000.0 + (double)now_ms / 1000.0;
}

static void
clocks(void)
{
	now_ms = 1000000;
	timer_set_clock(fake_now);
	timer_set_wall_clock(fake_wall);
}

static void
clocks_off(void)
{
	timer_set_clock(NULL);
	timer_set_wall_clock(NULL);
}

T_TEST(sendgate_epochs_and_backoff)
{
	struct sendgate g;
	uint64_t e;
	int64_t d;
	unsigned k;

	clocks();
	sendgate_init(&g, 1000, 16000, 3600000);
	T_EQ_INT(g.state, SENDGATE_OPEN);
	e = g.epoch;
	d = sendgate_close(&g, SENDGATE_BACKOFF, NULL);
	T_EQ_INT(g.state, SENDGATE_BACKOFF);
	T_EQ_INT(g.epoch, e + 1);
	T_EQ_INT(g.outage_ms, now_ms);
	T_ASSERT(d >= 1000 && d <= 1000);
	T_EQ_INT(sendgate_probe_due(&g, now_ms + d - 1), 0);
	T_EQ_INT(sendgate_probe_due(&g, now_ms + d), 1);
	/* Staying in BACKOFF keeps the epoch; the waits grow to the cap. */
	for (k = 2; k <= 8; k++) {
		int64_t hi = k >= 5 ? 16000 : 1000LL << (k - 1);

		d = sendgate_close(&g, SENDGATE_BACKOFF, NULL);
		T_EQ_INT(g.epoch, e + 1);
		T_ASSERT(d >= 1000 && d <= hi);
	}
	T_EQ_INT(g.bo.failures, 8);
	/* A probe in flight: nothing else is due. */
	g.probe_busy = 1;
	T_EQ_INT(sendgate_probe_due(&g, now_ms + 100000), 0);
	g.probe_busy = 0;
	/* A token check, then AUTH: each move is a new epoch. */
	sendgate_check(&g);
	T_EQ_INT(g.state, SENDGATE_CHECK);
	T_EQ_INT(g.probe_busy, 1);
	T_EQ_INT(g.epoch, e + 2);
	g.probe_busy = 0;
	(void)sendgate_close(&g, SENDGATE_AUTH, NULL);
	T_EQ_INT(g.epoch, e + 3);
	(void)sendgate_close(&g, SENDGATE_AUTH, NULL);
	T_EQ_INT(g.epoch, e + 4); /* AUTH to AUTH moves it too */
	sendgate_open(&g, 5);
	T_EQ_INT(g.state, SENDGATE_OPEN);
	T_EQ_INT(g.epoch, e + 5);
	T_EQ_INT(g.bo.failures, 0);
	clocks_off();
}

T_TEST(sendgate_retry_after_binds_capped_and_late)
{
	struct sendgate g;
	int64_t d;

	clocks();
	sendgate_init(&g, 1000, 4000, 30000);
	d = sendgate_close(&g, SENDGATE_BACKOFF, "20");
	T_EQ_INT(d, 20000);
	T_EQ_INT(sendgate_probe_due(&g, now_ms + 19999), 0);
	T_EQ_INT(sendgate_probe_due(&g, now_ms + 20000), 1);
	/* Capped at retry_after_max_ms. */
	d = sendgate_close(&g, SENDGATE_BACKOFF, "3600");
	T_EQ_INT(d, 30000);
	/* Garbage is ignored: the backoff decides (the old bound holds). */
	now_ms += 40000;
	d = sendgate_close(&g, SENDGATE_BACKOFF, "soon");
	T_ASSERT(d >= 1000 && d <= 4000);
	/* A late answer's Retry-After pushes the next probe. */
	sendgate_late_retry_after(&g, "10");
	T_EQ_INT(g.retry_at_ms, now_ms + 10000);
	sendgate_late_retry_after(&g, NULL);
	T_EQ_INT(g.retry_at_ms, now_ms + 10000);
	/* Open: a late Retry-After is remembered for the next close. */
	sendgate_open(&g, 0);
	sendgate_late_retry_after(&g, "15");
	T_EQ_INT(g.state, SENDGATE_OPEN);
	d = sendgate_close(&g, SENDGATE_BACKOFF, NULL);
	T_EQ_INT(d, 15000);
	clocks_off();
}

T_TEST(sendgate_flush_cuts_waits_to_the_floor)
{
	struct sendgate g;
	int64_t d;

	clocks();
	sendgate_init(&g, 60000, 60000, 3600000);
	d = sendgate_close(&g, SENDGATE_BACKOFF, NULL);
	T_EQ_INT(d, 60000);
	now_ms += 2000;
	sendgate_flush(&g, now_ms);
	T_EQ_INT(sendgate_probe_due(&g, now_ms), 1);
	/* While flushing: at most one second between attempts. */
	d = sendgate_close(&g, SENDGATE_BACKOFF, NULL);
	T_EQ_INT(d, 1000);
	/* A Retry-After still binds. */
	d = sendgate_close(&g, SENDGATE_BACKOFF, "5");
	T_EQ_INT(d, 5000);
	sendgate_flush(&g, now_ms);
	T_EQ_INT(g.retry_at_ms, now_ms + 5000);
	clocks_off();
}
