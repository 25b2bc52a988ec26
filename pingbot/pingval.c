/*
 * Ping results to values.  A pure function of the per-packet results, so
 * the paths and the statistics are tested without sending any ICMP.
 * Paths keep the official bot's names exactly (dashboards depend on them);
 * .rtt.* are ours and only appear when something answered, because a
 * statistic of nothing would be a made-up number.
 */
#include "pingval.h"

#include <math.h>
#include <stdio.h>

void
pingval_stats(
    const struct pingval_packet *pk, size_t n, struct pingval_stats *st)
{
	double sum = 0, sq = 0;
	size_t i;

	st->sent = n;
	st->answered = 0;
	st->min_s = st->avg_s = st->max_s = st->stddev_s = 0;
	for (i = 0; i < n; i++) {
		if (!pk[i].ok)
			continue;
		if (st->answered == 0 || pk[i].rtt_s < st->min_s)
			st->min_s = pk[i].rtt_s;
		if (st->answered == 0 || pk[i].rtt_s > st->max_s)
			st->max_s = pk[i].rtt_s;
		sum += pk[i].rtt_s;
		st->answered++;
	}
	if (st->answered == 0)
		return;
	st->avg_s = sum / (double)st->answered;
	/* Rounding can put the mean of equal samples a hair outside them
	 * (3 x 2.7e-05 averages to 2.6999999999999996e-05); keep it inside. */
	if (st->avg_s < st->min_s)
		st->avg_s = st->min_s;
	if (st->avg_s > st->max_s)
		st->avg_s = st->max_s;
	/* Two passes: summing squared deviations from the mean does not
	 * cancel catastrophically the way sum(x^2) - n*mean^2 does. */
	for (i = 0; i < n; i++) {
		if (pk[i].ok)
			sq += (pk[i].rtt_s - st->avg_s) *
			    (pk[i].rtt_s - st->avg_s);
	}
	st->stddev_s = sqrt(sq / (double)st->answered);
}

static void
pingval_put(struct pingval *out, size_t *k, int64_t id, const char *suffix,
    long idx, double v, double t)
{
	struct pingval *pv = &out[(*k)++];

	if (idx >= 0)
		snprintf(pv->path, sizeof(pv->path), "entity.%lld.ping.p%ld.%s",
		    (long long)id, idx, suffix);
	else
		snprintf(pv->path, sizeof(pv->path), "entity.%lld.ping.%s",
		    (long long)id, suffix);
	pv->v = v;
	pv->t = t;
}

size_t
pingval_build(int64_t entity_id, const struct pingval_packet *pk, size_t n,
    struct pingval *out)
{
	struct pingval_stats st;
	size_t i, k = 0;
	double t0;

	if (n == 0)
		return 0;
	t0 = pk[0].t;
	for (i = 0; i < n; i++) {
		pingval_put(out, &k, entity_id, "ok", (long)i, pk[i].ok ? 1 : 0,
		    pk[i].t);
		if (pk[i].ok)
			pingval_put(out, &k, entity_id, "rtt", (long)i,
			    pk[i].rtt_s, pk[i].t);
	}
	pingval_stats(pk, n, &st);
	pingval_put(out, &k, entity_id, "success", -1,
	    (double)st.answered / (double)st.sent, t0);
	if (st.answered > 0) {
		pingval_put(out, &k, entity_id, "rtt.min", -1, st.min_s, t0);
		pingval_put(out, &k, entity_id, "rtt.avg", -1, st.avg_s, t0);
		pingval_put(out, &k, entity_id, "rtt.max", -1, st.max_s, t0);
		pingval_put(
		    out, &k, entity_id, "rtt.stddev", -1, st.stddev_s, t0);
	}
	return k;
}
