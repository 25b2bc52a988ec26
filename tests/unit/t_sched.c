/*
 * Unit tests for sched.c on a real loop with a fake monotonic clock: the
 * clock is moved by hand and loop_run_timers fires what is due, so fire
 * times, "affecting intervals", skips and phase are checked exactly and
 * without sleeping.  Jobs come from entity JSON through jobs_from_entity.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "jobs.h"
#include "loop.h"
#include "sched.h"
#include "t.h"
#include "timer.h"

#define T0      1000000 /* the fake clock's start, in ms */
#define MAX_IDS 256

static int64_t fake_ms;

static int64_t
fake_clock(void)
{
	return fake_ms;
}

/* One scheduler on one loop, and what it ran. */
struct fx {
	struct loop *l;
	struct sched *s;
	int auto_done;    /* call sched_done from the run callback */
	int keep_ref;     /* hold a job reference while a run is "busy" */
	struct job *busy; /* the held reference */
	size_t nruns;
	size_t count[MAX_IDS]; /* runs per job id */
	int64_t first_ms[MAX_IDS];
	char log[4096]; /* "id@offset_ms[due,...] " per run */
};

static struct fx fx;

static void
run_cb(struct job *job, const int *due_s, size_t n_due, void *arg)
{
	struct fx *f = arg;
	size_t len = strlen(f->log), i;

	f->nruns++;
	if (job->id >= 0 && job->id < MAX_IDS) {
		if (f->count[job->id]++ == 0)
			f->first_ms[job->id] = fake_ms - T0;
	}
	if (len + 64 < sizeof(f->log)) {
		len += (size_t)snprintf(f->log + len, sizeof(f->log) - len,
		    "%lld@%lld[", (long long)job->id,
		    (long long)(fake_ms - T0));
		for (i = 0; i < n_due && len + 16 < sizeof(f->log); i++)
			len +=
			    (size_t)snprintf(f->log + len, sizeof(f->log) - len,
			        "%s%d", i ? "," : "", due_s[i]);
		snprintf(f->log + len, sizeof(f->log) - len, "] ");
	}
	if (f->keep_ref && f->busy == NULL)
		f->busy = job_ref(job);
	if (f->auto_done)
		sched_done(f->s, job);
}

static void
fx_init(int64_t spread_ms)
{
	memset(&fx, 0, sizeof(fx));
	fx.auto_done = 1;
	fake_ms = T0;
	timer_set_clock(fake_clock);
	fx.l = loop_new();
	fx.s = sched_new(fx.l, run_cb, &fx, spread_ms);
}

static void
fx_release(void)
{
	sched_free(fx.s);
	loop_free(fx.l);
	job_unref(fx.busy);
	fx.busy = NULL;
	timer_set_clock(NULL);
}

/* Moves the fake clock to T0 + at_ms and fires what is due. */
static void
at(int64_t at_ms)
{
	fake_ms = T0 + at_ms;
	loop_run_timers(fx.l);
}

/* Walks the clock from its position to T0 + to_ms in step_ms steps. */
static void
walk(int64_t to_ms, int64_t step_ms)
{
	int64_t t = fake_ms - T0;

	while (t < to_ms) {
		t += step_ms;
		if (t > to_ms)
			t = to_ms;
		at(t);
	}
}

/* Builds a resolved ping entity whose sensors have the given default
 * intervals; tag changes the credential so the fingerprint changes. */
static struct job *
mkjob(int64_t id, int64_t account, const int *iv, size_t n, int tag)
{
	char text[4096], err[BOT_ERRLEN];
	struct json_object *obj;
	struct job *job = NULL;
	size_t len, i;

	len = (size_t)snprintf(text, sizeof(text),
	    "{\"id\": %lld, \"name\": \"dev%lld\", \"entity_type\": "
	    "\"device\", \"details\": {\"ipv4\": \"192.0.2.1\"}, "
	    "\"protocols\": {\"ping\": {\"credential\": {\"id\": 9, "
	    "\"details\": {\"n_packets\": \"3\", \"tag\": %d}}, \"bot\": "
	    "null, \"sensors\": [",
	    (long long)id, (long long)id, tag);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "%s{\"sensor\": {\"id\": %zu, \"default_interval\": %d, "
		    "\"details\": {}}, \"interval\": null}",
		    i ? ", " : "", 100 + i, iv[i]);
	snprintf(text + len, sizeof(text) - len, "]}}}");
	obj = json_tokener_parse(text);
	if (obj == NULL)
		return NULL;
	if (jobs_from_entity(
	        obj, account, "ping", -1, &job, err, sizeof(err)) != JOBS_OK) {
		fprintf(stdout, "    mkjob: %s\n", err);
		job = NULL;
	}
	json_object_put(obj);
	return job;
}

/* Applies an update made of the listed jobs. */
static void
apply(struct job **jobs, size_t n, struct sched_stats *st)
{
	struct job_update u;
	size_t i;

	job_update_init(&u);
	for (i = 0; i < n; i++)
		job_update_add(&u, jobs[i]);
	sched_apply(fx.s, &u, st);
	job_update_release(&u);
}

T_TEST(sched_intervals_30_120_due_lists)
{
	static const int iv[] = {120, 30};
	struct job *j;
	struct sched_counters c;

	fx_init(0);
	j = mkjob(1, 1, iv, 2, 0);
	T_ASSERT(j != NULL);
	T_EQ_INT(j->n_intervals, 2);
	apply(&j, 1, NULL);
	T_EQ_INT(sched_job_count(fx.s), 1);
	T_ASSERT(sched_find(fx.s, 1) != NULL);
	at(0);
	T_EQ_STR(fx.log, "1@0[30,120] ");
	walk(240000, 1000);
	T_EQ_STR(fx.log,
	    "1@0[30,120] 1@30000[30] 1@60000[30] 1@90000[30] "
	    "1@120000[30,120] 1@150000[30] 1@180000[30] 1@210000[30] "
	    "1@240000[30,120] ");
	sched_get_counters(fx.s, &c);
	T_EQ_INT(c.runs, 9);
	T_EQ_INT(c.skipped, 0);
	T_EQ_INT(c.late, 0);
	T_EQ_INT(sched_running(fx.s), 0);
	fx_release();
}

T_TEST(sched_nothing_fires_between_ticks)
{
	static const int iv[] = {30};
	struct job *j;

	fx_init(0);
	j = mkjob(1, 1, iv, 1, 0);
	T_ASSERT(j != NULL);
	apply(&j, 1, NULL);
	at(0);
	at(29999);
	T_EQ_STR(fx.log, "1@0[30] ");
	at(30000);
	at(30000);
	T_EQ_STR(fx.log, "1@0[30] 1@30000[30] ");
	fx_release();
}

T_TEST(sched_spread_zero_runs_new_job_at_once)
{
	static const int iv[] = {60};
	struct job *j[2];

	fx_init(0);
	at(5000);
	j[0] = mkjob(1, 1, iv, 1, 0);
	j[1] = mkjob(2, 1, iv, 1, 0);
	T_ASSERT(j[0] != NULL && j[1] != NULL);
	apply(j, 2, NULL);
	at(5000);
	T_EQ_STR(fx.log, "1@5000[60] 2@5000[60] ");
	fx_release();
}

T_TEST(sched_spread_bounded_by_smallest_interval)
{
	static const int iv[] = {300, 10};
	struct job *jobs[200];
	int64_t id, lo = INT64_MAX, hi = -1;
	size_t i;

	/* A one-hour spread is cut to the 10 s interval. */
	fx_init(3600 * 1000);
	for (i = 0; i < 200; i++) {
		jobs[i] = mkjob((int64_t)i + 1, 1, iv, 2, 0);
		T_ASSERT(jobs[i] != NULL);
	}
	apply(jobs, 200, NULL);
	walk(9999, 1);
	for (id = 1; id <= 200; id++) {
		T_EQ_INT(fx.count[id], 1);
		if (fx.first_ms[id] < lo)
			lo = fx.first_ms[id];
		if (fx.first_ms[id] > hi)
			hi = fx.first_ms[id];
	}
	T_ASSERT(lo >= 0);
	T_ASSERT(hi < 10000);
	/* 200 random starts in 10 s do not all land together. */
	T_ASSERT(hi - lo >= 1000);
	fx_release();

	/* A spread below the smallest interval bounds the window itself. */
	fx_init(2000);
	for (i = 0; i < 100; i++) {
		jobs[i] = mkjob((int64_t)i + 1, 1, iv, 2, 0);
		T_ASSERT(jobs[i] != NULL);
	}
	apply(jobs, 100, NULL);
	walk(1999, 1);
	T_EQ_INT(fx.nruns, 100);
	for (id = 1; id <= 100; id++)
		T_EQ_INT(fx.count[id], 1);
	/* Every job's later ticks keep its own phase. */
	walk(11999, 1);
	T_EQ_INT(fx.nruns, 200);
	fx_release();
}

T_TEST(sched_busy_job_skips_tick)
{
	static const int iv[] = {10};
	struct sched_counters c;
	struct job *j;

	fx_init(0);
	fx.auto_done = 0;
	j = mkjob(1, 1, iv, 1, 0);
	T_ASSERT(j != NULL);
	apply(&j, 1, NULL);
	at(0);
	T_EQ_INT(sched_running(fx.s), 1);
	at(10000);
	at(20000);
	T_EQ_STR(fx.log, "1@0[10] ");
	sched_get_counters(fx.s, &c);
	T_EQ_INT(c.runs, 1);
	T_EQ_INT(c.skipped, 2);
	sched_done(fx.s, j);
	T_EQ_INT(sched_running(fx.s), 0);
	/* A second sched_done for the same run changes nothing. */
	sched_done(fx.s, j);
	T_EQ_INT(sched_running(fx.s), 0);
	fx.auto_done = 1;
	at(25000);
	at(30000);
	T_EQ_STR(fx.log, "1@0[10] 1@30000[10] ");
	sched_get_counters(fx.s, &c);
	T_EQ_INT(c.runs, 2);
	T_EQ_INT(c.skipped, 2);
	fx_release();
}

T_TEST(sched_apply_diffs_and_keeps_phase)
{
	static const int i30[] = {30}, i60[] = {60};
	struct job *j[6];
	struct sched_stats st;
	struct job_update u;
	struct job *a_before;

	fx_init(0);
	j[0] = mkjob(1, 1, i30, 1, 0); /* unchanged */
	j[1] = mkjob(2, 1, i30, 1, 0); /* changed */
	j[2] = mkjob(3, 1, i30, 1, 0); /* removed */
	j[3] = mkjob(4, 1, i30, 1, 0); /* absent, kept by entity */
	j[4] = mkjob(5, 2, i30, 1, 0); /* absent, kept by account */
	j[5] = mkjob(6, 1, i30, 1, 0); /* credential detail changes */
	T_ASSERT(j[0] && j[1] && j[2] && j[3] && j[4] && j[5]);
	apply(j, 6, &st);
	T_EQ_INT(st.added, 6);
	at(0);
	T_EQ_INT(fx.nruns, 6);
	a_before = sched_find(fx.s, 1);

	at(10000);
	fx.log[0] = '\0';
	job_update_init(&u);
	job_update_add(&u, mkjob(1, 1, i30, 1, 0));
	job_update_add(&u, mkjob(2, 1, i60, 1, 0));
	job_update_add(&u, mkjob(6, 1, i30, 1, 1));
	job_update_add(&u, mkjob(7, 1, i30, 1, 0)); /* new */
	job_update_keep(&u, -1, 4);
	job_update_keep_account(&u, 2);
	T_ASSERT(u.jobs[0] && u.jobs[1] && u.jobs[2] && u.jobs[3]);
	sched_apply(fx.s, &u, &st);
	T_EQ_INT(u.n_jobs, 0);
	job_update_release(&u);
	T_EQ_INT(st.added, 1);
	T_EQ_INT(st.changed, 2);
	T_EQ_INT(st.removed, 1);
	T_EQ_INT(st.kept, 3);
	T_EQ_INT(sched_job_count(fx.s), 6);
	T_ASSERT(sched_find(fx.s, 3) == NULL);
	/* The unchanged job is the same object, still on its old phase. */
	T_ASSERT(sched_find(fx.s, 1) == a_before);
	T_EQ_INT(sched_find(fx.s, 2)->intervals_s[0], 60);

	/* Changed and new jobs start over (spread 0: at once). */
	at(10000);
	T_EQ_STR(fx.log, "2@10000[60] 6@10000[30] 7@10000[30] ");
	fx.log[0] = '\0';
	at(30000);
	T_EQ_STR(fx.log, "1@30000[30] 4@30000[30] 5@30000[30] ");
	fx.log[0] = '\0';
	walk(70000, 1000);
	T_EQ_STR(fx.log,
	    "6@40000[30] 7@40000[30] 1@60000[30] 4@60000[30] 5@60000[30] "
	    "2@70000[60] 6@70000[30] 7@70000[30] ");

	/* An update without keep lists drops the absent ones. */
	fx.log[0] = '\0';
	j[0] = mkjob(1, 1, i30, 1, 0);
	T_ASSERT(j[0] != NULL);
	apply(j, 1, &st);
	T_EQ_INT(st.kept, 1);
	T_EQ_INT(st.removed, 5);
	T_EQ_INT(sched_job_count(fx.s), 1);
	walk(130000, 1000);
	T_EQ_STR(fx.log, "1@90000[30] 1@120000[30] ");
	fx_release();
}

T_TEST(sched_apply_keep_lists_unsorted)
{
	static const int iv[] = {30};
	struct job *j[5];
	struct sched_stats st;
	struct job_update u;
	int64_t id;

	fx_init(0);
	for (id = 1; id <= 5; id++) {
		j[id - 1] = mkjob(id * 10, id <= 3 ? 1 : 3, iv, 1, 0);
		T_ASSERT(j[id - 1] != NULL);
	}
	apply(j, 5, NULL);
	at(0);
	/* Only keep lists, in no particular order: 10, 20 and 30 by
	 * entity (and 40 by account 3, which also keeps 50). */
	job_update_init(&u);
	job_update_keep(&u, -1, 30);
	job_update_keep(&u, -1, 10);
	job_update_keep(&u, -1, 99);
	job_update_keep(&u, -1, 20);
	job_update_keep_account(&u, 2);
	job_update_keep_account(&u, 3);
	sched_apply(fx.s, &u, &st);
	job_update_release(&u);
	T_EQ_INT(st.kept, 5);
	T_EQ_INT(st.removed, 0);
	T_EQ_INT(sched_job_count(fx.s), 5);
	/* Without the account, 40 and 50 go. */
	job_update_init(&u);
	job_update_keep(&u, -1, 20);
	job_update_keep(&u, -1, 10);
	job_update_keep(&u, -1, 30);
	sched_apply(fx.s, &u, &st);
	job_update_release(&u);
	T_EQ_INT(st.kept, 3);
	T_EQ_INT(st.removed, 2);
	T_ASSERT(sched_find(fx.s, 40) == NULL);
	T_ASSERT(sched_find(fx.s, 30) != NULL);
	fx.log[0] = '\0';
	at(30000);
	T_EQ_STR(fx.log, "10@30000[30] 20@30000[30] 30@30000[30] ");
	fx_release();
}

T_TEST(sched_apply_account_change_reschedules)
{
	static const int iv[] = {30};
	struct sched_stats st;
	struct job *j;

	fx_init(0);
	j = mkjob(1, 1, iv, 1, 0);
	T_ASSERT(j != NULL);
	apply(&j, 1, NULL);
	at(0);
	at(5000);
	/* Same content, other account: not the same job. */
	j = mkjob(1, 2, iv, 1, 0);
	T_ASSERT(j != NULL);
	apply(&j, 1, &st);
	T_EQ_INT(st.changed, 1);
	at(5000);
	T_EQ_STR(fx.log, "1@0[30] 1@5000[30] ");
	T_EQ_INT(sched_find(fx.s, 1)->account_id, 2);
	fx_release();
}

T_TEST(sched_apply_duplicate_ids)
{
	static const int iv[] = {30};
	struct job *j[4];
	struct sched_stats st;

	/* The copies are identical: which one survives is up to qsort's
	 * (in)stability and not part of the contract tested here. */
	fx_init(0);
	j[0] = mkjob(7, 1, iv, 1, 0);
	j[1] = mkjob(3, 1, iv, 1, 0);
	j[2] = mkjob(7, 1, iv, 1, 0);
	j[3] = mkjob(7, 1, iv, 1, 0);
	T_ASSERT(j[0] && j[1] && j[2] && j[3]);
	apply(j, 4, &st);
	T_EQ_INT(st.added, 2);
	T_EQ_INT(sched_job_count(fx.s), 2);
	at(0);
	T_EQ_STR(fx.log, "3@0[30] 7@0[30] ");

	/* Duplicates of an already scheduled job. */
	fx.log[0] = '\0';
	j[0] = mkjob(7, 1, iv, 1, 0);
	j[1] = mkjob(7, 1, iv, 1, 0);
	j[2] = mkjob(3, 1, iv, 1, 0);
	j[3] = mkjob(3, 1, iv, 1, 0);
	T_ASSERT(j[0] && j[1] && j[2] && j[3]);
	apply(j, 4, &st);
	T_EQ_INT(st.kept, 2);
	T_EQ_INT(st.added + st.changed + st.removed, 0);
	T_EQ_INT(sched_job_count(fx.s), 2);
	walk(30000, 1000);
	T_EQ_STR(fx.log, "3@30000[30] 7@30000[30] ");
	fx_release();
}

T_TEST(sched_late_tick_runs_once_keeps_phase)
{
	static const int iv[] = {10};
	struct sched_counters c;
	struct job *j;

	fx_init(0);
	j = mkjob(1, 1, iv, 1, 0);
	T_ASSERT(j != NULL);
	apply(&j, 1, NULL);
	at(0);
	/* The clock jumps over ten ticks (10 s .. 100 s). */
	at(100500);
	T_EQ_STR(fx.log, "1@0[10] 1@100500[10] ");
	sched_get_counters(fx.s, &c);
	T_EQ_INT(c.runs, 2);
	T_EQ_INT(c.skipped, 9);
	T_EQ_INT(c.late, 1);
	/* The phase stays on multiples of 10 s from the start. */
	at(109999);
	T_EQ_STR(fx.log, "1@0[10] 1@100500[10] ");
	at(110000);
	T_EQ_STR(fx.log, "1@0[10] 1@100500[10] 1@110000[10] ");
	sched_get_counters(fx.s, &c);
	T_EQ_INT(c.skipped, 9);
	T_EQ_INT(c.late, 1);
	fx_release();
}

T_TEST(sched_late_tick_multiple_intervals)
{
	static const int iv[] = {30, 120};
	struct sched_counters c;
	struct job *j;

	fx_init(0);
	j = mkjob(1, 1, iv, 2, 0);
	T_ASSERT(j != NULL);
	apply(&j, 1, NULL);
	at(0);
	/* 30 s ticks 30..240 are due (8), 120 s ticks 120 and 240 (2). */
	at(250000);
	T_EQ_STR(fx.log, "1@0[30,120] 1@250000[30,120] ");
	sched_get_counters(fx.s, &c);
	T_EQ_INT(c.skipped, 7 + 1);
	walk(360000, 1000);
	T_EQ_STR(fx.log,
	    "1@0[30,120] 1@250000[30,120] 1@270000[30] 1@300000[30] "
	    "1@330000[30] 1@360000[30,120] ");
	fx_release();
}

T_TEST(sched_run_all_once_each_job)
{
	static const int a[] = {30, 120}, b[] = {60}, d[] = {3600, 10, 20};
	struct job *j[3];
	struct sched_counters c;

	fx_init(3600 * 1000);
	j[0] = mkjob(1, 1, a, 2, 0);
	j[1] = mkjob(2, 1, b, 1, 0);
	j[2] = mkjob(3, 1, d, 3, 0);
	T_ASSERT(j[0] && j[1] && j[2]);
	apply(j, 3, NULL);
	sched_run_all_once(fx.s);
	T_EQ_STR(fx.log, "1@0[30,120] 2@0[60] 3@0[10,20,3600] ");
	walk(2 * 3600 * 1000, 5000);
	T_EQ_INT(fx.nruns, 3);
	sched_get_counters(fx.s, &c);
	T_EQ_INT(c.runs, 3);
	T_EQ_INT(sched_running(fx.s), 0);
	fx_release();
}

T_TEST(sched_run_all_once_skips_busy_job)
{
	static const int a[] = {30};
	struct job *j[2];

	fx_init(0);
	fx.auto_done = 0;
	j[0] = mkjob(1, 1, a, 1, 0);
	j[1] = mkjob(2, 1, a, 1, 0);
	T_ASSERT(j[0] && j[1]);
	apply(j, 2, NULL);
	at(0);
	sched_done(fx.s, sched_find(fx.s, 2));
	T_EQ_INT(sched_running(fx.s), 1);
	sched_run_all_once(fx.s);
	T_EQ_STR(fx.log, "1@0[30] 2@0[30] 2@0[30] ");
	fx_release();
}

T_TEST(sched_stop_ends_ticks)
{
	static const int a[] = {10};
	struct job *j;

	fx_init(0);
	j = mkjob(1, 1, a, 1, 0);
	T_ASSERT(j != NULL);
	apply(&j, 1, NULL);
	at(0);
	sched_stop(fx.s);
	walk(100000, 1000);
	T_EQ_STR(fx.log, "1@0[10] ");
	fx_release();
}

T_TEST(sched_removed_while_running)
{
	static const int a[] = {10};
	struct sched_stats st;
	struct job *j;

	fx_init(0);
	fx.auto_done = 0;
	fx.keep_ref = 1; /* like a bot run: it holds its own reference */
	j = mkjob(1, 1, a, 1, 0);
	T_ASSERT(j != NULL);
	apply(&j, 1, NULL);
	at(0);
	T_ASSERT(fx.busy != NULL);
	T_EQ_INT(sched_running(fx.s), 1);
	apply(NULL, 0, &st);
	T_EQ_INT(st.removed, 1);
	T_EQ_INT(sched_job_count(fx.s), 0);
	T_EQ_INT(sched_running(fx.s), 0);
	T_ASSERT(fx.busy->sched_entry == NULL);
	/* The run finishes after its job was cancelled. */
	sched_done(fx.s, fx.busy);
	T_EQ_INT(sched_running(fx.s), 0);
	walk(50000, 1000);
	T_EQ_INT(fx.nruns, 1);
	fx_release();
}

T_TEST(sched_changed_while_running)
{
	static const int a[] = {10}, b[] = {20};
	struct sched_stats st;
	struct job *j, *old;

	fx_init(0);
	fx.auto_done = 0;
	fx.keep_ref = 1;
	j = mkjob(1, 1, a, 1, 0);
	T_ASSERT(j != NULL);
	apply(&j, 1, NULL);
	at(0);
	old = fx.busy;
	T_ASSERT(old != NULL);
	at(5000);
	j = mkjob(1, 1, b, 1, 0);
	T_ASSERT(j != NULL);
	apply(&j, 1, &st);
	T_EQ_INT(st.changed, 1);
	/* The old run's end must not touch the new job's state. */
	sched_done(fx.s, old);
	at(5000);
	T_EQ_INT(fx.nruns, 2);
	T_EQ_INT(sched_running(fx.s), 1);
	sched_done(fx.s, sched_find(fx.s, 1));
	T_EQ_INT(sched_running(fx.s), 0);
	fx_release();
}

T_TEST(sched_free_with_jobs_and_empty)
{
	static const int a[] = {10};
	struct job *j;

	fx_init(0);
	sched_free(NULL);
	apply(NULL, 0, NULL);
	T_EQ_INT(sched_job_count(fx.s), 0);
	j = mkjob(1, 1, a, 1, 0);
	T_ASSERT(j != NULL);
	apply(&j, 1, NULL);
	at(0);
	T_EQ_INT(sched_job_count(fx.s), 1);
	fx_release();
}

struct hook_counts {
	int prepared, unchanged;
	int64_t refuse_id;
};

static int
hook_prepare(struct job *job, void *arg)
{
	struct hook_counts *h = arg;

	h->prepared++;
	return job->id == h->refuse_id ? -1 : 0;
}

static void
hook_unchanged(struct job *job, void *arg)
{
	struct hook_counts *h = arg;

	(void)job;
	h->unchanged++;
}

T_TEST(sched_apply_in_slices_with_hooks)
{
	static const int iv[] = {30};
	struct hook_counts h = {0, 0, 3};
	struct sched_hooks hooks = {hook_prepare, hook_unchanged, &h};
	struct job *j[100], *before3;
	struct sched_stats st;
	struct job_update u;
	int64_t id;
	int steps = 0, done = 0;

	fx_init(0);
	for (id = 1; id <= 100; id++) {
		j[id - 1] = mkjob(id, 1, iv, 1, 0);
		T_ASSERT(j[id - 1] != NULL);
	}
	apply(j, 100, NULL);
	before3 = sched_find(fx.s, 3);
	job_update_init(&u);
	for (id = 200; id >= 1; id--)
		job_update_add(&u, mkjob(id, 1, iv, 1, id == 2 || id == 3));
	sched_apply_start(fx.s, &u, &hooks);
	T_EQ_INT(u.n_jobs, 0);
	/* With no time budget (the fake clock stands still) each step does
	 * a few dozen jobs; the schedule stays as it was until the end. */
	while (!done) {
		done = sched_apply_step(fx.s, 0, &st);
		steps++;
		if (!done) {
			T_ASSERT(sched_find(fx.s, 3) == before3);
			T_EQ_INT(sched_job_count(fx.s), 100);
		}
	}
	T_ASSERT(steps > 2);
	T_EQ_INT(h.prepared, 102); /* 2, 3 and 101..200 */
	T_EQ_INT(h.unchanged, 98); /* 1 and 4..100 */
	T_EQ_INT(st.added, 100);
	T_EQ_INT(st.changed, 1);
	T_EQ_INT(st.removed, 1); /* 3: changed, and the bot refused it */
	T_EQ_INT(st.refused, 1);
	T_EQ_INT(st.kept, 98);
	T_EQ_INT(sched_job_count(fx.s), 199);
	T_ASSERT(sched_find(fx.s, 3) == NULL);
	T_ASSERT(sched_find(fx.s, 200) != NULL);
	job_update_release(&u);

	/* Stopping drops an update being applied: the schedule stays. */
	job_update_init(&u);
	job_update_add(&u, mkjob(300, 1, iv, 1, 0));
	for (id = 1; id <= 100; id++)
		job_update_add(&u, mkjob(id, 1, iv, 1, 5));
	sched_apply_start(fx.s, &u, &hooks);
	T_EQ_INT(sched_apply_step(fx.s, 0, &st), 0);
	sched_stop(fx.s);
	T_EQ_INT(sched_job_count(fx.s), 199);
	T_ASSERT(sched_find(fx.s, 300) == NULL);
	T_EQ_INT(sched_apply_step(fx.s, 0, &st), 1);
	T_EQ_INT(st.added, 0);
	fx_release();
}
