/*
 * A bot for integration tests of the common runtime: for every due sensor
 * it emits entity.<id>.test.<sensor>.n (the job's run count) and, per due
 * interval, entity.<id>.test.due.<interval> = 1.  TESTBOT_PROTOCOL picks the
 * protocol it serves (default "ping"), TESTBOT_RUN_MS makes each run take
 * that long (on a loop timer, not blocking), TESTBOT_BAD_VALUES=1 adds an
 * invalid path and a NaN that the runtime must drop.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bot.h"
#include "env.h"
#include "jobs.h"
#include "loop.h"
#include "xmalloc.h"

struct testbot_job {
	long runs;
};

struct testbot_run {
	struct run *run;
	struct timer timer;
};

static int64_t testbot_run_ms;
static int testbot_bad;

static int
testbot_prepare(struct job *job, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	job->priv = xcalloc(1, sizeof(struct testbot_job));
	job->priv_free = free;
	return 0;
}

static void
testbot_finish(struct run *run)
{
	struct testbot_job *tj = run->job->priv;
	char path[128];
	size_t i;

	tj->runs++;
	for (i = 0; i < run->job->n_sensors; i++) {
		if (!run_sensor_due(run, &run->job->sensors[i]))
			continue;
		snprintf(path, sizeof(path), "entity.%lld.test.%lld.n",
		    (long long)run->job->id,
		    (long long)run->job->sensors[i].id);
		run_emit(run, path, (double)tj->runs);
	}
	for (i = 0; i < run->n_due; i++) {
		snprintf(path, sizeof(path), "entity.%lld.test.due.%d",
		    (long long)run->job->id, run->due_s[i]);
		run_emit(run, path, 1);
	}
	if (testbot_bad) {
		run_emit(run, "system.bad path", 1);
		snprintf(path, sizeof(path), "entity.%lld.test.nan",
		    (long long)run->job->id);
		run_emit(run, path, NAN);
	}
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

static struct bot_ops testbot_ops = {
    .name = "testbot",
    .protocol = "ping",
    .summary = "Emits counters for every run: a test bot for the runtime.",
    .env_help = "  TESTBOT_PROTOCOL       protocol to serve (ping)\n"
                "  TESTBOT_RUN_MS         how long each run takes (0)\n"
                "  TESTBOT_BAD_VALUES     1 = also emit values to be dropped\n",
    .job_prepare = testbot_prepare,
    .job_run = testbot_run,
};

int
main(int argc, char **argv)
{
	testbot_ops.protocol = env_str("TESTBOT_PROTOCOL", "ping");
	testbot_run_ms = env_int("TESTBOT_RUN_MS", 0, 0, 3600000);
	testbot_bad = env_bool("TESTBOT_BAD_VALUES", 0);
	return bot_main(argc, argv, &testbot_ops);
}
