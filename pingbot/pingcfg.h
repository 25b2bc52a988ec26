/*
 * Ping job configuration: the credential's packet parameters (the target
 * is a struct target, common/target.h).
 */
#ifndef BOT_PINGCFG_H
#define BOT_PINGCFG_H

#include <stddef.h>

#include "attrs.h"

struct json_object;

/* The official bot's fallbacks when a credential key is absent. */
#define PINGCFG_DEF_N_PACKETS 3
#define PINGCFG_DEF_SLEEP_S   1.0
#define PINGCFG_DEF_TIMEOUT_S 2.0
#define PINGCFG_DEF_RETRY     0

#define PINGCFG_MAX_PACKETS 100
#define PINGCFG_MAX_SLEEP_S 60.0
#define PINGCFG_MIN_TIMEOUT 0.01
#define PINGCFG_MAX_TIMEOUT 60.0
#define PINGCFG_MAX_RETRY   10

struct pingcfg {
	double sleep_s;   /* from one round's start to the next, 0..60 */
	double timeout_s; /* per round, split over the attempts, 0.01..60 */
	int n_packets;    /* packets (rounds) per run, 1..100 */
	int retry;        /* extra attempts for unanswered packets, 0..10 */
};

/* Reads n_packets, sleep_packets, timeout and retry from a credential's
 * details (borrowed; NULL means all defaults).  Values may be JSON numbers
 * or numeric strings; an absent, null or blank value takes the default.
 * Returns 0, or -1 with err filled when a value is malformed or out of
 * range. */
int pingcfg_parse(struct json_object *cred, struct pingcfg *cfg, char *err,
    size_t errlen) BOT_WUR;

/* The last credential details parsed, and what they gave: the jobs of an
 * account share one credential object, so each is parsed once.  Zeroed
 * (or pingcfg_memo_clear) before first use. */
struct pingcfg_memo {
	struct json_object *cred; /* own reference, or NULL */
	struct pingcfg cfg;       /* what pingcfg_parse gave for it */
};

/* pingcfg_parse through m: for the very object m holds (json-c objects
 * are never changed once a job holds them) the remembered result, else a
 * parse that m then remembers when it succeeds (failures are parsed again
 * each time: they are rare, and err says the same).  cred is borrowed; m
 * takes a reference to it.  Returns 0, or -1 with err. */
int pingcfg_parse_memo(struct pingcfg_memo *m, struct json_object *cred,
    struct pingcfg *cfg, char *err, size_t errlen) BOT_WUR;

/* Drops m's reference and result (m may be zeroed already). */
void pingcfg_memo_clear(struct pingcfg_memo *m);

/* The longest a run with cfg takes: rounds start sleep_s apart, or back to
 * back when a round waits out its timeout, and the last round waits at
 * most timeout_s (retries share the timeout). */
double pingcfg_duration_s(const struct pingcfg *cfg);

/* The time a job of interval_s keeps free after its run: a tenth of the
 * interval, at most 1 s.  A run may wait that long to join a batch. */
double pingcfg_slack_s(int interval_s);

/* Fits cfg to a job whose shortest interval is interval_s: when a run could
 * take longer than the interval less its slack, fewer packets are sent and,
 * when even one would not fit, the timeout is shortened.  Returns 0 when
 * cfg fits as it is, 1 when it was changed (msg says how and why). */
int pingcfg_fit(struct pingcfg *cfg, int interval_s, char *msg, size_t msglen);

#endif
