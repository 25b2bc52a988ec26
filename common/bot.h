/*
 * The runtime every bot shares: command line and environment, logging,
 * the loop, job configs from the backend or a file, the scheduler, value
 * delivery and a clean shutdown.  A bot supplies struct bot_ops and calls
 * bot_main from main().
 *
 * Threading: every hook in struct bot_ops is called on the loop thread,
 * and every function declared here must be called on it too.  A bot that
 * measures on threads of its own hands the results back to the loop (a
 * pipe or eventfd watched with loop_watch, as pingbot does) and calls
 * run_emit, run_emit_at and run_done from there.
 */
#ifndef BOT_BOT_H
#define BOT_BOT_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct backend;
struct buf;
struct loop;
struct job;
struct job_sensor;
struct setting;

/* One run of a job: opaque, owned by the runtime, valid until run_done.
 * Read it through run_job, run_sensor_due and run_due. */
struct run;

/* How the runtime makes jobs out of the backend's entities. */
enum bot_job_mode {
	/* One job per device entity, run at its sensors' intervals. */
	BOT_JOBS_PER_ENTITY = 0,
	/* One job per account (jobgroup.h), run at account_intervals_s;
	 * sensors then need no interval (NetFlow). */
	BOT_JOBS_PER_ACCOUNT,
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
	/* The bot's environment variables (settings.h; ended by a NULL
	 * name), read with settings_int/_str/_bool and listed by --help after
	 * the runtime's; may be NULL. */
	const struct setting *settings;

	/* Called once after configuration, before any job; -1 exits 1.
	 * The loop is bot_loop(). */
	int (*init)(void);
	/* Called for each new or changed job: parses job->details,
	 * credential and sensors[i].details into job->priv (set priv_free
	 * too).  Those JSON members are released when it returns: keep no
	 * reference to them.  -1 with err: the job is skipped and logged.
	 * Per-entity jobs are prepared while the refresh still runs, so a
	 * job may be dropped unscheduled (priv_free) and a refused one is
	 * prepared again when the update is applied: parse, do not act. */
	int (*job_prepare)(struct job *job, char *err, size_t errlen);
	/* Called at every job refresh with a job that refresh found
	 * unchanged (it keeps running as it is), e.g. to resolve a host name
	 * again; may be NULL. */
	void (*job_unchanged)(struct job *job);
	/* Starts a run; the bot emits values and calls run_done(run) once. */
	void (*job_run)(struct run *run);
	/* Stops the bot's own work and frees its resources; may be NULL. */
	void (*shutdown)(void);
	/* BOT_JOBS_PER_ENTITY (0, the default) or BOT_JOBS_PER_ACCOUNT. */
	enum bot_job_mode job_mode;
	/* BOT_JOBS_PER_ACCOUNT only (else NULL, 0): the intervals every
	 * account job runs at. */
	const int *account_intervals_s;
	size_t n_account_intervals;
	/* Appends the bot's own counters to a Prometheus scrape (complete
	 * exposition text with # HELP and # TYPE lines); may be NULL. */
	void (*metrics)(struct buf *out);
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
/* The intervals (s) that made this run due, ascending; *n is set to their
 * count.  Borrowed until run_done. */
const int *run_due(const struct run *run, size_t *n);
/* Ends the run: its values go to the sender in one batch, the job may be
 * scheduled again, run is freed. */
void run_done(struct run *run);

/* The bot's loop (from init on), for bots that watch descriptors or
 * arm timers of their own. */
struct loop *bot_loop(void);
/* The backend client, for bots that write entities (entsync.h); NULL in
 * standalone mode. */
struct backend *bot_backend(void);

#endif
