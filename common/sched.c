/*
 * The scheduler keeps one entry per job, sorted by job id, each with one
 * loop timer armed at the earliest "next fire" of its intervals.  Fire
 * times are start + k * interval, so intervals that are multiples of each
 * other coincide exactly and the job runs once with all of them due.
 * Fixed rate: a late tick is not made up in a burst; the missed ticks are
 * counted and the phase is kept.
 */
#include "sched.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "xmalloc.h"

struct sched_entry {
	struct sched *s;
	struct job *job;
	struct timer timer;
	int64_t *next_ms; /* per job->intervals_s[i] */
	int running;
};

struct sched {
	struct loop *loop;
	sched_run_cb *run;
	void *arg;
	int64_t spread_ms;
	struct sched_entry **e; /* sorted by job id */
	size_t n, cap;
	size_t running;
	int stopped;
	uint64_t rng;
	struct sched_counters counters;
	struct log_limit skip_limit;
};

static uint64_t
sched_random(struct sched *s)
{
	/* xorshift64: spreading start times needs no better randomness. */
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

struct sched *
sched_new(struct loop *l, sched_run_cb *run, void *arg, int64_t spread_ms)
{
	struct sched *s;
	struct timespec ts;

	s = xcalloc(1, sizeof(*s));
	s->loop = l;
	s->run = run;
	s->arg = arg;
	s->spread_ms = spread_ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
	    ((uint64_t)getpid() << 40) ^ 0x9e3779b97f4a7c15ULL;
	return s;
}

static void
sched_entry_free(struct sched_entry *en)
{
	/* A run in progress keeps its own job reference and finishes. */
	if (en->running)
		en->s->running--;
	loop_timer_stop(en->s->loop, &en->timer);
	en->job->sched_entry = NULL;
	job_unref(en->job);
	free(en->next_ms);
	free(en);
}

void
sched_free(struct sched *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		sched_entry_free(s->e[i]);
	free(s->e);
	free(s);
}

static void
sched_arm(struct sched_entry *en)
{
	int64_t next = INT64_MAX;
	size_t i;

	if (en->s->stopped)
		return;
	for (i = 0; i < en->job->n_intervals; i++)
		if (en->next_ms[i] < next)
			next = en->next_ms[i];
	loop_timer_at(en->s->loop, &en->timer, next);
}

static void
sched_start_run(struct sched_entry *en, const int *due, size_t n_due)
{
	struct sched *s = en->s;

	en->running = 1;
	s->running++;
	s->counters.runs++;
	/* The callback may finish synchronously and call sched_done. */
	s->run(en->job, due, n_due, s->arg);
}

static void
sched_fire(struct timer *t, void *arg)
{
	struct sched_entry *en = arg;
	struct sched *s = en->s;
	struct job *job = en->job;
	int64_t now = timer_now_ms(), fire = t->deadline_ms;
	int due[64], *duep = due;
	size_t i, n_due = 0;

	(void)t;
	if (job->n_intervals > sizeof(due) / sizeof(due[0]))
		duep = xreallocarray(NULL, job->n_intervals, sizeof(int));
	if (now - fire > 1000)
		s->counters.late++;
	for (i = 0; i < job->n_intervals; i++) {
		int64_t step = (int64_t)job->intervals_s[i] * 1000;

		if (en->next_ms[i] > now)
			continue;
		duep[n_due++] = job->intervals_s[i];
		en->next_ms[i] += step;
		if (en->next_ms[i] <= now) {
			/* Fell behind by whole intervals: keep the phase,
			 * count what was missed, do not burst. */
			int64_t missed = (now - en->next_ms[i]) / step + 1;

			en->next_ms[i] += missed * step;
			s->counters.skipped += (uint64_t)missed;
			log_warnx_limited(&s->skip_limit, 60000,
			    "job %lld (%s): %lld runs of its %d s interval "
			    "missed (the bot fell behind); %llu skipped so far",
			    (long long)job->id, job->name, (long long)missed,
			    job->intervals_s[i],
			    (unsigned long long)s->counters.skipped);
		}
	}
	sched_arm(en);
	if (n_due > 0) {
		if (en->running) {
			s->counters.skipped++;
			log_warnx_limited(&s->skip_limit, 60000,
			    "job %lld (%s): still running when its next run "
			    "was due; run skipped (%llu skipped so far)",
			    (long long)job->id, job->name,
			    (unsigned long long)s->counters.skipped);
		} else {
			sched_start_run(en, duep, n_due);
		}
	}
	if (duep != due)
		free(duep);
}

static struct sched_entry *
sched_entry_new(struct sched *s, struct job *job)
{
	struct sched_entry *en;
	int64_t window, start;
	size_t i;

	en = xcalloc(1, sizeof(*en));
	en->s = s;
	en->job = job;
	job->sched_entry = en;
	timer_init(&en->timer, sched_fire, en);
	en->next_ms = xcalloc(job->n_intervals, sizeof(int64_t));
	window = s->spread_ms;
	if (job->n_intervals > 0 &&
	    (int64_t)job->intervals_s[0] * 1000 < window)
		window = (int64_t)job->intervals_s[0] * 1000;
	start = timer_now_ms();
	if (window > 0)
		start += (int64_t)(sched_random(s) % (uint64_t)window);
	for (i = 0; i < job->n_intervals; i++)
		en->next_ms[i] = start;
	sched_arm(en);
	return en;
}

static int
sched_cmp_job(const void *a, const void *b)
{
	const struct job *x = *(struct job *const *)a;
	const struct job *y = *(struct job *const *)b;

	return x->id < y->id ? -1 : (x->id > y->id);
}

static int
sched_cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : (x > y);
}

static int
sched_keeps(const struct job_update *u, const struct job *job)
{
	size_t i;

	for (i = 0; i < u->n_keep_accounts; i++)
		if (u->keep_accounts[i] == job->account_id)
			return 1;
	return u->n_keep_entities > 0 &&
	    bsearch(&job->id, u->keep_entities, u->n_keep_entities,
	        sizeof(int64_t), sched_cmp_id) != NULL;
}

static void
sched_push(
    struct sched_entry ***arr, size_t *n, size_t *cap, struct sched_entry *en)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*arr = xreallocarray(*arr, *cap, sizeof(**arr));
	}
	(*arr)[(*n)++] = en;
}

void
sched_apply(struct sched *s, struct job_update *u, struct sched_stats *stats)
{
	struct sched_entry **out = NULL;
	size_t i = 0, j = 0, n = 0, cap = 0;
	int64_t last_new_id = -1;
	struct sched_stats st;

	memset(&st, 0, sizeof(st));
	if (u->n_jobs > 1)
		qsort(u->jobs, u->n_jobs, sizeof(*u->jobs), sched_cmp_job);
	if (u->n_keep_entities > 1)
		qsort(u->keep_entities, u->n_keep_entities, sizeof(int64_t),
		    sched_cmp_id);
	while (i < s->n || j < u->n_jobs) {
		struct sched_entry *old = i < s->n ? s->e[i] : NULL;
		struct job *nj = j < u->n_jobs ? u->jobs[j] : NULL;

		/* Duplicate ids in the update: one copy is kept (qsort is not
		 * stable, so which one is unspecified) and the rest are logged.
		 */
		if (nj != NULL && nj->id == last_new_id) {
			log_warnx("job %lld appears twice; the copy is ignored",
			    (long long)nj->id);
			job_unref(nj);
			j++;
			continue;
		}
		if (nj != NULL && (old == NULL || nj->id <= old->job->id))
			last_new_id = nj->id;
		if (nj == NULL || (old != NULL && old->job->id < nj->id)) {
			if (sched_keeps(u, old->job)) {
				sched_push(&out, &n, &cap, old);
				st.kept++;
			} else {
				sched_entry_free(old);
				st.removed++;
			}
			i++;
		} else if (old == NULL || nj->id < old->job->id) {
			sched_push(&out, &n, &cap, sched_entry_new(s, nj));
			st.added++;
			j++;
		} else {
			if (strcmp(old->job->fingerprint, nj->fingerprint) ==
			        0 &&
			    old->job->account_id == nj->account_id) {
				sched_push(&out, &n, &cap, old);
				job_unref(nj);
				st.kept++;
			} else {
				sched_entry_free(old);
				sched_push(
				    &out, &n, &cap, sched_entry_new(s, nj));
				st.changed++;
			}
			i++;
			j++;
		}
	}
	free(s->e);
	s->e = out;
	s->n = n;
	s->cap = cap;
	u->n_jobs = 0;
	if (stats != NULL)
		*stats = st;
}

static struct sched_entry *
sched_lookup(const struct sched *s, int64_t id)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->e[mid]->job->id == id)
			return s->e[mid];
		if (s->e[mid]->job->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct job *
sched_find(const struct sched *s, int64_t id)
{
	struct sched_entry *en = sched_lookup(s, id);

	return en ? en->job : NULL;
}

void
sched_done(struct sched *s, struct job *job)
{
	struct sched_entry *en = job->sched_entry;

	/* A cancelled or replaced job has no entry left: nothing to do. */
	if (en == NULL || !en->running)
		return;
	en->running = 0;
	s->running--;
}

void
sched_run_all_once(struct sched *s)
{
	size_t i;

	s->stopped = 1;
	for (i = 0; i < s->n; i++) {
		struct sched_entry *en = s->e[i];

		loop_timer_stop(s->loop, &en->timer);
		if (!en->running)
			sched_start_run(
			    en, en->job->intervals_s, en->job->n_intervals);
	}
}

void
sched_stop(struct sched *s)
{
	size_t i;

	s->stopped = 1;
	for (i = 0; i < s->n; i++)
		loop_timer_stop(s->loop, &s->e[i]->timer);
}

size_t
sched_job_count(const struct sched *s)
{
	return s->n;
}

size_t
sched_running(const struct sched *s)
{
	return s->running;
}

void
sched_get_counters(const struct sched *s, struct sched_counters *c)
{
	*c = s->counters;
}
