/*
 * The runtime shared by every bot: it reads the command line and the
 * environment, builds the loop, the HTTP client, the scheduler and the
 * sender, keeps job configs fresh (from the backend or a file) and turns
 * scheduler ticks into runs of the bot's job_run.  A run collects values
 * and hands them to the sender in one batch when the bot calls run_done.
 * Shutdown stops new runs, lets runs in progress finish, flushes the
 * sender within a deadline and exits 0.
 */
#include "bot.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "backoff.h"
#include "env.h"
#include "http.h"
#include "jobfetch.h"
#include "jobgroup.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "path.h"
#include "sched.h"
#include "sender.h"
#include "timer.h"
#include "values.h"
#include "xmalloc.h"

#ifndef BOT_VERSION
#define BOT_VERSION "dev"
#endif

struct bot_config {
	const char *jobs_file;
	int once;
	int to_stdout;
	const char *backend_url;
	char *token;
	int64_t refresh_s;
	int64_t spread_ms;
	int64_t wait_s;
	int64_t flush_s;
	int64_t timeout_s;
	int64_t connect_timeout_s;
	int64_t low_speed_bps;
	int64_t low_speed_time_s;
	const char *ca_file;
	struct sender_config send;
};

struct bot {
	const struct bot_ops *ops;
	struct bot_config cfg;
	struct loop *loop;
	struct http *http;
	struct backend *backend;
	struct sched *sched;
	struct sender *sender;
	struct timer refresh_timer;
	struct backoff refresh_backoff;
	struct timer stop_timer;
	size_t runs_active;
	int ready;
	int stopping;
	int loop_done;
	int refresh_again;
	int exit_code;
	int64_t stop_deadline_ms;
	const char *ca_file_arg; /* --ca-file */
	struct log_limit emit_limit;
	char **prep_prev, **prep_cur; /* job_prepare errors, logged once */
	size_t n_prep_prev, n_prep_cur;
};

static struct bot bot;

struct loop *
bot_loop(void)
{
	return bot.loop;
}

struct backend *
bot_backend(void)
{
	return bot.backend;
}

static void
bot_usage(FILE *f)
{
	const struct bot_ops *o = bot.ops;

	fprintf(f,
	    "Usage: %s [--jobs FILE] [--output stdout|backend] [--once]\n"
	    "       [--ca-file FILE]\n"
	    "%s\n"
	    "\n"
	    "Options:\n"
	    "  --jobs FILE       read job configs from FILE (a JSON list of\n"
	    "                    entities with credential and sensors "
	    "resolved,\n"
	    "                    see examples/) instead of the backend;\n"
	    "                    re-read every JOBS_REFRESH_INTERVAL and on\n"
	    "                    SIGHUP\n"
	    "  --output MODE     'backend' (default) sends values to "
	    "Grafolean;\n"
	    "                    'stdout' prints \"path value timestamp\" "
	    "lines\n"
	    "                    (Graphite plaintext); the default is stdout\n"
	    "                    with --jobs when BACKEND_URL is not set\n"
	    "  --once            run every job once, deliver the values, exit\n"
	    "                    (exit 1 when values were left undelivered at\n"
	    "                    SHUTDOWN_FLUSH_TIMEOUT)\n"
	    "  --ca-file FILE    CA bundle for an https backend (overrides\n"
	    "                    BACKEND_CA_FILE); verification is always on\n"
	    "%s"
	    "  -h, --help        show this help\n"
	    "  -V, --version     show the version\n"
	    "\n"
	    "Environment:\n"
	    "  BACKEND_URL            Grafolean API base, ending in /api\n"
	    "                         (e.g. http://grafolean/api); required\n"
	    "                         unless --jobs with --output stdout\n"
	    "  BOT_TOKEN              the bot's token (a UUID from Grafolean)\n"
	    "  BOT_TOKEN_FROM_FILE    file holding the token; waited for "
	    "while\n"
	    "                         it does not exist (keep it mode 600:\n"
	    "                         a file others can read is warned of)\n"
	    "  JOBS_REFRESH_INTERVAL  seconds between job refreshes (120)\n"
	    "  JOBS_FIRST_RUN_SPREAD_MS  new jobs start at a random offset up\n"
	    "                         to this many ms (5000; 0 = at once)\n"
	    "  BACKEND_WAIT_INTERVAL  seconds between readiness checks (10)\n"
	    "  BACKEND_TIMEOUT        seconds a backend request may take (30)\n"
	    "  BACKEND_CONNECT_TIMEOUT  seconds to resolve and connect (10)\n"
	    "  BACKEND_LOW_SPEED_LIMIT  a transfer slower than this many\n"
	    "                         bytes/s (10) ...\n"
	    "  BACKEND_LOW_SPEED_TIME   ... for this many seconds (15) is\n"
	    "                         aborted\n"
	    "  BACKEND_CA_FILE        CA bundle for an https backend\n"
	    "  SHUTDOWN_FLUSH_TIMEOUT seconds after SIGTERM for runs to end\n"
	    "                         and values to be delivered (8)\n"
	    "  SEND_BUFFER_MAX_BYTES  memory for values waiting to be sent\n"
	    "                         (67108864); the oldest are dropped\n"
	    "  SEND_BUFFER_MAX_VALUES the same bound as a count (0 = none)\n"
	    "  SEND_BUFFER_MAX_AGE    seconds a value may wait (86400)\n"
	    "  SEND_RETRY_MIN_MS      first retry delay and the floor (1000)\n"
	    "  SEND_RETRY_MAX_MS      longest retry delay (60000); delays\n"
	    "                         double, with jitter, in between\n"
	    "  SEND_RETRY_AFTER_MAX   longest Retry-After obeyed, s (3600)\n"
	    "  SEND_POST_MAX_AGE      when PUT is refused (403), values go by\n"
	    "                         POST, which cannot carry their time:\n"
	    "                         older ones are dropped, s (30)\n"
	    "  SEND_STATS_INTERVAL    seconds between counter lines (60),\n"
	    "                         0 turns them off\n"
	    "  SEND_SPOOL_DIR         also keep waiting values in this\n"
	    "                         directory, so that a restart loses\n"
	    "                         none (unset: no spool)\n"
	    "  SEND_SPOOL_MAX_BYTES   disk bound of the spool (268435456)\n"
	    "  LOG_LEVEL              warn, info (default) or debug\n"
	    "  DEBUG                  1 is the same as LOG_LEVEL=debug\n"
	    "%s"
	    "\n"
	    "Signals: SIGTERM/SIGINT stop (values are flushed first), SIGHUP\n"
	    "refreshes the jobs now.\n",
	    o->name, o->summary, o->flags_help ? o->flags_help : "",
	    o->env_help ? o->env_help : "");
}

static enum log_level
bot_log_level(void)
{
	const char *lvl = env_str("LOG_LEVEL", NULL);

	if (env_bool("DEBUG", 0))
		return LOG_LEVEL_DEBUG;
	if (lvl == NULL || strcasecmp(lvl, "info") == 0)
		return LOG_LEVEL_INFO;
	if (strcasecmp(lvl, "debug") == 0)
		return LOG_LEVEL_DEBUG;
	if (strcasecmp(lvl, "warn") == 0 || strcasecmp(lvl, "warning") == 0)
		return LOG_LEVEL_WARN;
	fatalx("LOG_LEVEL: \"%s\" is not one of warn, info, debug", lvl);
}

/* Returns 0 to go on, or an exit code + 1 for --help/--version/errors. */
static int
bot_parse_args(int argc, char **argv)
{
	static const struct option base[] = {
	    {"jobs", required_argument, NULL, 'j'},
	    {"output", required_argument, NULL, 'o'},
	    {"once", no_argument, NULL, '1'},
	    {"ca-file", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	};
	const size_t n_base = sizeof(base) / sizeof(base[0]);
	struct option *longopts;
	const char *output = NULL;
	size_t i;
	int c, rc = 0;

	/* The runtime's flags, then the bot's own (values 256 + index). */
	longopts = xcalloc(n_base + bot.ops->n_flags + 1, sizeof(*longopts));
	memcpy(longopts, base, sizeof(base));
	for (i = 0; i < bot.ops->n_flags; i++) {
		longopts[n_base + i].name = bot.ops->flags[i].name;
		longopts[n_base + i].has_arg =
		    bot.ops->flags[i].has_arg ? required_argument : no_argument;
		longopts[n_base + i].val = 256 + (int)i;
	}
	while (rc == 0 &&
	    (c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		if (c >= 256 && (size_t)(c - 256) < bot.ops->n_flags) {
			if (bot.ops->flags[c - 256].set(optarg) == -1)
				rc = 3;
			continue;
		}
		switch (c) {
		case 'j':
			bot.cfg.jobs_file = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case '1':
			bot.cfg.once = 1;
			break;
		case 'c':
			bot.ca_file_arg = optarg;
			break;
		case 'h':
			bot_usage(stdout);
			rc = 1;
			break;
		case 'V':
			printf("%s %s\n", bot.ops->name, BOT_VERSION);
			rc = 1;
			break;
		default:
			fprintf(stderr, "Try '%s --help'.\n", bot.ops->name);
			rc = 3;
			break;
		}
	}
	free(longopts);
	if (rc != 0)
		return rc;
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'; try --help\n",
		    bot.ops->name, argv[optind]);
		return 3;
	}
	bot.cfg.backend_url = env_str("BACKEND_URL", NULL);
	if (output == NULL)
		bot.cfg.to_stdout =
		    bot.cfg.jobs_file != NULL && bot.cfg.backend_url == NULL;
	else if (strcmp(output, "stdout") == 0)
		bot.cfg.to_stdout = 1;
	else if (strcmp(output, "backend") == 0)
		bot.cfg.to_stdout = 0;
	else {
		fprintf(stderr, "%s: --output must be stdout or backend\n",
		    bot.ops->name);
		return 3;
	}
	return 0;
}

/* The sender's bounds, retry timing and spool (see --help). */
static void
bot_read_send_env(struct sender_config *sc)
{
	sender_config_defaults(sc);
	sc->max_buffer_bytes = (size_t)env_int("SEND_BUFFER_MAX_BYTES",
	    (int64_t)sc->max_buffer_bytes, 65536, INT64_C(1) << 40);
	sc->max_buffer_values =
	    (size_t)env_int("SEND_BUFFER_MAX_VALUES", 0, 0, INT64_C(1) << 32);
	sc->max_age_ms =
	    1000 * env_int("SEND_BUFFER_MAX_AGE", 86400, 1, 365 * 86400);
	sc->retry_min_ms =
	    env_int("SEND_RETRY_MIN_MS", sc->retry_min_ms, 100, 3600000);
	sc->retry_max_ms = env_int(
	    "SEND_RETRY_MAX_MS", sc->retry_max_ms, sc->retry_min_ms, 86400000);
	sc->retry_after_max_ms =
	    1000 * env_int("SEND_RETRY_AFTER_MAX", 3600, 0, 86400);
	sc->post_max_age_ms = 1000 * env_int("SEND_POST_MAX_AGE", 30, 1, 86400);
	sc->stats_interval_ms =
	    1000 * env_int("SEND_STATS_INTERVAL", 60, 0, 86400);
	sc->spool_dir = env_str("SEND_SPOOL_DIR", NULL);
	sc->spool_max_bytes = (uint64_t)env_int("SEND_SPOOL_MAX_BYTES",
	    (int64_t)sc->spool_max_bytes, 1048576, INT64_C(1) << 44);
}

static void
bot_read_env(void)
{
	char err[BOT_ERRLEN];
	int need_backend = !bot.cfg.to_stdout || bot.cfg.jobs_file == NULL;

	bot.cfg.refresh_s = env_int("JOBS_REFRESH_INTERVAL", 120, 1, 86400);
	bot.cfg.spread_ms =
	    env_int("JOBS_FIRST_RUN_SPREAD_MS", 5000, 0, 3600000);
	bot.cfg.wait_s = env_int("BACKEND_WAIT_INTERVAL", 10, 1, 3600);
	bot.cfg.timeout_s = env_int("BACKEND_TIMEOUT", 30, 1, 3600);
	bot.cfg.connect_timeout_s =
	    env_int("BACKEND_CONNECT_TIMEOUT", 10, 1, 3600);
	bot.cfg.low_speed_bps =
	    env_int("BACKEND_LOW_SPEED_LIMIT", 10, 0, 1000000000);
	bot.cfg.low_speed_time_s =
	    env_int("BACKEND_LOW_SPEED_TIME", 15, 1, 3600);
	bot_read_send_env(&bot.cfg.send);
	bot.cfg.flush_s = env_int("SHUTDOWN_FLUSH_TIMEOUT", 8, 0, 3600);
	bot.cfg.ca_file = bot.ca_file_arg != NULL
	    ? bot.ca_file_arg
	    : env_str("BACKEND_CA_FILE", NULL);
	if (!need_backend)
		return;
	if (bot.cfg.backend_url == NULL)
		fatalx("BACKEND_URL is not set (for example "
		       "BACKEND_URL=http://grafolean/api); use --jobs FILE "
		       "--output stdout to run without a backend");
	if (backend_check_url(bot.cfg.backend_url, err, sizeof(err)) == -1)
		fatalx("BACKEND_URL %s", err);
	bot.cfg.token = env_secret("BOT_TOKEN", 2000, loop_stop_flag());
	if (bot.cfg.token == NULL) {
		if (*loop_stop_flag()) {
			log_info("stopping: signal while waiting for the "
			         "token file");
			loop_free(bot.loop);
			exit(0);
		}
		fatalx("BOT_TOKEN is not set (nor BOT_TOKEN_FROM_FILE): "
		       "create a bot in Grafolean and pass its token");
	}
	log_set_secret(bot.cfg.token);
	if (backend_check_token(bot.cfg.token, err, sizeof(err)) == -1)
		fatalx("BOT_TOKEN %s", err);
}

/* --- runs ------------------------------------------------------------ */

static void bot_shutdown_step(void);

static void
bot_run_job(struct job *job, const int *due_s, size_t n_due, void *arg)
{
	struct run *run;
	struct values *vs;
	int *due;

	(void)arg;
	run = xcalloc(1, sizeof(*run));
	due = xreallocarray(NULL, n_due ? n_due : 1, sizeof(int));
	memcpy(due, due_s, n_due * sizeof(int));
	vs = xcalloc(1, sizeof(*vs));
	values_init(vs, job->account_id);
	run->job = job_ref(job);
	run->due_s = due;
	run->n_due = n_due;
	run->values = vs;
	bot.runs_active++;
	log_debug("job %lld (%s): run starts", (long long)job->id, job->name);
	bot.ops->job_run(run);
}

void
run_emit_at(struct run *run, const char *path, double v, double t)
{
	if (!path_valid(path)) {
		log_warnx_limited(&bot.emit_limit, 60000,
		    "job %lld: value path \"%.220s\" is not valid; value "
		    "dropped",
		    (long long)run->job->id, path);
		return;
	}
	if (!isfinite(v)) {
		log_warnx_limited(&bot.emit_limit, 60000,
		    "job %lld: %s: value is not a finite number; dropped",
		    (long long)run->job->id, path);
		return;
	}
	values_add(run->values, path, v, t);
}

void
run_emit(struct run *run, const char *path, double v)
{
	run_emit_at(run, path, v, timer_wall_s());
}

struct job *
run_job(const struct run *run)
{
	return run->job;
}

int
run_sensor_due(const struct run *run, const struct job_sensor *s)
{
	return job_sensor_due(s, run->due_s, run->n_due);
}

void
run_done(struct run *run)
{
	struct values *vs = run->values;
	struct job *job = run->job;

	log_debug("job %lld (%s): run done, %zu values", (long long)job->id,
	    job->name, vs->len);
	sender_put(bot.sender, vs);
	values_release(vs);
	free(vs);
	if (bot.sched != NULL)
		sched_done(bot.sched, job);
	job_unref(job);
	free(run->due_s);
	free(run);
	if (bot.runs_active > 0)
		bot.runs_active--;
	if (bot.stopping && bot.runs_active == 0 && !bot.loop_done)
		bot_shutdown_step();
}

/* --- job refresh ----------------------------------------------------- */

static int
bot_prep_seen(char **list, size_t n, const char *msg)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], msg) == 0)
			return 1;
	return 0;
}

static void
bot_prep_rotate(void)
{
	size_t i;

	for (i = 0; i < bot.n_prep_prev; i++)
		free(bot.prep_prev[i]);
	free(bot.prep_prev);
	bot.prep_prev = bot.prep_cur;
	bot.n_prep_prev = bot.n_prep_cur;
	bot.prep_cur = NULL;
	bot.n_prep_cur = 0;
}

/* Lets the bot parse each new or changed job; drops those it refuses. */
static void
bot_prepare_jobs(struct job_update *u)
{
	char err[BOT_ERRLEN];
	size_t i, o = 0;

	for (i = 0; i < u->n_jobs; i++) {
		struct job *job = u->jobs[i];
		struct job *old = sched_find(bot.sched, job->id);
		char *msg;

		if (old != NULL && old->account_id == job->account_id &&
		    strcmp(old->fingerprint, job->fingerprint) == 0) {
			u->jobs[o++] = job; /* unchanged: sched keeps old */
			if (bot.ops->job_refresh != NULL)
				bot.ops->job_refresh(old);
			continue;
		}
		err[0] = '\0';
		if (bot.ops->job_prepare == NULL ||
		    bot.ops->job_prepare(job, err, sizeof(err)) == 0) {
			u->jobs[o++] = job;
			continue;
		}
		msg = xasprintf("job %lld (%s): not polled: %s",
		    (long long)job->id, job->name, err);
		if (!bot_prep_seen(bot.prep_prev, bot.n_prep_prev, msg))
			log_warnx("%s", msg);
		bot.prep_cur = xreallocarray(
		    bot.prep_cur, bot.n_prep_cur + 1, sizeof(char *));
		bot.prep_cur[bot.n_prep_cur++] = msg;
		job_unref(job);
	}
	u->n_jobs = o;
	bot_prep_rotate();
}

static void
bot_log_job(const struct job *job)
{
	char iv[128];
	size_t i, o = 0;

	iv[0] = '\0';
	for (i = 0; i < job->n_intervals && o < sizeof(iv) - 16; i++)
		o += (size_t)snprintf(iv + o, sizeof(iv) - o, "%s%d",
		    i ? "," : "", job->intervals_s[i]);
	if (bot.ops->account_intervals_s != NULL)
		log_info("job %lld (%s): %zu entities, every %s s",
		    (long long)job->id, job->name,
		    json_object_array_length(job->details), iv);
	else
		log_info("job %lld (%s): account %lld, %zu sensor%s every %s s",
		    (long long)job->id, job->name, (long long)job->account_id,
		    job->n_sensors, job->n_sensors == 1 ? "" : "s", iv);
}

static void bot_start_once(void);

static void
bot_apply(struct job_update *u)
{
	struct sched_stats st;
	size_t i, n_new = 0;

	if (bot.ops->account_intervals_s != NULL)
		jobgroup_by_account(u, bot.ops->account_intervals_s,
		    bot.ops->n_account_intervals);
	bot_prepare_jobs(u);
	for (i = 0; i < u->n_jobs; i++) {
		struct job *old = sched_find(bot.sched, u->jobs[i]->id);

		if (old == NULL ||
		    strcmp(old->fingerprint, u->jobs[i]->fingerprint) != 0)
			n_new++;
	}
	for (i = 0; i < u->n_jobs && n_new <= 100; i++) {
		struct job *old = sched_find(bot.sched, u->jobs[i]->id);

		if (old == NULL ||
		    strcmp(old->fingerprint, u->jobs[i]->fingerprint) != 0)
			bot_log_job(u->jobs[i]);
	}
	sched_apply(bot.sched, u, &st);
	if (st.added || st.changed || st.removed || !bot.ready)
		log_info("jobs: %zu %s job%s (%zu new, %zu changed, %zu "
		         "removed)",
		    sched_job_count(bot.sched), bot.ops->protocol,
		    sched_job_count(bot.sched) == 1 ? "" : "s", st.added,
		    st.changed, st.removed);
	bot.ready = 1;
	if (bot.cfg.once)
		bot_start_once();
}

static void bot_refresh(void);

/* After a refresh that failed in whole or in part, the next one comes
 * sooner than JOBS_REFRESH_INTERVAL: 5 s, doubling (with jitter) up to the
 * interval; a complete refresh resets the delay. */
static void
bot_schedule_retry(int failed)
{
	int64_t delay, next;

	if (!failed) {
		backoff_reset(&bot.refresh_backoff);
		return;
	}
	if (bot.stopping || bot.cfg.once)
		return;
	delay = backoff_next(&bot.refresh_backoff);
	next = timer_now_ms() + delay;
	if (!timer_armed(&bot.refresh_timer) ||
	    next < bot.refresh_timer.deadline_ms) {
		log_info("jobs: refresh incomplete; trying again in %lld s",
		    (long long)(delay + 999) / 1000);
		loop_timer_at(bot.loop, &bot.refresh_timer, next);
	}
}

static void
bot_on_fetched(struct job_update *u, int ok, void *arg)
{
	(void)arg;
	bot_schedule_retry(
	    !ok || u->n_keep_accounts > 0 || u->n_keep_entities > 0);
	if (!bot.stopping && ok)
		bot_apply(u);
	else if (!ok && bot.cfg.once && !bot.ready) {
		log_warnx("--once: could not fetch the jobs");
		bot.exit_code = 1;
		bot.stopping = 1;
		bot_shutdown_step();
	}
	job_update_release(u);
	if (bot.refresh_again && !bot.stopping) {
		bot.refresh_again = 0;
		bot_refresh();
	}
}

static void
bot_load_file(void)
{
	struct job_update u;
	char err[BOT_ERRLEN];

	job_update_init(&u);
	if (jobs_load_file(bot.cfg.jobs_file, bot.ops->protocol, &u, err,
	        sizeof(err)) == -1) {
		if (!bot.ready)
			fatalx("--jobs: %s", err);
		log_warnx("--jobs: %s; keeping the current jobs", err);
	} else {
		bot_apply(&u);
	}
	job_update_release(&u);
}

static void
bot_refresh(void)
{
	if (bot.stopping)
		return;
	if (bot.cfg.jobs_file != NULL) {
		bot_load_file();
		return;
	}
	if (backend_bot_id(bot.backend) < 0)
		return; /* not ready yet: the first refresh follows */
	if (jobfetch_start(
	        bot.backend, bot.ops->protocol, bot_on_fetched, NULL) == -1)
		bot.refresh_again = 1;
}

static void
bot_on_refresh_timer(struct timer *t, void *arg)
{
	(void)arg;
	bot_refresh();
	if (!bot.cfg.once)
		loop_timer_start(bot.loop, t, bot.cfg.refresh_s * 1000);
}

static void
bot_on_ready(int64_t bot_id, void *arg)
{
	(void)bot_id;
	(void)arg;
	loop_timer_start(bot.loop, &bot.refresh_timer, 0);
}

/* --- once mode and shutdown ------------------------------------------- */

static void
bot_start_once(void)
{
	if (sched_job_count(bot.sched) == 0) {
		log_warnx("--once: no %s jobs found", bot.ops->protocol);
		bot.exit_code = 1;
	} else {
		log_info(
		    "--once: running %zu jobs", sched_job_count(bot.sched));
		sched_run_all_once(bot.sched);
	}
	bot.stopping = 1;
	if (bot.runs_active == 0)
		bot_shutdown_step();
}

static void
bot_on_flushed(void *arg)
{
	(void)arg;
	loop_break(bot.loop);
}

static void
bot_on_stop_timer(struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
	if (bot.runs_active > 0)
		log_warnx("stopping: %zu runs still in progress at the "
		          "deadline",
		    bot.runs_active);
	bot.runs_active = 0;
	bot_shutdown_step();
}

/* Waits for runs in progress, then flushes the sender, then breaks. */
static void
bot_shutdown_step(void)
{
	if (bot.runs_active > 0) {
		if (!timer_armed(&bot.stop_timer))
			loop_timer_at(
			    bot.loop, &bot.stop_timer, bot.stop_deadline_ms);
		return;
	}
	loop_timer_stop(bot.loop, &bot.stop_timer);
	/* --once: the flush deadline starts when the last run is done. */
	if (bot.stop_deadline_ms == 0)
		bot.stop_deadline_ms = timer_now_ms() + bot.cfg.flush_s * 1000;
	sender_flush(bot.sender, bot.stop_deadline_ms, bot_on_flushed, NULL);
}

static void
bot_on_stop(int signo, void *arg)
{
	(void)arg;
	if (bot.stopping && !bot.cfg.once) {
		log_warnx("stopping: second signal, exiting now");
		loop_break(bot.loop);
		return;
	}
	log_info("stopping: signal %d; delivering queued values (up to %lld "
	         "s)",
	    signo, (long long)bot.cfg.flush_s);
	bot.stopping = 1;
	bot.cfg.once = 0;
	bot.stop_deadline_ms = timer_now_ms() + bot.cfg.flush_s * 1000;
	sched_stop(bot.sched);
	loop_timer_stop(bot.loop, &bot.refresh_timer);
	bot_shutdown_step();
}

static void
bot_on_hup(int signo, void *arg)
{
	(void)signo;
	(void)arg;
	log_info("SIGHUP: refreshing jobs now");
	bot_refresh();
}

static void
bot_setup(void)
{
	struct http_config hc;

	loop_on_signals(bot.loop, bot_on_stop, bot_on_hup, NULL);
	jobs_set_sensor_interval_optional(bot.ops->account_intervals_s != NULL);
	timer_init(&bot.refresh_timer, bot_on_refresh_timer, NULL);
	backoff_init(&bot.refresh_backoff, 5000, bot.cfg.refresh_s * 1000, 0);
	timer_init(&bot.stop_timer, bot_on_stop_timer, NULL);
	bot.sched = sched_new(
	    bot.loop, bot_run_job, NULL, bot.cfg.once ? 0 : bot.cfg.spread_ms);
	if (bot.cfg.backend_url != NULL &&
	    (!bot.cfg.to_stdout || bot.cfg.jobs_file == NULL)) {
		http_config_defaults(&hc);
		hc.total_timeout_ms = bot.cfg.timeout_s * 1000;
		hc.connect_timeout_ms = bot.cfg.connect_timeout_s * 1000;
		hc.low_speed_bps = bot.cfg.low_speed_bps;
		hc.low_speed_time_s = bot.cfg.low_speed_time_s;
		hc.ca_file = bot.cfg.ca_file;
		hc.user_agent = bot.ops->name;
		bot.http = http_new(bot.loop, &hc);
		bot.backend = backend_new(
		    bot.loop, bot.http, bot.cfg.backend_url, bot.cfg.token);
	}
	if (bot.cfg.to_stdout) {
		bot.sender = sender_stdout_new(stdout);
	} else {
		bot.sender = sender_backend_new(bot.backend, &bot.cfg.send);
	}
}

static void
bot_teardown(void)
{
	struct sched_counters sc;

	bot.loop_done = 1;
	/* The bot ends its unfinished runs here; their values count as
	 * undelivered below. */
	if (bot.ops->shutdown != NULL)
		bot.ops->shutdown();
	sched_get_counters(bot.sched, &sc);
	log_info("exiting: %llu runs, %llu skipped",
	    (unsigned long long)sc.runs, (unsigned long long)sc.skipped);
	/* One line with every delivery counter, "N undelivered" last. */
	sender_log_totals(bot.sender);
	sched_free(bot.sched);
	bot.sched = NULL;
	sender_free(bot.sender);
	backend_free(bot.backend);
	http_free(bot.http);
	loop_free(bot.loop);
	bot_prep_rotate();
	bot_prep_rotate();
	if (bot.cfg.token != NULL) {
		memset(bot.cfg.token, 0, strlen(bot.cfg.token));
		free(bot.cfg.token);
	}
}

int
bot_main(int argc, char **argv, const struct bot_ops *ops)
{
	int rc;

	memset(&bot, 0, sizeof(bot));
	bot.ops = ops;
	rc = bot_parse_args(argc, argv);
	if (rc != 0)
		return rc - 1;
	log_init(ops->name, bot_log_level());
	/* The loop installs the signal handlers; it must exist before we
	 * wait for the token file, so SIGTERM can end that wait. */
	bot.loop = loop_new();
	bot_read_env();
	bot_setup();
	log_info("%s %s starting: protocol %s, jobs from %s, values to %s",
	    ops->name, BOT_VERSION, ops->protocol,
	    bot.cfg.jobs_file ? bot.cfg.jobs_file : bot.cfg.backend_url,
	    bot.cfg.to_stdout ? "stdout" : bot.cfg.backend_url);
	if (ops->init != NULL && ops->init(bot.loop) == -1) {
		bot.exit_code = 1;
		goto out;
	}
	if (bot.cfg.jobs_file != NULL)
		loop_timer_start(bot.loop, &bot.refresh_timer, 0);
	else
		backend_wait_ready(
		    bot.backend, bot.cfg.wait_s * 1000, bot_on_ready, NULL);
	if (loop_run(bot.loop) == -1)
		bot.exit_code = 1;
	/* --once is for scripts: values left undelivered are a failure. */
	if (bot.cfg.once && sender_pending(bot.sender) > 0)
		bot.exit_code = 1;
out:
	bot_teardown();
	return bot.exit_code;
}
