/*
 * The scheduler keeps one entry per job, sorted by job id, each with one
 * loop timer armed at the earliest "next fire" of its intervals.  Fire
 * times are start + k * interval, so intervals that are multiples of each
 * other coincide exactly and the job runs once with all of them due.
 * Fixed rate: a late tick is not made up in a burst; the missed ticks are
 * counted and the phase is kept.
 */
#include "sched.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "timer.h"
#include "xmalloc.h"

/* One a job: its timer's arg is the sched, the entry is found from the
 * timer (sched_fire), and one interval's next fire needs no allocation. */
struct sched_entry {
	struct job *job;
	struct timer timer;
	int64_t *next_ms; /* per job->intervals_s[i]; one: &next_one */
	int64_t next_one;
	int running;
	int fresh; /* created by the apply in progress */
};

struct sched_apply_state {
	int active;
	struct job_update u;    /* jobs sorted by id, keeps by entity */
	size_t n_account_keeps; /* u.keeps[0..n) keep whole accounts */
	struct sched_hooks hooks;
	size_t i, j; /* positions in s->e and u.jobs */
	int64_t last_new_id;
	struct sched_entry **out, **dead;
	size_t n, cap, n_dead, cap_dead;
	struct sched_stats st;
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
	struct sched_apply_state ap;
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

static void sched_apply_abort(struct sched *s);

static void
sched_entry_free(struct sched *s, struct sched_entry *en)
{
	/* A run in progress keeps its own job reference and finishes. */
	if (en->running)
		s->running--;
	loop_timer_stop(s->loop, &en->timer);
	en->job->sched_entry = NULL;
	job_unref(en->job);
	if (en->next_ms != &en->next_one)
		free(en->next_ms);
	free(en);
}

void
sched_free(struct sched *s)
{
	size_t i;

	if (s == NULL)
		return;
	sched_apply_abort(s);
	for (i = 0; i < s->n; i++)
		sched_entry_free(s, s->e[i]);
	free(s->e);
	free(s);
}

/* Drops the update being applied: the schedule stays as it was. */
static void
sched_apply_abort(struct sched *s)
{
	struct sched_apply_state *ap = &s->ap;
	size_t i;

	if (!ap->active)
		return;
	for (i = 0; i < ap->n; i++)
		if (ap->out[i]->fresh)
			sched_entry_free(s, ap->out[i]);
	free(ap->out);
	free(ap->dead);
	/* u.jobs[0..j) were consumed; the rest are still owned. */
	memmove(ap->u.jobs, ap->u.jobs + ap->j,
	    (ap->u.n_jobs - ap->j) * sizeof(*ap->u.jobs));
	ap->u.n_jobs -= ap->j;
	job_update_release(&ap->u);
	memset(ap, 0, sizeof(*ap));
}

static void
sched_arm(struct sched *s, struct sched_entry *en)
{
	int64_t next = INT64_MAX;
	size_t i;

	if (s->stopped)
		return;
	for (i = 0; i < en->job->n_intervals; i++)
		if (en->next_ms[i] < next)
			next = en->next_ms[i];
	loop_timer_at(s->loop, &en->timer, next);
}

static void
sched_start_run(
    struct sched *s, struct sched_entry *en, const int *due, size_t n_due)
{
	en->running = 1;
	s->running++;
	s->counters.runs++;
	/* The callback may finish synchronously and call sched_done. */
	s->run(en->job, due, n_due, s->arg);
}

static void
sched_fire(struct timer *t, void *arg)
{
	struct sched *s = arg;
	struct sched_entry *en = (struct sched_entry *)(void *)((char *)t -
	    offsetof(struct sched_entry, timer));
	struct job *job = en->job;
	int64_t now = timer_now_ms(), fire = t->deadline_ms;
	int due[64], *duep = due;
	size_t i, n_due = 0;

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
	sched_arm(s, en);
	if (n_due > 0) {
		if (en->running) {
			s->counters.skipped++;
			log_warnx_limited(&s->skip_limit, 60000,
			    "job %lld (%s): still running when its next run "
			    "was due; run skipped (%llu skipped so far)",
			    (long long)job->id, job->name,
			    (unsigned long long)s->counters.skipped);
		} else {
			sched_start_run(s, en, duep, n_due);
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
	en->job = job;
	job->sched_entry = en;
	timer_init(&en->timer, sched_fire, s);
	en->next_ms = job->n_intervals <= 1
	    ? &en->next_one
	    : xcalloc(job->n_intervals, sizeof(int64_t));
	window = s->spread_ms;
	if (job->n_intervals > 0 &&
	    (int64_t)job->intervals_s[0] * 1000 < window)
		window = (int64_t)job->intervals_s[0] * 1000;
	start = timer_now_ms();
	if (window > 0)
		start += (int64_t)(sched_random(s) % (uint64_t)window);
	for (i = 0; i < job->n_intervals; i++)
		en->next_ms[i] = start;
	sched_arm(s, en);
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
sched_cmp_keep(const void *a, const void *b)
{
	const struct job_keep *x = a, *y = b;

	if (x->entity_id != y->entity_id)
		return x->entity_id < y->entity_id ? -1 : 1;
	return (x->account_id > y->account_id) -
	    (x->account_id < y->account_id);
}

/* True when the update's keep list (sorted by sched_apply_start) keeps
 * the previous job. */
static int
sched_keeps(const struct sched_apply_state *ap, const struct job *job)
{
	size_t lo = 0, hi = ap->u.n_keeps, i;

	for (i = 0; i < ap->n_account_keeps; i++)
		if (job_keep_covers(&ap->u.keeps[i], job))
			return 1;
	/* Entity keeps follow the account keeps (entity_id -1) in order. */
	lo = ap->n_account_keeps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ap->u.keeps[mid].entity_id < job->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < ap->u.n_keeps && ap->u.keeps[i].entity_id == job->id;
	     i++)
		if (job_keep_covers(&ap->u.keeps[i], job))
			return 1;
	return 0;
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
sched_apply_start(
    struct sched *s, struct job_update *u, const struct sched_hooks *hooks)
{
	struct sched_apply_state *ap = &s->ap;
	size_t i;

	if (ap->active)
		(void)sched_apply_step(s, INT64_MAX, NULL);
	memset(ap, 0, sizeof(*ap));
	ap->active = 1;
	ap->u = *u;
	job_update_init(u);
	if (hooks != NULL)
		ap->hooks = *hooks;
	ap->last_new_id = -1;
	if (ap->u.n_jobs > 1)
		qsort(ap->u.jobs, ap->u.n_jobs, sizeof(*ap->u.jobs),
		    sched_cmp_job);
	if (ap->u.n_keeps > 1)
		qsort(ap->u.keeps, ap->u.n_keeps, sizeof(*ap->u.keeps),
		    sched_cmp_keep);
	for (i = 0; i < ap->u.n_keeps && ap->u.keeps[i].entity_id < 0; i++)
		ap->n_account_keeps++;
}

/* The new job nj replaces or joins the schedule, if the bot takes it. */
static int
sched_prepare(struct sched_apply_state *ap, struct job *nj)
{
	if (ap->hooks.prepare == NULL ||
	    ap->hooks.prepare(nj, ap->hooks.arg) == 0)
		return 1;
	job_unref(nj);
	ap->st.refused++;
	return 0;
}

/* One step of the merge of the schedule (sorted) with the update. */
static void
sched_apply_one(struct sched *s)
{
	struct sched_apply_state *ap = &s->ap;
	struct sched_entry *old = ap->i < s->n ? s->e[ap->i] : NULL;
	struct job *nj = ap->j < ap->u.n_jobs ? ap->u.jobs[ap->j] : NULL;

	/* Duplicate ids in the update: one copy is kept (qsort is not
	 * stable, so which one is unspecified) and the rest are logged. */
	if (nj != NULL && nj->id == ap->last_new_id) {
		log_warnx("job %lld appears twice; the copy is ignored",
		    (long long)nj->id);
		job_unref(nj);
		ap->j++;
		return;
	}
	if (nj != NULL && (old == NULL || nj->id <= old->job->id))
		ap->last_new_id = nj->id;
	if (nj == NULL || (old != NULL && old->job->id < nj->id)) {
		if (sched_keeps(ap, old->job)) {
			sched_push(&ap->out, &ap->n, &ap->cap, old);
			ap->st.kept++;
		} else {
			sched_push(&ap->dead, &ap->n_dead, &ap->cap_dead, old);
			ap->st.removed++;
		}
		ap->i++;
	} else if (old == NULL || nj->id < old->job->id) {
		if (sched_prepare(ap, nj)) {
			sched_push(
			    &ap->out, &ap->n, &ap->cap, sched_entry_new(s, nj));
			ap->out[ap->n - 1]->fresh = 1;
			ap->st.added++;
		}
		ap->j++;
	} else {
		if (job_same(old->job, nj)) {
			sched_push(&ap->out, &ap->n, &ap->cap, old);
			job_unref(nj);
			ap->st.kept++;
			if (ap->hooks.unchanged != NULL)
				ap->hooks.unchanged(old->job, ap->hooks.arg);
		} else {
			sched_push(&ap->dead, &ap->n_dead, &ap->cap_dead, old);
			if (sched_prepare(ap, nj)) {
				sched_push(&ap->out, &ap->n, &ap->cap,
				    sched_entry_new(s, nj));
				ap->out[ap->n - 1]->fresh = 1;
				ap->st.changed++;
			} else {
				ap->st.removed++;
			}
		}
		ap->i++;
		ap->j++;
	}
}

int
sched_apply_step(struct sched *s, int64_t budget_ms, struct sched_stats *stats)
{
	struct sched_apply_state *ap = &s->ap;
	int64_t t0 = timer_now_ms();
	size_t k = 0, i;

	if (!ap->active) {
		if (stats != NULL)
			memset(stats, 0, sizeof(*stats));
		return 1;
	}
	while (ap->i < s->n || ap->j < ap->u.n_jobs) {
		sched_apply_one(s);
		if ((++k & 31) == 0 && timer_now_ms() - t0 >= budget_ms)
			return 0;
	}
	/* Replaced and removed entries were kept alive until now, so that
	 * sched_find still saw the schedule as it was. */
	for (i = 0; i < ap->n_dead; i++)
		sched_entry_free(s, ap->dead[i]);
	for (i = 0; i < ap->n; i++)
		ap->out[i]->fresh = 0;
	free(ap->dead);
	free(s->e);
	s->e = ap->out;
	s->n = ap->n;
	s->cap = ap->cap;
	ap->u.n_jobs = 0;
	job_update_release(&ap->u);
	if (stats != NULL)
		*stats = ap->st;
	memset(ap, 0, sizeof(*ap));
	return 1;
}

void
sched_apply(struct sched *s, struct job_update *u, struct sched_stats *stats)
{
	sched_apply_start(s, u, NULL);
	(void)sched_apply_step(s, INT64_MAX, stats);
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

	(void)sched_apply_step(s, INT64_MAX, NULL);
	s->stopped = 1;
	for (i = 0; i < s->n; i++) {
		struct sched_entry *en = s->e[i];

		loop_timer_stop(s->loop, &en->timer);
		if (!en->running)
			sched_start_run(
			    s, en, en->job->intervals_s, en->job->n_intervals);
	}
}

void
sched_stop(struct sched *s)
{
	size_t i;

	sched_apply_abort(s);
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
