/*
 * Unit tests for pingcfg_parse_memo: through the memo every credential
 * gives exactly what a fresh pingcfg_parse gives (values, return code and
 * error text), whether the same object comes again, two objects alternate,
 * or the object remembered is dropped by its owner and others are made;
 * and the memo's reference is released when it moves on or is cleared
 * (json-c's userdata delete hook says when an object is freed).
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pingbot/pingbot.h"
#include "../../../pingbot/pingcfg.h"
#include "../t.h"
#include "jobs.h"

/* Checks the memo's answer for cred against a fresh parse of the same
 * object; returns 0 (t_fail said what differs otherwise). */
static int
t_memo_same(struct pingcfg_memo *m, struct json_object *cred)
{
	struct pingcfg got, want;
	char got_err[BOT_ERRLEN], want_err[BOT_ERRLEN];
	int got_rc, want_rc;

	memset(&got, 0xa5, sizeof(got));
	memset(&want, 0xa5, sizeof(want));
	got_err[0] = want_err[0] = '\0';
	want_rc = pingcfg_parse(cred, &want, want_err, sizeof(want_err));
	got_rc = pingcfg_parse_memo(m, cred, &got, got_err, sizeof(got_err));
	if (got_rc != want_rc || strcmp(got_err, want_err) != 0 ||
	    (want_rc == 0 && memcmp(&got, &want, sizeof(got)) != 0)) {
		t_fail(__FILE__, __LINE__,
		    "%s: rc %d \"%s\" n %d sleep %g timeout %g retry %d; "
		    "fresh: rc %d \"%s\" n %d sleep %g timeout %g retry %d",
		    cred != NULL ? json_object_to_json_string(cred) : "NULL",
		    got_rc, got_err, got.n_packets, got.sleep_s, got.timeout_s,
		    got.retry, want_rc, want_err, want.n_packets, want.sleep_s,
		    want.timeout_s, want.retry);
		return -1;
	}
	return 0;
}

static const char *const t_memo_texts[] = {
    "{\"n_packets\": \"3\", \"sleep_packets\": \"1.0\", \"timeout\": "
    "\"1.0\", \"retry\": \"0\"}",
    "{\"n_packets\": \"10\", \"sleep_packets\": \"0.25\", \"timeout\": "
    "\"0.5\", \"retry\": \"2\"}",
    "{\"n_packets\": 5, \"sleep_packets\": 0, \"timeout\": 0.01, "
    "\"retry\": 10}",
    "{}",
    "{\"n_packets\": \"7\", \"timeout\": \"\", \"retry\": null}",
    "{\"n_packets\": \"abc\"}",
    "{\"timeout\": 61}",
    "{\"retry\": \"11\"}",
    "[1, 2]",
};
#define T_MEMO_N (sizeof(t_memo_texts) / sizeof(t_memo_texts[0]))

T_TEST(t_pingcfg_memo_same_as_fresh)
{
	struct pingcfg_memo m;
	struct json_object *o[T_MEMO_N];
	size_t i, j;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < T_MEMO_N; i++)
		o[i] = t_json(t_memo_texts[i]);
	/* Each object three times in a row, then in turns: every pair
	 * alternating (a hit, a miss, a failure between two hits). */
	for (i = 0; i < T_MEMO_N; i++)
		for (j = 0; j < 3; j++)
			if (t_memo_same(&m, o[i]) != 0)
				goto out;
	for (i = 0; i < T_MEMO_N; i++)
		for (j = 0; j < T_MEMO_N; j++)
			if (t_memo_same(&m, o[i]) != 0 ||
			    t_memo_same(&m, o[j]) != 0 ||
			    t_memo_same(&m, o[i]) != 0)
				goto out;
	if (t_memo_same(&m, NULL) != 0 || t_memo_same(&m, o[0]) != 0 ||
	    t_memo_same(&m, NULL) != 0)
		goto out;
out:
	pingcfg_memo_clear(&m);
	T_ASSERT(m.cred == NULL);
	for (i = 0; i < T_MEMO_N; i++)
		json_object_put(o[i]);
}

/* Counts objects freed (json-c calls it as an object goes). */
static int t_memo_freed;

static void
t_memo_on_free(struct json_object *o, void *userdata)
{
	(void)o;
	(void)userdata;
	t_memo_freed++;
}

T_TEST(t_pingcfg_memo_reference)
{
	struct pingcfg_memo m;
	struct pingcfg cfg, first;
	struct json_object *a, *b;
	char err[BOT_ERRLEN];
	int i;

	memset(&m, 0, sizeof(m));
	t_memo_freed = 0;
	a = t_json(t_memo_texts[1]);
	json_object_set_userdata(a, NULL, t_memo_on_free);
	T_EQ_INT(pingcfg_parse_memo(&m, a, &first, err, sizeof(err)), 0);
	T_EQ_INT(first.n_packets, 10);
	/* Fitting a job's copy leaves the remembered result alone. */
	T_EQ_INT(pingcfg_fit(&first, 2, err, sizeof(err)), 1);
	T_EQ_INT(pingcfg_parse_memo(&m, a, &cfg, err, sizeof(err)), 0);
	T_EQ_INT(cfg.n_packets, 10);
	T_EQ_DBL(cfg.timeout_s, 0.5, 1e-12);

	/* Its owner lets go: the memo keeps it, so no object made now can
	 * take its address and pass for it. */
	json_object_put(a);
	T_EQ_INT(t_memo_freed, 0);
	for (i = 0; i < 200; i++) {
		/* Alternating values in one shape, so that an object made
		 * where the one before was (freed but for the memo's hold)
		 * would show. */
		b = t_json(i % 2 == 0 ? "{\"n_packets\": \"4\"}"
		                      : "{\"n_packets\": \"5\"}");
		if (i == 0)
			T_ASSERT(b != a);
		if (t_memo_same(&m, b) != 0) {
			json_object_put(b);
			return;
		}
		/* The first other object took a's place in the memo. */
		if (i == 0)
			T_EQ_INT(t_memo_freed, 1);
		json_object_put(b);
	}
	T_EQ_INT(t_memo_freed, 1);

	/* A failure leaves the memo as it was; clearing drops it. */
	a = t_json(t_memo_texts[0]);
	json_object_set_userdata(a, NULL, t_memo_on_free);
	T_EQ_INT(pingcfg_parse_memo(&m, a, &cfg, err, sizeof(err)), 0);
	b = t_json(t_memo_texts[5]);
	T_EQ_INT(pingcfg_parse_memo(&m, b, &cfg, err, sizeof(err)), -1);
	T_EQ_STR(err, "credential: n_packets must be a number, got \"abc\"");
	json_object_put(b);
	T_ASSERT(m.cred == a);
	json_object_put(a);
	T_EQ_INT(t_memo_freed, 1);
	pingcfg_memo_clear(&m);
	T_EQ_INT(t_memo_freed, 2);
	T_ASSERT(m.cred == NULL);
	pingcfg_memo_clear(&m); /* twice is harmless */
}

T_TEST(t_pingcfg_memo_in_prepare)
{
	struct job job;
	struct json_object *cred;
	char err[BOT_ERRLEN];
	int i;

	/* Jobs sharing one credential object, as jobfetch makes them; the
	 * bot's shutdown lets the credential go. */
	t_memo_freed = 0;
	cred = t_json("{\"n_packets\": \"2\"}");
	json_object_set_userdata(cred, NULL, t_memo_on_free);
	for (i = 0; i < 3; i++) {
		memset(&job, 0, sizeof(job));
		job.id = 40 + i;
		job.details = t_json("{\"ipv4\": \"127.0.0.1\"}");
		job.credential = json_object_get(cred);
		T_EQ_INT(pingbot_ops.job_prepare(&job, err, sizeof(err)), 0);
		job.priv_free(job.priv);
		json_object_put(job.details);
		json_object_put(job.credential);
	}
	json_object_put(cred);
	T_EQ_INT(t_memo_freed, 0);
	pingbot_ops.shutdown();
	T_EQ_INT(t_memo_freed, 1);
}
