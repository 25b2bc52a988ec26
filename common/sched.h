/*
 * Interval scheduling of jobs (collectd's read loop plus the official
 * collector's MultipleIntervalsTrigger).  A job with intervals {30, 120}
 * fires at start + k*30 and start + k*120; when several come due at the same
 * instant the job runs once and is told which ("affecting intervals").
 * A job never overlaps itself: a tick that finds it still running is
 * skipped and counted.  Timing uses the loop's monotonic clock.
 */
#ifndef BOT_SCHED_H
#define BOT_SCHED_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct job;
struct job_update;
struct sched;

/* Starts one run of job for the due intervals (borrowed for the call).
 * The bot must call sched_done(s, job) exactly once when it finishes. */
typedef void sched_run_cb(
    struct job *job, const int *due_s, size_t n_due, void *arg);

struct sched_stats {
	size_t added, changed, removed, kept;
	size_t refused; /* new or changed jobs the prepare hook refused */
};

/* What the owner does with an update's jobs as sched_apply meets them. */
struct sched_hooks {
	/* A new or changed job, before it is scheduled; -1 drops it (and a
	 * changed job's previous version is removed).  May be NULL. */
	int (*prepare)(struct job *job, void *arg);
	/* The kept (previous) job of an entity the update did not change.
	 * May be NULL. */
	void (*unchanged)(struct job *job, void *arg);
	void *arg;
};

struct sched_counters {
	uint64_t runs;
	uint64_t skipped; /* ticks skipped: the run before was busy, or the
	                     loop fell behind by whole intervals */
	uint64_t late;    /* ticks that started more than 1 s late */
};

/* spread_ms: new jobs first run at a random offset in [0, min(spread_ms,
 * smallest interval)).  run and arg are borrowed. */
struct sched *sched_new(
    struct loop *l, sched_run_cb *run, void *arg, int64_t spread_ms);
/* Cancels every job (runs in progress keep their job reference). */
void sched_free(struct sched *s);

/* Replaces the job set: unchanged jobs (job_same) keep their phase and
 * entry, new and changed ones are (re)scheduled, jobs absent from u are
 * cancelled unless u keeps them.  Takes everything out of u (left empty).
 * stats may be NULL.  The one place an update is applied. */
void sched_apply(
    struct sched *s, struct job_update *u, struct sched_stats *stats);
/* The same in slices and with hooks (NULL: none), so a large update does
 * not block the loop and each new or changed job is prepared as it is
 * met: sched_apply_start takes u, then each sched_apply_step works for about
 * budget_ms and returns 1 (stats filled) once the update is applied, 0
 * while work remains.  Until then the schedule runs as before (replaced
 * jobs included).  Starting another update first finishes this one. */
void sched_apply_start(
    struct sched *s, struct job_update *u, const struct sched_hooks *hooks);
int sched_apply_step(
    struct sched *s, int64_t budget_ms, struct sched_stats *stats);

/* Marks the run of job finished. */
void sched_done(struct sched *s, struct job *job);

/* Runs every job once now with all its intervals, then no more ticks. */
void sched_run_all_once(struct sched *s);
/* No further runs start (for shutdown). */
void sched_stop(struct sched *s);

size_t sched_job_count(const struct sched *s);
size_t sched_running(const struct sched *s);
void sched_get_counters(const struct sched *s, struct sched_counters *c);
/* The job with this entity id, borrowed; NULL if none.  For tests. */
struct job *sched_find(const struct sched *s, int64_t id);

#endif
