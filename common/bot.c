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
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend.h"
#include "backoff.h"
#include "bot_test.h"
#include "buf.h"
#include "env.h"
#include "graphite.h"
#include "health.h"
#include "http.h"
#include "jobfetch.h"
#include "jobgroup.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "output.h"
#include "path.h"
#include "promexp.h"
#include "sched.h"
#include "sender.h"
#include "settings.h"
#include "strset.h"
#include "timer.h"
#include "values.h"
#include "xmalloc.h"

#ifndef BOT_VERSION
#define BOT_VERSION "dev"
#endif

/* One run of a job (opaque in bot.h). */
struct run {
	struct job *job; /* the run holds a reference */
	int *due_s;      /* the intervals that caused this run */
	size_t n_due;
	struct values *values;
	int64_t start_ms; /* monotonic, for the run-time counter */
};

struct bot_config {
	const char *jobs_file;
	int once;
	struct output_spec outputs[OUTPUT_MAX];
	size_t n_outputs;
	int to_backend; /* one of the outputs is Grafolean */
	int64_t graphite_timeout_s;
	int64_t prom_ttl_s;
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
	struct output *out;
	struct timer refresh_timer;
	struct backoff refresh_backoff;
	struct timer stop_timer;
	size_t runs_active;
	uint64_t run_ms_total; /* time runs took, for the Prometheus output */
	int ready;
	int stopping;
	int loop_done;
	int refresh_again;
	int exit_code;
	int64_t stop_deadline_ms;
	const char *ca_file_arg; /* --ca-file */
	struct log_limit emit_limit;
	/* job_prepare errors of the last and of this refresh, so each is
	 * logged once */
	struct strset prep_prev, prep_cur;
	struct timer apply_timer; /* the next slice of an update */
	int applying;
	size_t n_fresh;   /* new or changed jobs of this update */
	char *fresh[100]; /* ... the first ones' log lines */
};

static struct bot bot;

/*
 * GnuTLS's documented opt-out of its implicit initialisation
 * (GNUTLS_SKIP_GLOBAL_INIT in gnutls.h, written out here so the build
 * needs no GnuTLS headers).  Bots never use GnuTLS: libcurl speaks
 * OpenSSL, and GnuTLS is only loaded because librtmp and libldap link it
 * (both call gnutls_global_init themselves when used, and libmicrohttpd,
 * opened for the Prometheus endpoint, does too).  Its constructor would
 * otherwise load p11-kit modules and cost about 0.7 MiB in every bot.
 */
int _gnutls_global_init_skip(void);
int
_gnutls_global_init_skip(void)
{
	return 1;
}

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

/* The runtime's settings (health.c has its own: health_settings). */
static const struct setting bot_settings[] = {
    {"BACKEND_URL", NULL, 0, 0,
        "Grafolean API base, ending in /api (e.g. http://grafolean/api; "
        "no user:pass@); required unless --jobs and no grafolean output"},
    {"OUTPUTS", NULL, 0, 0,
        "outputs as for --output, separated by commas (unset: as --output "
        "says)"},
    {"GRAPHITE_TIMEOUT", "30", 1, 3600,
        "seconds to connect to Carbon, and for written data to be "
        "acknowledged"},
    {"PROMETHEUS_SERIES_TTL", "3600", 1, 31 * 86400,
        "seconds a series seen once stays on /metrics; others go after two "
        "of their intervals without a value"},
    {"BOT_TOKEN", NULL, 0, 0, "the bot's token (a UUID from Grafolean)"},
    {"BOT_TOKEN_FROM_FILE", NULL, 0, 0,
        "file holding the token; waited for while it does not exist (a "
        "file this user owns should be mode 600: one others can read is "
        "warned of)"},
    {"JOBS_REFRESH_INTERVAL", "120", 1, 86400, "seconds between job refreshes"},
    {"JOBS_FIRST_RUN_SPREAD_MS", "5000", 0, 3600000,
        "new jobs start at a random offset up to this many ms (0 = at "
        "once)"},
    {"BACKEND_WAIT_INTERVAL", "10", 1, 3600,
        "seconds between readiness checks"},
    {"BACKEND_TIMEOUT", "30", 1, 3600, "seconds a backend request may take"},
    {"BACKEND_CONNECT_TIMEOUT", "10", 1, 3600,
        "seconds to resolve and connect"},
    {"BACKEND_LOW_SPEED_LIMIT", "10", 0, 1000000000,
        "a transfer slower than this many bytes/s for "
        "BACKEND_LOW_SPEED_TIME seconds is aborted"},
    {"BACKEND_LOW_SPEED_TIME", "15", 1, 3600,
        "seconds below BACKEND_LOW_SPEED_LIMIT that abort a transfer"},
    {"BACKEND_CA_FILE", NULL, 0, 0,
        "CA bundle for an https backend (--ca-file overrides it)"},
    {"SHUTDOWN_FLUSH_TIMEOUT", "8", 0, 3600,
        "seconds after SIGTERM for runs to end and values to be delivered"},
    {"SEND_BUFFER_MAX_BYTES", "67108864", 65536, INT64_C(1) << 40,
        "memory for values waiting to be sent, per Grafolean or Graphite "
        "output; the oldest are dropped"},
    {"SEND_BUFFER_MAX_VALUES", "0", 0, INT64_C(1) << 32,
        "the same bound as a count (0 = none)"},
    {"SEND_BUFFER_MAX_AGE", "86400", 1, 365 * 86400,
        "seconds a value may wait"},
    {"SEND_RETRY_MIN_MS", "1000", 100, 3600000,
        "first retry delay and the floor, ms"},
    {"SEND_RETRY_MAX_MS", "60000", 100, 86400000,
        "longest retry delay, ms (at least SEND_RETRY_MIN_MS); delays "
        "double, with jitter, in between"},
    {"SEND_RETRY_AFTER_MAX", "3600", 0, 86400, "longest Retry-After obeyed, s"},
    {"SEND_POST_MAX_AGE", "30", 1, 86400,
        "when PUT is refused (403), values go by POST, which cannot carry "
        "their time: older ones are dropped, s"},
    {"SEND_STATS_INTERVAL", "60", 0, 86400,
        "seconds between counter lines, 0 turns them off"},
    {"SEND_SPOOL_DIR", NULL, 0, 0,
        "also keep waiting values in this directory, so that a restart "
        "loses none (unset: no spool)"},
    {"SEND_SPOOL_MAX_BYTES", "268435456", 1048576, INT64_C(1) << 44,
        "disk bound of the spool"},
    {"LOG_LEVEL", "info", 0, 0, "warn, info or debug"},
    {"DEBUG", "0", 0, 0, "1 is the same as LOG_LEVEL=debug"},
    {NULL, NULL, 0, 0, NULL},
};

static void
bot_usage(FILE *f)
{
	const struct bot_ops *o = bot.ops;

	fprintf(f,
	    "Usage: %s [--jobs FILE] [--output OUTPUT]... [--once]\n"
	    "       [--ca-file FILE] | --health\n"
	    "%s\n"
	    "\n"
	    "Options:\n"
	    "  --jobs FILE       read job configs from FILE (a JSON list of\n"
	    "                    entities with credential and sensors "
	    "resolved,\n"
	    "                    see examples/) instead of the backend;\n"
	    "                    re-read every JOBS_REFRESH_INTERVAL and on\n"
	    "                    SIGHUP\n"
	    "  --output OUTPUT   where values go; repeat it for several\n"
	    "                    (overrides OUTPUTS):\n"
	    "                    grafolean  the backend (default; also\n"
	    "                               'backend')\n"
	    "                    stdout     \"path value timestamp\" lines\n"
	    "                               (Graphite plaintext); the\n"
	    "                               default with --jobs when\n"
	    "                               BACKEND_URL is not set\n"
	    "                    graphite://HOST[:PORT]  Carbon plaintext\n"
	    "                               over TCP (port 2003)\n"
	    "                    prometheus://[ADDR]:PORT  serve /metrics\n"
	    "                               (no ADDR: every address)\n"
	    "  --once            run every job once, deliver the values, exit\n"
	    "                    (exit 1 when values were left undelivered at\n"
	    "                    SHUTDOWN_FLUSH_TIMEOUT)\n"
	    "  --ca-file FILE    CA bundle for an https backend (overrides\n"
	    "                    BACKEND_CA_FILE); verification is always on\n"
	    "  --health          check HEALTH_FILE (a Docker HEALTHCHECK):\n"
	    "                    exit 0 when the running bot reports healthy\n"
	    "%s"
	    "  -h, --help        show this help\n"
	    "  -V, --version     show the version\n"
	    "\n"
	    "Environment:\n",
	    o->name, o->summary, o->flags_help ? o->flags_help : "");
	settings_help(f, bot_settings);
	settings_help(f, health_settings);
	settings_help(f, o->settings);
	fprintf(f,
	    "\n"
	    "Signals: SIGTERM/SIGINT stop (values are flushed first), SIGHUP\n"
	    "refreshes the jobs now.\n");
}

static enum log_level
bot_log_level(void)
{
	const char *lvl = settings_str(bot_settings, "LOG_LEVEL");

	if (settings_bool(bot_settings, "DEBUG"))
		return LOG_LEVEL_DEBUG;
	if (strcasecmp(lvl, "info") == 0)
		return LOG_LEVEL_INFO;
	if (strcasecmp(lvl, "debug") == 0)
		return LOG_LEVEL_DEBUG;
	if (strcasecmp(lvl, "warn") == 0 || strcasecmp(lvl, "warning") == 0)
		return LOG_LEVEL_WARN;
	fatalx("LOG_LEVEL: \"%s\" is not one of warn, info, debug", lvl);
}

static int
bot_add_output(const char *spec)
{
	char err[BOT_ERRLEN];
	struct output_spec *o;

	if (bot.cfg.n_outputs == OUTPUT_MAX) {
		fprintf(stderr, "%s: at most %d outputs\n", bot.ops->name,
		    OUTPUT_MAX);
		return -1;
	}
	o = &bot.cfg.outputs[bot.cfg.n_outputs];
	if (output_parse(spec, o, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: output \"%s\": %s\n", bot.ops->name, spec,
		    err);
		return -1;
	}
	bot.cfg.n_outputs++;
	if (o->kind == OUTPUT_GRAFOLEAN)
		bot.cfg.to_backend = 1;
	return 0;
}

/* --output, else OUTPUTS, else Grafolean (stdout with --jobs and no
 * BACKEND_URL).  Returns 0, or 3 (exit code 2 + 1: a usage error). */
static int
bot_parse_outputs(const char **specs, size_t n)
{
	const char *env = settings_str(bot_settings, "OUTPUTS");
	char *copy, *tok, *save = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (bot_add_output(specs[i]) == -1)
			return 3;
	if (n == 0 && env != NULL && *env != '\0') {
		copy = xstrdup(env);
		for (tok = strtok_r(copy, ", ", &save); tok != NULL && rc == 0;
		     tok = strtok_r(NULL, ", ", &save))
			if (bot_add_output(tok) == -1)
				rc = 3;
		free(copy);
		if (rc != 0)
			return rc;
	}
	if (bot.cfg.n_outputs == 0)
		return bot_add_output(bot.cfg.jobs_file != NULL &&
		                   bot.cfg.backend_url == NULL
		               ? "stdout"
		               : "grafolean") == -1
		    ? 3
		    : 0;
	return 0;
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
	    {"health", no_argument, NULL, 'H'},
	};
	const size_t n_base = sizeof(base) / sizeof(base[0]);
	const char *outputs[OUTPUT_MAX];
	size_t n_outputs = 0;
	struct option *longopts;
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
			if (n_outputs == OUTPUT_MAX) {
				fprintf(stderr, "%s: at most %d outputs\n",
				    bot.ops->name, OUTPUT_MAX);
				rc = 3;
				break;
			}
			outputs[n_outputs++] = optarg;
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
		case 'H':
			rc = 1 + health_check(bot.ops->name);
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
	bot.cfg.backend_url = settings_str(bot_settings, "BACKEND_URL");
	return bot_parse_outputs(outputs, n_outputs);
}

/* The sender's bounds, retry timing and spool (see --help). */
static void
bot_read_send_env(struct sender_config *sc)
{
	sender_config_defaults(sc);
	sc->max_buffer_bytes =
	    (size_t)settings_int(bot_settings, "SEND_BUFFER_MAX_BYTES");
	sc->max_buffer_values =
	    (size_t)settings_int(bot_settings, "SEND_BUFFER_MAX_VALUES");
	sc->max_age_ms =
	    1000 * settings_int(bot_settings, "SEND_BUFFER_MAX_AGE");
	sc->retry_min_ms = settings_int(bot_settings, "SEND_RETRY_MIN_MS");
	sc->retry_max_ms = settings_int_at_least(
	    bot_settings, "SEND_RETRY_MAX_MS", sc->retry_min_ms);
	sc->retry_after_max_ms =
	    1000 * settings_int(bot_settings, "SEND_RETRY_AFTER_MAX");
	sc->post_max_age_ms =
	    1000 * settings_int(bot_settings, "SEND_POST_MAX_AGE");
	sc->stats_interval_ms =
	    1000 * settings_int(bot_settings, "SEND_STATS_INTERVAL");
	sc->spool_dir = settings_str(bot_settings, "SEND_SPOOL_DIR");
	sc->spool_max_bytes =
	    (uint64_t)settings_int(bot_settings, "SEND_SPOOL_MAX_BYTES");
}

static void
bot_read_env(void)
{
	char err[BOT_ERRLEN];
	int need_backend = bot.cfg.to_backend || bot.cfg.jobs_file == NULL;

	bot.cfg.refresh_s = settings_int(bot_settings, "JOBS_REFRESH_INTERVAL");
	bot.cfg.spread_ms =
	    settings_int(bot_settings, "JOBS_FIRST_RUN_SPREAD_MS");
	bot.cfg.wait_s = settings_int(bot_settings, "BACKEND_WAIT_INTERVAL");
	bot.cfg.timeout_s = settings_int(bot_settings, "BACKEND_TIMEOUT");
	bot.cfg.connect_timeout_s =
	    settings_int(bot_settings, "BACKEND_CONNECT_TIMEOUT");
	bot.cfg.low_speed_bps =
	    settings_int(bot_settings, "BACKEND_LOW_SPEED_LIMIT");
	bot.cfg.low_speed_time_s =
	    settings_int(bot_settings, "BACKEND_LOW_SPEED_TIME");
	bot_read_send_env(&bot.cfg.send);
	bot.cfg.flush_s = settings_int(bot_settings, "SHUTDOWN_FLUSH_TIMEOUT");
	bot.cfg.graphite_timeout_s =
	    settings_int(bot_settings, "GRAPHITE_TIMEOUT");
	bot.cfg.prom_ttl_s =
	    settings_int(bot_settings, "PROMETHEUS_SERIES_TTL");
	bot.cfg.ca_file = bot.ca_file_arg != NULL
	    ? bot.ca_file_arg
	    : settings_str(bot_settings, "BACKEND_CA_FILE");
	if (!need_backend)
		return;
	if (bot.cfg.backend_url == NULL)
		fatalx("BACKEND_URL is not set (for example "
		       "BACKEND_URL=http://grafolean/api); use --jobs FILE "
		       "--output stdout (or graphite, prometheus) to run "
		       "without a backend");
	if (backend_check_url(bot.cfg.backend_url, err, sizeof(err)) == -1)
		fatalx("BACKEND_URL %s", err);
	bot.cfg.token =
	    settings_secret(bot_settings, "BOT_TOKEN", 2000, loop_stop_flag());
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
	run->start_ms = timer_now_ms();
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
	if (values_add(run->values, path, v, t) == -1)
		log_warnx_limited(&bot.emit_limit, 60000,
		    "job %lld: %s: value is not a finite number; dropped",
		    (long long)run->job->id, path);
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

const int *
run_due(const struct run *run, size_t *n)
{
	*n = run->n_due;
	return run->due_s;
}

void
run_emit_unchecked(struct run *run, const char *path, double v, double t)
{
	values_add(run->values, path, v, t);
}

void
run_done(struct run *run)
{
	struct values *vs = run->values;
	struct job *job = run->job;

	log_debug("job %lld (%s): run done, %zu values", (long long)job->id,
	    job->name, vs->len);
	bot.run_ms_total += (uint64_t)(timer_now_ms() - run->start_ms);
	output_put(bot.out, vs);
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

/* Work done in one go on an update before the loop gets its turn. */
#define BOT_APPLY_SLICE_MS 20

static char *bot_job_line(const struct job *job);

/* jobfetch's prepare hook (per-entity jobs): the bot parses a new or
 * changed job as soon as it is built, while the refresh's other answers
 * are on their way, and its JSON goes at once.  A refusal is undone and
 * left to bot_prepare_job, which says why when the update is applied. */
static int
bot_prepare_early(struct job *job, void *arg)
{
	char err[BOT_ERRLEN];

	(void)arg;
	if (bot.ops->job_prepare != NULL &&
	    bot.ops->job_prepare(job, err, sizeof(err)) != 0) {
		if (job->priv_free != NULL)
			job->priv_free(job->priv);
		job->priv = NULL;
		job->priv_free = NULL;
		return -1;
	}
	job_drop_json(job);
	return 0;
}

/* sched_apply's prepare hook: the bot parses a new or changed job, unless
 * bot_prepare_early did (its JSON is gone: every job the runtime builds
 * carries JSON, live or parked, until it is prepared). */
static int
bot_prepare_job(struct job *job, void *arg)
{
	char err[BOT_ERRLEN], *msg;

	(void)arg;
	err[0] = '\0';
	if (job->details == NULL && job->credential == NULL &&
	    job->parked == NULL)
		goto prepared;
	if (job_unpark_json(job) == -1) {
		snprintf(err, sizeof(err), "its parked JSON does not parse");
		goto refused;
	}
	if (bot.ops->job_prepare == NULL ||
	    bot.ops->job_prepare(job, err, sizeof(err)) == 0) {
	prepared:
		/* The line is made now: the job's JSON goes after this. */
		if (bot.n_fresh < sizeof(bot.fresh) / sizeof(bot.fresh[0]))
			bot.fresh[bot.n_fresh] = bot_job_line(job);
		bot.n_fresh++;
		job_drop_json(job);
		return 0;
	}
refused:
	msg = xasprintf("job %lld (%s): not polled: %s", (long long)job->id,
	    job->name, err);
	if (strset_add(&bot.prep_cur, msg) && !strset_has(&bot.prep_prev, msg))
		log_warnx("%s", msg);
	free(msg);
	return -1;
}

/* sched_apply's unchanged hook. */
static void
bot_job_unchanged(struct job *job, void *arg)
{
	(void)arg;
	if (bot.ops->job_unchanged != NULL)
		bot.ops->job_unchanged(job);
}

/* The line that announces a new or changed job. */
static char *
bot_job_line(const struct job *job)
{
	char iv[128];
	size_t i, o = 0;

	iv[0] = '\0';
	for (i = 0; i < job->n_intervals && o < sizeof(iv) - 16; i++)
		o += (size_t)snprintf(iv + o, sizeof(iv) - o, "%s%d",
		    i ? "," : "", job->intervals_s[i]);
	if (bot.ops->job_mode == BOT_JOBS_PER_ACCOUNT)
		return xasprintf("job %lld (%s): %zu entities, every %s s",
		    (long long)job->id, job->name,
		    json_object_array_length(job->details), iv);
	return xasprintf("job %lld (%s): account %lld, %zu sensor%s every %s s",
	    (long long)job->id, job->name, (long long)job->account_id,
	    job->n_sensors, job->n_sensors == 1 ? "" : "s", iv);
}

static void bot_start_once(void);
static void bot_refresh(void);

static void
bot_fresh_release(void)
{
	size_t i, n = bot.n_fresh;

	if (n > sizeof(bot.fresh) / sizeof(bot.fresh[0]))
		n = sizeof(bot.fresh) / sizeof(bot.fresh[0]);
	for (i = 0; i < n; i++)
		free(bot.fresh[i]);
	bot.n_fresh = 0;
}

/* One slice of the update being applied; at the end, the summary. */
static void
bot_apply_step(void)
{
	struct sched_stats st;
	size_t i;

	if (!sched_apply_step(bot.sched, BOT_APPLY_SLICE_MS, &st)) {
		loop_timer_start(bot.loop, &bot.apply_timer, 0);
		return;
	}
	bot.applying = 0;
	strset_move(&bot.prep_prev, &bot.prep_cur);
	/* A refresh parses megabytes of JSON and frees them again: give the
	 * pages back instead of keeping the high-water mark. */
	malloc_trim(0);
	/* Each new or changed job in a line, unless there are many. */
	for (i = 0; i < bot.n_fresh && bot.n_fresh <= 100; i++)
		log_info("%s", bot.fresh[i]);
	bot_fresh_release();
	if (st.added || st.changed || st.removed || !bot.ready)
		log_info("jobs: %zu %s job%s (%zu new, %zu changed, %zu "
		         "removed)",
		    sched_job_count(bot.sched), bot.ops->protocol,
		    sched_job_count(bot.sched) == 1 ? "" : "s", st.added,
		    st.changed, st.removed);
	bot.ready = 1;
	if (bot.cfg.once) {
		bot_start_once();
		return;
	}
	if (bot.refresh_again && !bot.stopping) {
		bot.refresh_again = 0;
		bot_refresh();
	}
}

static void
bot_on_apply_timer(struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
	bot_apply_step();
}

/* Hands u (emptied) to the scheduler; large updates are applied in
 * slices of BOT_APPLY_SLICE_MS so the loop keeps running jobs. */
static void
bot_apply(struct job_update *u)
{
	static const struct sched_hooks hooks = {
	    bot_prepare_job, bot_job_unchanged, NULL};

	if (bot.ops->job_mode == BOT_JOBS_PER_ACCOUNT)
		jobgroup_by_account(u, bot.ops->account_intervals_s,
		    bot.ops->n_account_intervals);
	bot_fresh_release();
	sched_apply_start(bot.sched, u, &hooks);
	bot.applying = 1;
	bot_apply_step();
}

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
	bot_schedule_retry(!ok || u->n_keeps > 0);
	if (!bot.stopping && ok) {
		bot_apply(u);
		job_update_release(u);
		return; /* the end of the update sees to refresh_again */
	}
	if (!ok && bot.cfg.once && !bot.ready) {
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

/* Per-account jobs take sensors without intervals (jobs.h). */
static unsigned
bot_job_flags(void)
{
	return bot.ops->job_mode == BOT_JOBS_PER_ACCOUNT
	    ? JOBS_SENSOR_INTERVAL_OPTIONAL
	    : 0;
}

static void
bot_load_file(void)
{
	struct job_update u;
	char err[BOT_ERRLEN];

	job_update_init(&u);
	if (jobs_load_file(bot.cfg.jobs_file, bot.ops->protocol,
	        bot_job_flags(), &u, err, sizeof(err)) == -1) {
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
	if (bot.applying) {
		bot.refresh_again = 1; /* after this update */
		return;
	}
	if (bot.cfg.jobs_file != NULL) {
		bot_load_file();
		return;
	}
	if (backend_bot_id(bot.backend) < 0)
		return; /* not ready yet: the first refresh follows */
	/* Per-entity jobs: an unchanged entity gives its scheduled job again
	 * without being parsed, a new or changed one is prepared as soon as
	 * it is built (jobfetch.h). */
	jobfetch_set_prepare(bot.ops->job_mode == BOT_JOBS_PER_ACCOUNT
	        ? NULL
	        : bot_prepare_early,
	    NULL);
	if (jobfetch_start(bot.backend, bot.ops->protocol,
	        bot_job_flags() |
	            (bot.ops->job_mode == BOT_JOBS_PER_ACCOUNT
	                    ? 0
	                    : JOBFETCH_REUSE),
	        bot_on_fetched, NULL) == -1)
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
	output_flush(bot.out, bot.stop_deadline_ms, bot_on_flushed, NULL);
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
	sched_stop(bot.sched); /* drops an update being applied */
	loop_timer_stop(bot.loop, &bot.apply_timer);
	bot.applying = 0;
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

/* The bot's own counters on /metrics. */
static void
bot_prom_self(void *arg, struct buf *out)
{
	struct sender *snd = output_sender(bot.out);
	struct graphite_counters gc;
	struct sender_counters c;
	struct sched_counters sc;
	struct graphite *g;
	const char *n = bot.ops->name;
	size_t i;
	int rc = 0;

	(void)arg;
	sched_get_counters(bot.sched, &sc);
	rc |= buf_printf(out,
	    "# HELP grafolean_bot_runs_total Job runs started.\n"
	    "# TYPE grafolean_bot_runs_total counter\n"
	    "grafolean_bot_runs_total{bot=\"%s\"} %llu\n"
	    "# HELP grafolean_bot_runs_skipped_total Runs not started because "
	    "the previous one was still busy or the loop fell behind.\n"
	    "# TYPE grafolean_bot_runs_skipped_total counter\n"
	    "grafolean_bot_runs_skipped_total{bot=\"%s\"} %llu\n"
	    "# HELP grafolean_bot_run_seconds_total Time job runs took.\n"
	    "# TYPE grafolean_bot_run_seconds_total counter\n"
	    "grafolean_bot_run_seconds_total{bot=\"%s\"} %.3f\n"
	    "# HELP grafolean_bot_runs_active Runs in progress.\n"
	    "# TYPE grafolean_bot_runs_active gauge\n"
	    "grafolean_bot_runs_active{bot=\"%s\"} %zu\n",
	    n, (unsigned long long)sc.runs, n, (unsigned long long)sc.skipped,
	    n, (double)bot.run_ms_total / 1000.0, n, bot.runs_active);
	if (snd != NULL) {
		sender_get_counters(snd, &c);
		rc |= buf_printf(out,
		    "# HELP grafolean_bot_values_total Values by what became "
		    "of them in the Grafolean output.\n"
		    "# TYPE grafolean_bot_values_total counter\n"
		    "grafolean_bot_values_total{bot=\"%s\",state=\"queued\"} "
		    "%llu\n"
		    "grafolean_bot_values_total{bot=\"%s\",state=\"sent\"} "
		    "%llu\n"
		    "grafolean_bot_values_total{bot=\"%s\",state=\"retried\"} "
		    "%llu\n"
		    "grafolean_bot_values_total{bot=\"%s\",state=\"dropped_"
		    "full\"} "
		    "%llu\n"
		    "grafolean_bot_values_total{bot=\"%s\",state=\"dropped_"
		    "old\"} "
		    "%llu\n"
		    "grafolean_bot_values_total{bot=\"%s\",state=\"dropped_"
		    "refused\"} "
		    "%llu\n"
		    "grafolean_bot_values_total{bot=\"%s\",state=\"dropped_"
		    "stale\"} "
		    "%llu\n"
		    "# HELP grafolean_bot_values_pending Values waiting to be "
		    "delivered to Grafolean.\n"
		    "# TYPE grafolean_bot_values_pending gauge\n"
		    "grafolean_bot_values_pending{bot=\"%s\"} %zu\n"
		    "# HELP grafolean_bot_requests_total Value requests sent "
		    "to "
		    "Grafolean.\n"
		    "# TYPE grafolean_bot_requests_total counter\n"
		    "grafolean_bot_requests_total{bot=\"%s\"} %llu\n"
		    "# HELP grafolean_bot_requests_failed_total Value requests "
		    "that failed.\n"
		    "# TYPE grafolean_bot_requests_failed_total counter\n"
		    "grafolean_bot_requests_failed_total{bot=\"%s\"} %llu\n",
		    n, (unsigned long long)c.queued, n,
		    (unsigned long long)c.sent, n,
		    (unsigned long long)c.retried, n,
		    (unsigned long long)c.dropped_full, n,
		    (unsigned long long)c.dropped_old, n,
		    (unsigned long long)c.dropped_refused, n,
		    (unsigned long long)c.dropped_stale, n, sender_pending(snd),
		    n, (unsigned long long)c.batches, n,
		    (unsigned long long)c.failed);
	}
	for (i = 0; (g = output_graphite(bot.out, i)) != NULL; i++) {
		graphite_get_counters(g, &gc);
		if (i == 0)
			rc |= buf_printf(out,
			    "# HELP grafolean_bot_graphite_values_total Values "
			    "by what became of them in a Graphite output.\n"
			    "# TYPE grafolean_bot_graphite_values_total "
			    "counter\n");
		rc |= buf_printf(out,
		    "grafolean_bot_graphite_values_total{bot=\"%s\",target=\"%"
		    "s\","
		    "state=\"queued\"} %llu\n"
		    "grafolean_bot_graphite_values_total{bot=\"%s\",target=\"%"
		    "s\","
		    "state=\"sent\"} %llu\n"
		    "grafolean_bot_graphite_values_total{bot=\"%s\",target=\"%"
		    "s\","
		    "state=\"dropped\"} %llu\n"
		    "grafolean_bot_graphite_values_total{bot=\"%s\",target=\"%"
		    "s\","
		    "state=\"resent\"} %llu\n",
		    n, graphite_target(g), (unsigned long long)gc.queued, n,
		    graphite_target(g), (unsigned long long)gc.sent, n,
		    graphite_target(g), (unsigned long long)gc.dropped, n,
		    graphite_target(g), (unsigned long long)gc.resent);
	}
	if (bot.ops->metrics != NULL)
		bot.ops->metrics(out);
	(void)rc; /* a full body is reported by promexp_render */
}

static void
bot_setup_outputs(void)
{
	struct graphite_config gc;
	char err[BOT_ERRLEN];
	struct promexp *p;
	size_t i;

	bot.out = output_new();
	memset(&gc, 0, sizeof(gc));
	gc.max_buffer_bytes = bot.cfg.send.max_buffer_bytes;
	gc.max_buffer_values = bot.cfg.send.max_buffer_values;
	gc.max_age_ms = bot.cfg.send.max_age_ms;
	gc.retry_min_ms = bot.cfg.send.retry_min_ms;
	gc.retry_max_ms = bot.cfg.send.retry_max_ms;
	gc.timeout_ms = bot.cfg.graphite_timeout_s * 1000;
	for (i = 0; i < bot.cfg.n_outputs; i++) {
		const struct output_spec *o = &bot.cfg.outputs[i];

		switch (o->kind) {
		case OUTPUT_GRAFOLEAN:
			output_add_sender(bot.out, o->kind,
			    sender_backend_new(bot.backend, &bot.cfg.send),
			    bot.cfg.backend_url);
			break;
		case OUTPUT_STDOUT:
			output_add_sender(bot.out, o->kind,
			    sender_stdout_new(stdout), "stdout");
			break;
		case OUTPUT_GRAPHITE:
			output_add_graphite(bot.out,
			    graphite_new(bot.loop, o->host, o->port, &gc));
			break;
		case OUTPUT_PROMETHEUS:
			p = promexp_new(bot.loop, o->host,
			    (int)strtol(o->port, NULL, 10),
			    bot.cfg.prom_ttl_s * 1000, err, sizeof(err));
			if (p == NULL)
				fatalx("prometheus output: %s", err);
			promexp_set_self(p, bot_prom_self, NULL);
			output_add_promexp(bot.out, p);
			break;
		}
	}
}

static void
bot_setup(void)
{
	struct http_config hc;

	loop_on_signals(bot.loop, bot_on_stop, bot_on_hup, NULL);
	timer_init(&bot.refresh_timer, bot_on_refresh_timer, NULL);
	backoff_init(&bot.refresh_backoff, 5000, bot.cfg.refresh_s * 1000, 0);
	timer_init(&bot.stop_timer, bot_on_stop_timer, NULL);
	timer_init(&bot.apply_timer, bot_on_apply_timer, NULL);
	bot.sched = sched_new(
	    bot.loop, bot_run_job, NULL, bot.cfg.once ? 0 : bot.cfg.spread_ms);
	if (bot.cfg.backend_url != NULL &&
	    (bot.cfg.to_backend || bot.cfg.jobs_file == NULL)) {
		http_config_defaults(&hc);
		hc.total_timeout_ms = bot.cfg.timeout_s * 1000;
		hc.connect_timeout_ms = bot.cfg.connect_timeout_s * 1000;
		hc.low_speed_bps = bot.cfg.low_speed_bps;
		hc.low_speed_time_s = bot.cfg.low_speed_time_s;
		hc.ca_file = bot.cfg.ca_file;
		hc.user_agent = bot.ops->name;
		hc.on_answer = health_backend_answered;
		hc.answer_prefix = bot.cfg.backend_url;
		bot.http = http_new(bot.loop, &hc);
		bot.backend = backend_new(
		    bot.loop, bot.http, bot.cfg.backend_url, bot.cfg.token);
	}
	bot_setup_outputs();
}

static void
bot_teardown(void)
{
	struct sched_counters sc;

	bot.loop_done = 1;
	health_stop();
	/* The bot ends its unfinished runs here; their values count as
	 * undelivered below. */
	if (bot.ops->shutdown != NULL)
		bot.ops->shutdown();
	sched_get_counters(bot.sched, &sc);
	log_info("exiting: %llu runs, %llu skipped",
	    (unsigned long long)sc.runs, (unsigned long long)sc.skipped);
	/* One line with every delivery counter, "N undelivered" last. */
	output_log_totals(bot.out);
	loop_timer_stop(bot.loop, &bot.apply_timer);
	bot_fresh_release();
	sched_free(bot.sched);
	bot.sched = NULL;
	jobfetch_forget();
	output_free(bot.out);
	backend_free(bot.backend);
	http_free(bot.http);
	loop_free(bot.loop);
	strset_release(&bot.prep_prev);
	strset_release(&bot.prep_cur);
	if (bot.cfg.token != NULL) {
		memset(bot.cfg.token, 0, strlen(bot.cfg.token));
		free(bot.cfg.token);
	}
}

int
bot_main(int argc, char **argv, const struct bot_ops *ops)
{
	int rc, init_failed = 0;

	memset(&bot, 0, sizeof(bot));
	bot.ops = ops;
	mallopt(M_MXFAST, 0);
	if ((ops->job_mode == BOT_JOBS_PER_ACCOUNT) !=
	    (ops->account_intervals_s != NULL && ops->n_account_intervals > 0))
		fatalx("%s: account_intervals_s is set exactly when job_mode "
		       "is BOT_JOBS_PER_ACCOUNT",
		    ops->name);
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
	    output_describe(bot.out));
	if (ops->init != NULL && ops->init() == -1) {
		bot.exit_code = 1;
		init_failed = 1;
		goto out;
	}
	health_start(bot.loop, bot.backend != NULL,
	    2 * bot.cfg.refresh_s + bot.cfg.timeout_s);
	if (bot.cfg.jobs_file != NULL)
		loop_timer_start(bot.loop, &bot.refresh_timer, 0);
	else
		backend_wait_ready(
		    bot.backend, bot.cfg.wait_s * 1000, bot_on_ready, NULL);
	if (loop_run(bot.loop) == -1)
		bot.exit_code = 1;
	/* --once is for scripts: values left undelivered are a failure. */
	if (bot.cfg.once && output_pending(bot.out) > 0)
		bot.exit_code = 1;
out:
	bot_teardown();
	/* The lines above say why, at their own level; the end is fatal
	 * and says so. */
	if (init_failed)
		fatalx("%s cannot start (see the lines above)", ops->name);
	return bot.exit_code;
}
