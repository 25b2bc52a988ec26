/*
 * Ping job configuration: turns a credential's details into packet
 * parameters, and fits them to the job's interval.  The target comes from
 * common/target.c.
 */
#include "pingcfg.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jobs.h"
#include "jsonx.h"

/* jsonx's number rule: absent, null or blank means the default (the UI
 * stores empty fields as ""; the official bot treats a missing key as the
 * default); a number or numeric string; the range. */
static int
pingcfg_number(struct json_object *cred, const char *key, double def,
    double min, double max, int whole, double *out, char *err, size_t errlen)
{
	char why[BOT_ERRLEN];

	if (jsonx_number(cred, key, def, min, max, whole ? JSONX_WHOLE : 0, out,
	        why, sizeof(why)) == -1) {
		snprintf(err, errlen, "credential: %s", why);
		return -1;
	}
	return 0;
}

int
pingcfg_parse(
    struct json_object *cred, struct pingcfg *cfg, char *err, size_t errlen)
{
	double n, sleep_s, timeout_s, retry;

	if (cred != NULL && !json_object_is_type(cred, json_type_object)) {
		snprintf(err, errlen, "credential details are not an object");
		return -1;
	}
	if (pingcfg_number(cred, "n_packets", PINGCFG_DEF_N_PACKETS, 1,
	        PINGCFG_MAX_PACKETS, 1, &n, err, errlen) != 0 ||
	    pingcfg_number(cred, "sleep_packets", PINGCFG_DEF_SLEEP_S, 0,
	        PINGCFG_MAX_SLEEP_S, 0, &sleep_s, err, errlen) != 0 ||
	    pingcfg_number(cred, "timeout", PINGCFG_DEF_TIMEOUT_S,
	        PINGCFG_MIN_TIMEOUT, PINGCFG_MAX_TIMEOUT, 0, &timeout_s, err,
	        errlen) != 0 ||
	    pingcfg_number(cred, "retry", PINGCFG_DEF_RETRY, 0,
	        PINGCFG_MAX_RETRY, 1, &retry, err, errlen) != 0)
		return -1;
	cfg->n_packets = (int)n;
	cfg->sleep_s = sleep_s;
	cfg->timeout_s = timeout_s;
	cfg->retry = (int)retry;
	return 0;
}

int
pingcfg_parse_memo(struct pingcfg_memo *m, struct json_object *cred,
    struct pingcfg *cfg, char *err, size_t errlen)
{
	/* m->cred is held, so no other object can have its address. */
	if (cred != NULL && cred == m->cred) {
		*cfg = m->cfg;
		return 0;
	}
	if (pingcfg_parse(cred, cfg, err, errlen) != 0)
		return -1;
	if (cred != NULL) {
		pingcfg_memo_clear(m);
		m->cred = json_object_get(cred);
		m->cfg = *cfg;
	}
	return 0;
}

void
pingcfg_memo_clear(struct pingcfg_memo *m)
{
	json_object_put(m->cred);
	memset(m, 0, sizeof(*m));
}

double
pingcfg_duration_s(const struct pingcfg *cfg)
{
	double step =
	    cfg->sleep_s > cfg->timeout_s ? cfg->sleep_s : cfg->timeout_s;

	return (cfg->n_packets - 1) * step + cfg->timeout_s;
}

double
pingcfg_slack_s(int interval_s)
{
	return interval_s >= 10 ? 1.0 : interval_s / 10.0;
}

int
pingcfg_fit(struct pingcfg *cfg, int interval_s, char *msg, size_t msglen)
{
	struct pingcfg was = *cfg;
	double budget = interval_s - pingcfg_slack_s(interval_s);
	double step, took = pingcfg_duration_s(cfg);
	char what[128];

	/* A millisecond of leeway for decimal fractions such as 0.1. */
	if (took <= budget + 1e-3)
		return 0;
	step = cfg->sleep_s > cfg->timeout_s ? cfg->sleep_s : cfg->timeout_s;
	if (cfg->timeout_s > budget) {
		cfg->timeout_s =
		    budget > PINGCFG_MIN_TIMEOUT ? budget : PINGCFG_MIN_TIMEOUT;
		cfg->n_packets = 1;
	} else {
		cfg->n_packets =
		    1 + (int)floor((budget - cfg->timeout_s) / step + 1e-9);
	}
	if (was.n_packets > 1)
		snprintf(what, sizeof(what),
		    "%d packets %g s apart with a %g s timeout take",
		    was.n_packets, was.sleep_s, was.timeout_s);
	else
		snprintf(what, sizeof(what),
		    "1 packet with a %g s timeout takes", was.timeout_s);
	snprintf(msg, msglen,
	    "credential: %s up to %g s, more than the job's %d s interval; "
	    "sending %d packet%s with a %g s timeout instead",
	    what, took, interval_s, cfg->n_packets,
	    cfg->n_packets == 1 ? "" : "s", cfg->timeout_s);
	return 1;
}
