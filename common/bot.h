/*
 * The runtime every bot shares: command line and environment, logging,
 * the loop, job configs from the backend or a file, the scheduler, value
 * delivery and a clean shutdown.  A bot supplies struct bot_ops and calls
 * bot_main from main().
 */
#ifndef BOT_BOT_H
#define BOT_BOT_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct backend;
struct loop;
struct job;
struct job_sensor;

/* One run of a job.  Owned by the runtime; valid until run_done. */
struct run {
	struct job *job; /* borrowed; the run holds a reference */
	int *due_s;      /* the intervals that caused this run */
	size_t n_due;
	void *values; /* struct values, private to the runtime */
};

/* A command-line flag of the bot's own (long form only: --name). */
struct bot_flag {
	const char *name; /* without the leading "--" */
	int has_arg;      /* 1: takes a value (--name VALUE) */
	/* Called while argv is parsed, before logging starts; -1 (after a
	 * message on stderr) makes bot_main return 2. */
	int (*set)(const char *arg);
};

struct bot_ops {
	const char *name;     /* program name, e.g. "pingbot" */
	const char *protocol; /* backend protocol key, e.g. "ping" */
	const char *summary;  /* one line for --help */
	const char *env_help; /* extra lines for --help's environment list */

	/* Called once after configuration, before any job; -1 exits 1. */
	int (*init)(struct loop *l);
	/* Parses job->details / credential / sensors into job->priv (set
	 * priv_free too).  -1 with err: the job is skipped and logged. */
	int (*job_prepare)(struct job *job, char *err, size_t errlen);
	/* Called at every job refresh for a job whose config did not change
	 * (on the loop thread), e.g. to resolve a host name again; may be
	 * NULL. */
	void (*job_refresh)(struct job *job);
	/* Starts a run; the bot emits values and calls run_done(run) once. */
	void (*job_run)(struct run *run);
	/* Stops the bot's own work and frees its resources; may be NULL. */
	void (*shutdown)(void);
	/* For bots whose jobs are per account (NetFlow): the intervals every
	 * account job runs at (jobgroup.h; sensors then need no interval).
	 * NULL: one job per entity, at its sensors' intervals. */
	const int *account_intervals_s;
	size_t n_account_intervals;
	/* The bot's own flags (may be NULL) and their --help lines. */
	const struct bot_flag *flags;
	size_t n_flags;
	const char *flags_help;
};

/* Parses argv and the environment, then runs until SIGTERM/SIGINT (or,
 * with --once, until every job ran once).  Returns the exit code. */
int bot_main(int argc, char **argv, const struct bot_ops *ops);

/* Records a value measured now / at t (Unix seconds).  An invalid path or
 * non-finite number is dropped with a rate-limited warning. */
void run_emit(struct run *run, const char *path, double v);
void run_emit_at(struct run *run, const char *path, double v, double t);
/* The run's job (borrowed; valid until run_done).  Bots read the job
 * through this, never through struct run's fields. */
struct job *run_job(const struct run *run);
/* True when sensor s is among this run's due intervals. */
int run_sensor_due(const struct run *run, const struct job_sensor *s);
/* Ends the run: its values go to the sender in one batch, the job may be
 * scheduled again, run is freed. */
void run_done(struct run *run);

/* The bot's loop, for bots that watch descriptors of their own. */
struct loop *bot_loop(void);
/* The backend client, for bots that write entities (entsync.h); NULL in
 * standalone mode. */
struct backend *bot_backend(void);

#endif
