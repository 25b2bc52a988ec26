/*
 * Unit tests for pingbot's pure parts: the credential's packet parameters
 * and how they fit an interval, preparing a job, and turning packet results
 * into value paths and statistics (picking and checking the target is
 * common/target.c's, tested in tests/unit/t_target.c).  Nothing here sends
 * ICMP; the engine is covered by tests/integration/test_pingbot.py.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pingbot/pingbot.h"
#include "../../../pingbot/pingcfg.h"
#include "../../../pingbot/pingval.h"
#include "../t.h"
#include "jobs.h"
#include "path.h"

/* Parses a credential; returns the parser's result, cfg and err filled. */
static int
t_ping_cred(const char *text, struct pingcfg *cfg, char *err, size_t errlen)
{
	struct json_object *o = t_json(text);
	int rc;

	err[0] = '\0';
	rc = pingcfg_parse(o, cfg, err, errlen);
	json_object_put(o);
	return rc;
}

T_TEST(t_ping_cfg_defaults)
{
	struct pingcfg cfg;
	char err[BOT_ERRLEN];

	T_EQ_INT(pingcfg_parse(NULL, &cfg, err, sizeof(err)), 0);
	T_EQ_INT(cfg.n_packets, 3);
	T_EQ_DBL(cfg.sleep_s, 1.0, 1e-12);
	T_EQ_DBL(cfg.timeout_s, 2.0, 1e-12);
	T_EQ_INT(cfg.retry, 0);

	T_EQ_INT(t_ping_cred("{}", &cfg, err, sizeof(err)), 0);
	T_EQ_INT(cfg.n_packets, 3);
	T_EQ_DBL(cfg.sleep_s, 1.0, 1e-12);
	T_EQ_DBL(cfg.timeout_s, 2.0, 1e-12);
	T_EQ_INT(cfg.retry, 0);
}

T_TEST(t_ping_cfg_strings)
{
	struct pingcfg cfg;
	char err[BOT_ERRLEN];

	/* The shape of the backend's default ping credential. */
	T_EQ_INT(t_ping_cred("{\"n_packets\": \"3\", \"sleep_packets\": "
	                     "\"1.0\", \"timeout\": \"1.0\", \"retry\": \"0\"}",
	             &cfg, err, sizeof(err)),
	    0);
	T_EQ_INT(cfg.n_packets, 3);
	T_EQ_DBL(cfg.sleep_s, 1.0, 1e-12);
	T_EQ_DBL(cfg.timeout_s, 1.0, 1e-12);
	T_EQ_INT(cfg.retry, 0);

	T_EQ_INT(
	    t_ping_cred("{\"n_packets\": \"10\", \"sleep_packets\": "
	                "\"0.25\", \"timeout\": \"0.5\", \"retry\": \"2\"}",
	        &cfg, err, sizeof(err)),
	    0);
	T_EQ_INT(cfg.n_packets, 10);
	T_EQ_DBL(cfg.sleep_s, 0.25, 1e-12);
	T_EQ_DBL(cfg.timeout_s, 0.5, 1e-12);
	T_EQ_INT(cfg.retry, 2);
}

T_TEST(t_ping_cfg_numbers)
{
	struct pingcfg cfg;
	char err[BOT_ERRLEN];

	T_EQ_INT(t_ping_cred("{\"n_packets\": 5, \"sleep_packets\": 0, "
	                     "\"timeout\": 0.01, \"retry\": 10}",
	             &cfg, err, sizeof(err)),
	    0);
	T_EQ_INT(cfg.n_packets, 5);
	T_EQ_DBL(cfg.sleep_s, 0.0, 1e-12);
	T_EQ_DBL(cfg.timeout_s, 0.01, 1e-12);
	T_EQ_INT(cfg.retry, 10);

	/* Upper bounds are inclusive; 4.0 is a whole number. */
	T_EQ_INT(t_ping_cred("{\"n_packets\": 100, \"sleep_packets\": 60, "
	                     "\"timeout\": 60, \"retry\": 4.0}",
	             &cfg, err, sizeof(err)),
	    0);
	T_EQ_INT(cfg.n_packets, 100);
	T_EQ_DBL(cfg.sleep_s, 60.0, 1e-12);
	T_EQ_DBL(cfg.timeout_s, 60.0, 1e-12);
	T_EQ_INT(cfg.retry, 4);
}

T_TEST(t_ping_cfg_missing_and_blank)
{
	struct pingcfg cfg;
	char err[BOT_ERRLEN];

	/* Only some keys: the others fall back; "" and null count as
	 * absent, as the UI stores empty fields. */
	T_EQ_INT(t_ping_cred("{\"n_packets\": \"7\", \"timeout\": \"\", "
	                     "\"retry\": null, \"other\": \"x\"}",
	             &cfg, err, sizeof(err)),
	    0);
	T_EQ_INT(cfg.n_packets, 7);
	T_EQ_DBL(cfg.sleep_s, 1.0, 1e-12);
	T_EQ_DBL(cfg.timeout_s, 2.0, 1e-12);
	T_EQ_INT(cfg.retry, 0);

	T_EQ_INT(
	    t_ping_cred("{\"sleep_packets\": \"  \"}", &cfg, err, sizeof(err)),
	    0);
	T_EQ_DBL(cfg.sleep_s, 1.0, 1e-12);
}

T_TEST(t_ping_cfg_bad_values)
{
	static const struct {
		const char *json;
		const char *msg;
	} cases[] = {
	    {"{\"n_packets\": \"abc\"}",
	        "credential: n_packets must be a number, got \"abc\""},
	    {"{\"n_packets\": \"3x\"}",
	        "credential: n_packets must be a number, got \"3x\""},
	    {"{\"timeout\": [1]}",
	        "credential: timeout must be a number, got [1]"},
	    {"{\"retry\": true}",
	        "credential: retry must be a number, got true"},
	    {"{\"n_packets\": 0}",
	        "credential: n_packets must be a whole "
	        "number from 1 to 100, got 0"},
	    {"{\"n_packets\": \"101\"}",
	        "credential: n_packets must be a whole number from 1 to "
	        "100, got 101"},
	    {"{\"n_packets\": 2.5}",
	        "credential: n_packets must be a "
	        "whole number from 1 to 100, got "
	        "2.5"},
	    {"{\"sleep_packets\": -1}",
	        "credential: sleep_packets must be a number from 0 to 60, "
	        "got -1"},
	    {"{\"sleep_packets\": \"61\"}",
	        "credential: sleep_packets must be a number from 0 to 60, "
	        "got 61"},
	    {"{\"timeout\": 0}",
	        "credential: timeout must be a number "
	        "from 0.01 to 60, got 0"},
	    {"{\"timeout\": \"0.001\"}",
	        "credential: timeout must be a number from 0.01 to 60, "
	        "got 0.001"},
	    {"{\"timeout\": 61}",
	        "credential: timeout must be a number "
	        "from 0.01 to 60, got 61"},
	    {"{\"retry\": -1}",
	        "credential: retry must be a whole number "
	        "from 0 to 10, got -1"},
	    {"{\"retry\": \"11\"}",
	        "credential: retry must be a whole "
	        "number from 0 to 10, got 11"},
	    {"[1, 2]", "credential details are not an object"},
	};
	struct pingcfg cfg;
	char err[BOT_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T_EQ_INT(
		    t_ping_cred(cases[i].json, &cfg, err, sizeof(err)), -1);
		T_EQ_STR(err, cases[i].msg);
	}
}

T_TEST(t_ping_prepare)
{
	struct job job;
	char err[BOT_ERRLEN];

	memset(&job, 0, sizeof(job));
	job.id = 42;
	job.details = t_json("{\"ipv4\": \"127.0.0.1\"}");
	job.credential = t_json("{\"n_packets\": \"2\"}");
	T_EQ_INT(pingbot_ops.job_prepare(&job, err, sizeof(err)), 0);
	T_ASSERT(job.priv != NULL && job.priv_free != NULL);
	job.priv_free(job.priv);
	job.priv = NULL;

	/* A name that does not resolve keeps the job (it is reported down
	 * each run); RFC 6761 reserves .invalid for exactly this. */
	json_object_put(job.details);
	job.details = t_json("{\"host\": \"no-such-host.invalid\"}");
	T_EQ_INT(pingbot_ops.job_prepare(&job, err, sizeof(err)), 0);
	T_ASSERT(job.priv != NULL);
	job.priv_free(job.priv);
	job.priv = NULL;

	/* A bad credential drops the job, with the reason. */
	json_object_put(job.credential);
	job.credential = t_json("{\"timeout\": \"soon\"}");
	T_EQ_INT(pingbot_ops.job_prepare(&job, err, sizeof(err)), -1);
	T_EQ_STR(err, "credential: timeout must be a number, got \"soon\"");
	T_ASSERT(job.priv == NULL);
	json_object_put(job.details);
	json_object_put(job.credential);
	/* What the bot still holds (the last credential parsed) goes. */
	pingbot_ops.shutdown();

	T_EQ_STR(pingbot_ops.protocol, "ping");
	T_EQ_STR(pingbot_ops.name, "pingbot");
}

static void
t_ping_packets(struct pingval_packet *pk, size_t n, const double *rtt)
{
	size_t i;

	for (i = 0; i < n; i++) {
		pk[i].ok = rtt[i] >= 0;
		pk[i].rtt_s = rtt[i] >= 0 ? rtt[i] : 0;
		pk[i].t = 1700000000.5 + (double)i;
	}
}

T_TEST(t_ping_values_all_answered)
{
	static const double rtt[] = {0.001, 0.002, 0.003};
	static const char *const paths[] = {
	    "entity.53709761.ping.p0.ok",
	    "entity.53709761.ping.p0.rtt",
	    "entity.53709761.ping.p1.ok",
	    "entity.53709761.ping.p1.rtt",
	    "entity.53709761.ping.p2.ok",
	    "entity.53709761.ping.p2.rtt",
	    "entity.53709761.ping.success",
	    "entity.53709761.ping.rtt.min",
	    "entity.53709761.ping.rtt.avg",
	    "entity.53709761.ping.rtt.max",
	    "entity.53709761.ping.rtt.stddev",
	};
	struct pingval_packet pk[3];
	struct pingval out[PINGVAL_MAX(3)];
	size_t n, i;

	t_ping_packets(pk, 3, rtt);
	n = pingval_build(53709761, pk, 3, out);
	T_EQ_INT(n, 11);
	for (i = 0; i < n; i++) {
		T_EQ_STR(out[i].path, paths[i]);
		T_ASSERT(path_valid(out[i].path));
	}
	T_EQ_DBL(out[0].v, 1, 0);
	T_EQ_DBL(out[1].v, 0.001, 1e-12);
	T_EQ_DBL(out[3].v, 0.002, 1e-12);
	T_EQ_DBL(out[5].v, 0.003, 1e-12);
	T_EQ_DBL(out[6].v, 1.0, 1e-12);
	T_EQ_DBL(out[7].v, 0.001, 1e-12);
	T_EQ_DBL(out[8].v, 0.002, 1e-12);
	T_EQ_DBL(out[9].v, 0.003, 1e-12);
	/* Population stddev of {1, 2, 3} ms: sqrt(2/3) ms. */
	T_EQ_DBL(out[10].v, sqrt(2.0 / 3.0) * 0.001, 1e-12);
	/* Packet values carry their round's time, the summary the first. */
	T_EQ_DBL(out[0].t, 1700000000.5, 1e-6);
	T_EQ_DBL(out[1].t, 1700000000.5, 1e-6);
	T_EQ_DBL(out[4].t, 1700000002.5, 1e-6);
	T_EQ_DBL(out[5].t, 1700000002.5, 1e-6);
	for (i = 6; i < n; i++)
		T_EQ_DBL(out[i].t, 1700000000.5, 1e-6);
}

T_TEST(t_ping_values_none_answered)
{
	static const double rtt[] = {-1, -1, -1, -1};
	struct pingval_packet pk[4];
	struct pingval out[PINGVAL_MAX(4)];
	size_t n;

	t_ping_packets(pk, 4, rtt);
	n = pingval_build(7, pk, 4, out);
	/* p<i>.ok = 0 and success = 0; no rtt values of any kind. */
	T_EQ_INT(n, 5);
	T_EQ_STR(out[0].path, "entity.7.ping.p0.ok");
	T_EQ_STR(out[1].path, "entity.7.ping.p1.ok");
	T_EQ_STR(out[2].path, "entity.7.ping.p2.ok");
	T_EQ_STR(out[3].path, "entity.7.ping.p3.ok");
	T_EQ_STR(out[4].path, "entity.7.ping.success");
	T_EQ_DBL(out[0].v, 0, 0);
	T_EQ_DBL(out[3].v, 0, 0);
	T_EQ_DBL(out[4].v, 0, 0);
	T_EQ_DBL(out[3].t, 1700000003.5, 1e-6);
}

T_TEST(t_ping_values_partial)
{
	static const double rtt[] = {0.010, -1, 0.030, -1, -1};
	struct pingval_packet pk[5];
	struct pingval out[PINGVAL_MAX(5)];
	struct pingval_stats st;
	size_t n;

	t_ping_packets(pk, 5, rtt);
	n = pingval_build(2147483647, pk, 5, out);
	T_EQ_INT(n, 12);
	T_EQ_STR(out[0].path, "entity.2147483647.ping.p0.ok");
	T_EQ_STR(out[1].path, "entity.2147483647.ping.p0.rtt");
	T_EQ_STR(out[2].path, "entity.2147483647.ping.p1.ok");
	T_EQ_DBL(out[2].v, 0, 0);
	T_EQ_STR(out[3].path, "entity.2147483647.ping.p2.ok");
	T_EQ_STR(out[4].path, "entity.2147483647.ping.p2.rtt");
	T_EQ_DBL(out[4].v, 0.030, 1e-12);
	T_EQ_DBL(out[4].t, 1700000002.5, 1e-6);
	T_EQ_STR(out[5].path, "entity.2147483647.ping.p3.ok");
	T_EQ_STR(out[6].path, "entity.2147483647.ping.p4.ok");
	T_EQ_STR(out[7].path, "entity.2147483647.ping.success");
	T_EQ_DBL(out[7].v, 0.4, 1e-12);
	T_EQ_STR(out[8].path, "entity.2147483647.ping.rtt.min");
	T_EQ_DBL(out[8].v, 0.010, 1e-12);
	T_EQ_STR(out[9].path, "entity.2147483647.ping.rtt.avg");
	T_EQ_DBL(out[9].v, 0.020, 1e-12);
	T_EQ_STR(out[10].path, "entity.2147483647.ping.rtt.max");
	T_EQ_DBL(out[10].v, 0.030, 1e-12);
	T_EQ_STR(out[11].path, "entity.2147483647.ping.rtt.stddev");
	T_EQ_DBL(out[11].v, 0.010, 1e-12);

	pingval_stats(pk, 5, &st);
	T_EQ_INT(st.sent, 5);
	T_EQ_INT(st.answered, 2);
}

T_TEST(t_ping_values_single)
{
	static const double rtt[] = {0.0004};
	struct pingval_packet pk[1];
	struct pingval out[PINGVAL_MAX(1)];
	size_t n;

	t_ping_packets(pk, 1, rtt);
	n = pingval_build(1, pk, 1, out);
	T_EQ_INT(n, 7);
	T_EQ_STR(out[2].path, "entity.1.ping.success");
	T_EQ_DBL(out[2].v, 1, 0);
	T_EQ_DBL(out[3].v, 0.0004, 1e-12);
	T_EQ_DBL(out[4].v, 0.0004, 1e-12);
	T_EQ_DBL(out[5].v, 0.0004, 1e-12);
	T_EQ_STR(out[6].path, "entity.1.ping.rtt.stddev");
	T_EQ_DBL(out[6].v, 0, 0);
	T_EQ_INT(pingval_build(1, pk, 0, out), 0);
}

T_TEST(t_ping_values_max_packets)
{
	struct pingval_packet pk[PINGCFG_MAX_PACKETS];
	struct pingval out[PINGVAL_MAX(PINGCFG_MAX_PACKETS)];
	size_t i, n;

	for (i = 0; i < PINGCFG_MAX_PACKETS; i++) {
		pk[i].ok = 1;
		pk[i].rtt_s = 0.001 * (double)(i + 1);
		pk[i].t = 1700000000 + (double)i;
	}
	n = pingval_build(9223372036854775807LL, pk, PINGCFG_MAX_PACKETS, out);
	T_EQ_INT(n, PINGVAL_MAX(PINGCFG_MAX_PACKETS));
	T_EQ_STR(out[199].path, "entity.9223372036854775807.ping.p99.rtt");
	T_EQ_DBL(out[201].v, 0.001, 1e-12);  /* min */
	T_EQ_DBL(out[202].v, 0.0505, 1e-12); /* avg */
	T_EQ_DBL(out[203].v, 0.1, 1e-12);    /* max */
	for (i = 0; i < n; i++)
		T_ASSERT(path_valid(out[i].path));
}

T_TEST(t_ping_values_avg_stays_within_min_max)
{
	static const double rtt[] = {2.7e-05, 2.7e-05, 2.7e-05};
	struct pingval_packet pk[3];
	struct pingval_stats st;

	t_ping_packets(pk, 3, rtt);
	pingval_stats(pk, 3, &st);
	/* Summing and dividing alone gives 2.6999999999999996e-05. */
	T_ASSERT(st.min_s <= st.avg_s);
	T_ASSERT(st.avg_s <= st.max_s);
	T_EQ_DBL(st.avg_s, 2.7e-05, 0);
}

T_TEST(t_ping_cfg_duration_and_fit)
{
	struct pingcfg cfg = {
	    .n_packets = 3, .sleep_s = 1.0, .timeout_s = 2.0, .retry = 0};
	char msg[BOT_ERRLEN];

	/* Rounds back to back when the timeout is longer than the sleep;
	 * no sleep after the last round; retries share the timeout. */
	T_EQ_DBL(pingcfg_duration_s(&cfg), 6.0, 1e-9);
	cfg.sleep_s = 5;
	cfg.retry = 3;
	T_EQ_DBL(pingcfg_duration_s(&cfg), 12.0, 1e-9);
	T_EQ_DBL(pingcfg_slack_s(60), 1.0, 1e-12);
	T_EQ_DBL(pingcfg_slack_s(5), 0.5, 1e-12);

	/* Fits: unchanged, no message. */
	msg[0] = '\0';
	T_EQ_INT(pingcfg_fit(&cfg, 13, msg, sizeof(msg)), 0);
	T_EQ_INT(cfg.n_packets, 3);
	T_EQ_STR(msg, "");

	/* Fewer packets when the timeout alone fits. */
	T_EQ_INT(pingcfg_fit(&cfg, 10, msg, sizeof(msg)), 1);
	T_EQ_INT(cfg.n_packets, 2);
	T_EQ_DBL(cfg.timeout_s, 2.0, 1e-12);
	T_EQ_DBL(cfg.sleep_s, 5.0, 1e-12);
	T_EQ_INT(cfg.retry, 3);
	T_EQ_STR(msg,
	    "credential: 3 packets 5 s apart with a 2 s timeout "
	    "take up to 12 s, more than the job's 10 s interval; "
	    "sending 2 packets with a 2 s timeout instead");
	T_ASSERT(pingcfg_duration_s(&cfg) <= 10 - pingcfg_slack_s(10));

	/* The job B: even one packet would not fit. */
	cfg.n_packets = 100;
	cfg.sleep_s = 60;
	cfg.timeout_s = 60;
	cfg.retry = 0;
	T_EQ_INT(pingcfg_fit(&cfg, 60, msg, sizeof(msg)), 1);
	T_EQ_INT(cfg.n_packets, 1);
	T_EQ_DBL(cfg.timeout_s, 59.0, 1e-12);
	T_EQ_STR(msg,
	    "credential: 100 packets 60 s apart with a 60 s timeout "
	    "take up to 6000 s, more than the job's 60 s interval; "
	    "sending 1 packet with a 59 s timeout instead");

	cfg.n_packets = 1;
	cfg.timeout_s = 2;
	T_EQ_INT(pingcfg_fit(&cfg, 1, msg, sizeof(msg)), 1);
	T_EQ_DBL(cfg.timeout_s, 0.9, 1e-12);
	T_EQ_STR(msg,
	    "credential: 1 packet with a 2 s timeout takes up to "
	    "2 s, more than the job's 1 s interval; sending 1 packet "
	    "with a 0.9 s timeout instead");

	/* The test suite's and the benchmark's credentials fit. */
	cfg.n_packets = 3;
	cfg.sleep_s = 0.2;
	cfg.timeout_s = 0.5;
	cfg.retry = 0;
	T_EQ_INT(pingcfg_fit(&cfg, 2, msg, sizeof(msg)), 0);
	cfg.sleep_s = 1;
	cfg.timeout_s = 1;
	T_EQ_INT(pingcfg_fit(&cfg, 4, msg, sizeof(msg)), 0);
}
