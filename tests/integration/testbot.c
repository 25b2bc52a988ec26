/*
 * A bot for integration tests of the common runtime: for every due sensor
 * it emits entity.<id>.test.<sensor>.n (the job's run count) and, per due
 * interval, entity.<id>.test.due.<interval> = 1.  TESTBOT_PROTOCOL picks the
 * protocol it serves (default "ping"), TESTBOT_RUN_MS makes each run take
 * that long (on a loop timer, not blocking), TESTBOT_BAD_VALUES=1 adds an
 * invalid path and a NaN that the runtime must drop.  For delivery tests:
 * TESTBOT_VALUES=K adds entity.<id>.test.v.<i> = run count (i < K), all
 * stamped with one time per run; TESTBOT_MAX_RUNS=N makes runs after the
 * N-th emit nothing (and logs "testbot: job <id>: N runs done");
 * TESTBOT_INJECT_BAD_RUN=R puts system.injected.<id> into run R of every
 * job (or of job TESTBOT_INJECT_BAD_JOB only) behind run_emit's back, so
 * that only the backend can refuse it.  TESTBOT_DISCOVER_FILE names a file
 * of "<index> <name>" lines: every run then keeps the job's interface
 * entities in line with it through entsync (logging "testbot: job <id>:
 * discovery: C created, U updated, D deleted, F failed").
 * TESTBOT_ACCOUNT_INTERVALS="60,900" makes the jobs per account
 * (jobgroup.h) at those intervals; each run then also emits
 * entity.<account>.test.entities = the account's entity count.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"
#include "bot_test.h"
#include "entsync.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "settings.h"
#include "timer.h"
#include "xmalloc.h"

struct testbot_job {
	long runs;
	size_t n_entities; /* per-account jobs: the account's entities */
};

struct testbot_run {
	struct run *run;
	struct timer timer;
};

static int64_t testbot_run_ms;
static int testbot_bad;
static int64_t testbot_values;
static int64_t testbot_max_runs;
static int64_t testbot_inject_run;
static int64_t testbot_inject_job;

static struct bot_ops testbot_ops;
static const char *testbot_discover_file;
static struct entsync *testbot_es;
static int64_t testbot_discovering[64]; /* jobs with a discovery running */

static int
testbot_discovery_slot(int64_t id)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (testbot_discovering[i] == id)
			return (int)i;
	return -1;
}

static void
testbot_on_discovered(const struct entsync_result *res, void *arg)
{
	int64_t *slot = arg;

	log_info("testbot: job %lld: discovery: %zu created, %zu updated, %zu "
	         "deleted, %zu failed%s",
	    (long long)*slot, res->created, res->updated, res->deleted,
	    res->failed, res->refused ? " (refused)" : "");
	*slot = 0;
}

/* Reads the interface file into items; the caller frees names[i] and
 * items[i].details.  Returns how many. */
static size_t
testbot_read_interfaces(struct entsync_item *items, char **names, size_t cap)
{
	char line[256], name[128], idx[32];
	size_t n = 0;
	FILE *f;

	f = fopen(testbot_discover_file, "r");
	if (f == NULL)
		return 0;
	while (n < cap && fgets(line, sizeof(line), f) != NULL) {
		struct json_object *d;

		if (sscanf(line, "%31s %127s", idx, name) != 2)
			continue;
		d = json_object_new_object();
		json_object_object_add(
		    d, "snmp_index", json_object_new_string(idx));
		json_object_object_add(
		    d, "speed_bps", json_object_new_string("1000000"));
		names[n] = xstrdup(name);
		items[n].name = names[n];
		items[n].details = d;
		n++;
	}
	fclose(f);
	return n;
}

static void
testbot_discover(const struct job *job)
{
	struct entsync_item items[64];
	char *names[64];
	struct entsync_spec spec;
	size_t n, i;
	int slot;

	if (testbot_discover_file == NULL || bot_backend() == NULL ||
	    testbot_discovery_slot(job->id) != -1 ||
	    (slot = testbot_discovery_slot(0)) == -1)
		return;
	if (testbot_es == NULL)
		testbot_es = entsync_new(bot_backend(), "interface discovery");
	n = testbot_read_interfaces(items, names, 64);
	spec.account_id = job->account_id;
	spec.parent = job->id;
	spec.entity_type = "interface";
	spec.key_member = "snmp_index";
	spec.mode = ENTSYNC_MIRROR;
	if (entsync_run(testbot_es, &spec, items, n, testbot_on_discovered,
	        &testbot_discovering[slot]) == 0)
		testbot_discovering[slot] = job->id;
	for (i = 0; i < n; i++) {
		free(names[i]);
		json_object_put(items[i].details);
	}
}

static int testbot_account_intervals[8];

static void
testbot_parse_intervals(const char *text)
{
	size_t n = 0;
	char *end;
	long v;

	while (text != NULL && *text != '\0' && n < 8) {
		v = strtol(text, &end, 10);
		if (end == text || v < 1 || v > 86400)
			fatalx("TESTBOT_ACCOUNT_INTERVALS: bad list");
		testbot_account_intervals[n++] = (int)v;
		text = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0')
			fatalx("TESTBOT_ACCOUNT_INTERVALS: bad list");
	}
	if (n > 0) {
		testbot_ops.job_mode = BOT_JOBS_PER_ACCOUNT;
		testbot_ops.account_intervals_s = testbot_account_intervals;
		testbot_ops.n_account_intervals = n;
	}
}

static void
testbot_shutdown(void)
{
	entsync_free(testbot_es);
	testbot_es = NULL;
}

static int
testbot_prepare(struct job *job, char *err, size_t errlen)
{
	struct testbot_job *tj;

	(void)err;
	(void)errlen;
	tj = xcalloc(1, sizeof(*tj));
	if (testbot_ops.job_mode == BOT_JOBS_PER_ACCOUNT)
		tj->n_entities = json_object_array_length(job->details);
	job->priv = tj;
	job->priv_free = free;
	return 0;
}

static void
testbot_finish(struct run *run)
{
	struct job *job = run_job(run);
	struct testbot_job *tj = job->priv;
	const int *due;
	char path[128];
	size_t i, n_due;
	int64_t k;
	double t;

	tj->runs++;
	testbot_discover(job);
	if (testbot_max_runs > 0 && tj->runs > testbot_max_runs) {
		run_done(run);
		return;
	}
	for (i = 0; i < job->n_sensors; i++) {
		if (!run_sensor_due(run, &job->sensors[i]))
			continue;
		snprintf(path, sizeof(path), "entity.%lld.test.%lld.n",
		    (long long)job->id, (long long)job->sensors[i].id);
		run_emit(run, path, (double)tj->runs);
	}
	if (testbot_ops.account_intervals_s != NULL) {
		snprintf(path, sizeof(path), "entity.%lld.test.entities",
		    (long long)job->id);
		run_emit(run, path, (double)tj->n_entities);
	}
	due = run_due(run, &n_due);
	for (i = 0; i < n_due; i++) {
		snprintf(path, sizeof(path), "entity.%lld.test.due.%d",
		    (long long)job->id, due[i]);
		run_emit(run, path, 1);
	}
	if (testbot_bad) {
		run_emit(run, "system.bad path", 1);
		snprintf(path, sizeof(path), "entity.%lld.test.nan",
		    (long long)job->id);
		run_emit(run, path, NAN);
	}
	t = timer_wall_s();
	for (k = 0; k < testbot_values; k++) {
		snprintf(path, sizeof(path), "entity.%lld.test.v.%lld",
		    (long long)job->id, (long long)k);
		run_emit_at(run, path, (double)tj->runs, t);
	}
	if (tj->runs == testbot_inject_run &&
	    (testbot_inject_job == 0 || testbot_inject_job == job->id)) {
		snprintf(path, sizeof(path), "system.injected.%lld",
		    (long long)job->id);
		run_emit_unchecked(run, path, 1, t);
	}
	if (testbot_max_runs > 0 && tj->runs == testbot_max_runs)
		log_info("testbot: job %lld: %ld runs done", (long long)job->id,
		    tj->runs);
	run_done(run);
}

static void
testbot_on_timer(struct timer *t, void *arg)
{
	struct testbot_run *tr = arg;

	(void)t;
	testbot_finish(tr->run);
	free(tr);
}

static void
testbot_run(struct run *run)
{
	struct testbot_run *tr;

	if (testbot_run_ms == 0) {
		testbot_finish(run);
		return;
	}
	tr = xcalloc(1, sizeof(*tr));
	tr->run = run;
	timer_init(&tr->timer, testbot_on_timer, tr);
	loop_timer_start(bot_loop(), &tr->timer, testbot_run_ms);
}

static const struct setting testbot_settings[] = {
    {"TESTBOT_PROTOCOL", "ping", 0, 0, "protocol to serve"},
    {"TESTBOT_RUN_MS", "0", 0, 3600000, "how long each run takes"},
    {"TESTBOT_BAD_VALUES", "0", 0, 0, "1 = also emit values to be dropped"},
    {"TESTBOT_VALUES", "0", 0, 1000, "extra values per run, one time"},
    {"TESTBOT_MAX_RUNS", "0", 0, 1000000, "runs that emit values (0 = all)"},
    {"TESTBOT_INJECT_BAD_RUN", "0", 0, 1000000,
        "run that adds an unchecked bad path"},
    {"TESTBOT_INJECT_BAD_JOB", "0", 0, INT64_MAX,
        "... in this job only (0 = all)"},
    {"TESTBOT_DISCOVER_FILE", NULL, 0, 0,
        "\"<index> <name>\" lines: interface entities to keep under each "
        "job"},
    {"TESTBOT_ACCOUNT_INTERVALS", NULL, 0, 0,
        "\"60,900\": one job per account"},
    {NULL, NULL, 0, 0, NULL},
};

static struct bot_ops testbot_ops = {
    .name = "testbot",
    .protocol = "ping",
    .summary = "Emits counters for every run: a test bot for the runtime.",
    .settings = testbot_settings,
    .job_prepare = testbot_prepare,
    .job_run = testbot_run,
    .shutdown = testbot_shutdown,
};

int
main(int argc, char **argv)
{
	const struct setting *t = testbot_settings;

	testbot_ops.protocol = settings_str(t, "TESTBOT_PROTOCOL");
	testbot_run_ms = settings_int(t, "TESTBOT_RUN_MS");
	testbot_bad = settings_bool(t, "TESTBOT_BAD_VALUES");
	testbot_values = settings_int(t, "TESTBOT_VALUES");
	testbot_max_runs = settings_int(t, "TESTBOT_MAX_RUNS");
	testbot_inject_run = settings_int(t, "TESTBOT_INJECT_BAD_RUN");
	testbot_inject_job = settings_int(t, "TESTBOT_INJECT_BAD_JOB");
	testbot_discover_file = settings_str(t, "TESTBOT_DISCOVER_FILE");
	testbot_parse_intervals(settings_str(t, "TESTBOT_ACCOUNT_INTERVALS"));
	return bot_main(argc, argv, &testbot_ops);
}
