/*
 * apibot's runtime hooks.  A run groups its due sensors by request (method,
 * URL and body): each group is one HTTP request on the bot's own libcurl
 * client (never the backend's, so the bot token is never sent to a polled
 * URL) and one filter task, whose body is parsed once for every sensor of
 * the group.  Answers come back on the loop thread; filters run on the
 * worker threads of apiwork.c, whose watchdog halts one past its deadline.
 * Requests pass apihost.c first: at most API_MAX_HOST_CONNECTIONS per origin
 * are handed to libcurl, the rest wait in order for a free place.
 * Redirects are followed by hand, at most APIBOT_MAX_REDIRECTS, and only
 * to the same scheme, host and port, so credentials never leave the
 * origin they were configured for.  Log lines name a sensor by its shown
 * URL (no userinfo, no query).
 */
#include "apibot.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apicfg.h"
#include "apifilter.h"
#include "apihost.h"
#include "apimode.h"
#include "apiwait.h"
#include "apiwork.h"
#include "bot.h"
#include "http.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "path.h"
#include "retry_after.h"
#include "settings.h"
#include "timer.h"
#include "xmalloc.h"

#define APIBOT_MAX_REDIRECTS 3
/* How often one sensor may repeat a warning. */
#define APIBOT_WARN_MS INT64_C(300000) /* 5 minutes */
#define APIBOT_PATHLEN 256

/* A job's parsed form, in job->priv. */
struct apijob {
	int64_t job_id;
	struct apicred cred;
	struct apisensor *sensors; /* parallel to job->sensors */
	size_t n_sensors;
	int *disabled;         /* a filter ran away: off until config changes */
	struct log_limit *lim; /* one per sensor */
	struct log_limit cred_lim;
};

struct apirun {
	struct run *run;
	size_t outstanding; /* groups not finished */
	struct apirun *prev, *next;
};

/* One request shared by the sensors of a run that ask the same. */
struct apireq {
	struct apirun *ar;
	size_t *sensors; /* indices into the job's sensors */
	size_t n;
	char *url; /* current URL (after redirects) */
	int redirects;
	double elapsed_s;
	long status;
	size_t size;
	double t;                 /* when the answer arrived */
	struct apihost_slot slot; /* per-host cap */
	struct apireq *prev, *next;
};

static struct {
	struct loop *loop;
	struct http *http;
	struct apiwork *work;
	struct apirun *runs;    /* in progress */
	struct apireq *reqs;    /* waiting for an HTTP answer */
	struct apihosts *hosts; /* requests in flight per host, at most */
	struct apiwait *waits;  /* origins held by their Retry-After */
	int shutting_down;
	int filter_threads;
	int64_t filter_timeout_ms;
	size_t filter_queue_bytes; /* bodies waiting for filters, at most */
} ab;

static void apibot_on_answer(const struct http_response *res, void *arg);

static void
apibot_run_unlink(struct apirun *ar)
{
	if (ar->prev != NULL)
		ar->prev->next = ar->next;
	else
		ab.runs = ar->next;
	if (ar->next != NULL)
		ar->next->prev = ar->prev;
}

static void
apibot_req_link(struct apireq *q)
{
	q->prev = NULL;
	q->next = ab.reqs;
	if (ab.reqs != NULL)
		ab.reqs->prev = q;
	ab.reqs = q;
}

static void
apibot_req_unlink(struct apireq *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		ab.reqs = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
}

/* A group is finished: the run ends with its last group. */
static void
apibot_req_finish(struct apireq *q)
{
	struct apirun *ar = q->ar;

	free(q->sensors);
	if (q->url != NULL)
		explicit_bzero(q->url, strlen(q->url));
	free(q->url);
	free(q);
	if (--ar->outstanding > 0)
		return;
	apibot_run_unlink(ar);
	run_done(ar->run);
	free(ar);
}

static void
apibot_emit_http(struct apireq *q, int ok)
{
	struct run *run = q->ar->run;
	struct job *job = run_job(run);
	struct apijob *aj = job->priv;
	char p[APIBOT_PATHLEN];
	size_t i;
	int n;

	for (i = 0; i < q->n; i++) {
		const struct apisensor *s = &aj->sensors[q->sensors[i]];

		n = snprintf(p, sizeof(p), "entity.%lld.api.%lld.http.",
		    (long long)job->id, (long long)s->id);
		if (n < 0 || (size_t)n + 8 >= sizeof(p))
			continue;
		snprintf(p + n, sizeof(p) - (size_t)n, "status");
		run_emit_at(run, p, (double)q->status, q->t);
		snprintf(p + n, sizeof(p) - (size_t)n, "time");
		run_emit_at(run, p, q->elapsed_s, q->t);
		snprintf(p + n, sizeof(p) - (size_t)n, "size");
		run_emit_at(run, p, (double)q->size, q->t);
		snprintf(p + n, sizeof(p) - (size_t)n, "ok");
		run_emit_at(run, p, ok ? 1 : 0, q->t);
	}
}

/* One warning for every sensor of the group, each rate-limited. */
static void
apibot_warn_group(struct apireq *q, const char *what)
{
	struct job *job = run_job(q->ar->run);
	struct apijob *aj = job->priv;
	size_t i;

	for (i = 0; i < q->n; i++) {
		size_t k = q->sensors[i];

		log_warnx_limited(&aj->lim[k], APIBOT_WARN_MS,
		    "job %lld sensor %lld (%s): %s", (long long)job->id,
		    (long long)aj->sensors[k].id, aj->sensors[k].show, what);
	}
}

struct apibot_emit_ctx {
	struct run *run;
	char *path; /* "entity.<id>.api.<output path>", then the key */
	size_t base_len;
	size_t cap;
	double t;
	unsigned bad_paths;
};

static void
apibot_emit_item(void *arg, const char *key, double v)
{
	struct apibot_emit_ctx *c = arg;

	if (c->base_len + strlen(key) >= c->cap) {
		c->bad_paths++;
		return;
	}
	memcpy(c->path + c->base_len, key, strlen(key) + 1);
	if (!path_valid(c->path)) {
		c->bad_paths++;
		return;
	}
	run_emit_at(c->run, c->path, v, c->t);
}

/* Posts one sensor's extractions from its slice of the task's results. */
static void
apibot_sensor_results(struct apireq *q, size_t k, struct apifilter_result *res)
{
	struct run *run = q->ar->run;
	struct job *job = run_job(run);
	struct apijob *aj = job->priv;
	struct apisensor *s = &aj->sensors[k];
	struct apibot_emit_ctx c;
	char path[APIBOT_PATHLEN];
	size_t i;
	int n;

	for (i = 0; i < s->n_ex; i++) {
		struct apiextract *x = &s->ex[i];
		struct apifilter_result *r = &res[i];

		if (r->runaway) {
			if (!aj->disabled[k])
				log_warnx("job %lld sensor %lld (%s): "
				          "extract[%zu] \"%s\": %s; sensor "
				          "disabled until its config changes",
				    (long long)job->id, (long long)s->id,
				    s->show, i, apifilter_text(x->filter),
				    r->msg);
			aj->disabled[k] = 1;
			continue;
		}
		if (r->error) {
			log_warnx_limited(&aj->lim[k], APIBOT_WARN_MS,
			    "job %lld sensor %lld (%s): extract[%zu]: %s",
			    (long long)job->id, (long long)s->id, s->show, i,
			    r->msg);
			continue;
		}
		if (r->skipped > 0 || r->n == 0)
			log_warnx_limited(&aj->lim[k], APIBOT_WARN_MS,
			    "job %lld sensor %lld (%s): extract[%zu] \"%s\" "
			    "gave %zu numbers, skipped %u values (first: "
			    "%s)",
			    (long long)job->id, (long long)s->id, s->show, i,
			    apifilter_text(x->filter), r->n, r->skipped,
			    r->skipped ? r->skipped_kind : "none");
		n = snprintf(path, sizeof(path), "entity.%lld.api.%s",
		    (long long)job->id, x->path);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		memset(&c, 0, sizeof(c));
		c.run = run;
		c.path = path;
		c.base_len = (size_t)n;
		c.cap = sizeof(path);
		c.t = q->t;
		apimode_apply(&x->state, x->mode, r->items, r->n, q->t,
		    apibot_emit_item, &c);
		if (c.bad_paths > 0)
			log_warnx_limited(&aj->lim[k], APIBOT_WARN_MS,
			    "job %lld sensor %lld (%s): extract[%zu]: %u "
			    "values skipped: path too long or invalid",
			    (long long)job->id, (long long)s->id, s->show, i,
			    c.bad_paths);
	}
}

static void
apibot_on_filtered(struct apiwork_task *t, int cancelled)
{
	struct apireq *q = t->arg;
	size_t i, off = 0;

	if (cancelled) {
		apiwork_task_free(t);
		apibot_req_finish(q);
		return;
	}
	if (t->parse_failed) {
		apibot_warn_group(q, t->parse_err);
		apibot_emit_http(q, 0);
	} else {
		struct apijob *aj = run_job(q->ar->run)->priv;

		for (i = 0; i < q->n; i++) {
			size_t k = q->sensors[i];

			apibot_sensor_results(q, k, t->results + off);
			off += aj->sensors[k].n_ex;
		}
		apibot_emit_http(q, 1);
	}
	apiwork_task_free(t);
	apibot_req_finish(q);
}

/* The group's filters, sensor after sensor, into one task. */
static void
apibot_submit(struct apireq *q, const struct http_response *res)
{
	struct apijob *aj = run_job(q->ar->run)->priv;
	struct apifilter **f;
	struct apiwork_task *t;
	size_t i, j, n = 0;

	for (i = 0; i < q->n; i++)
		n += aj->sensors[q->sensors[i]].n_ex;
	f = xcalloc(n ? n : 1, sizeof(*f));
	n = 0;
	for (i = 0; i < q->n; i++) {
		const struct apisensor *s = &aj->sensors[q->sensors[i]];

		for (j = 0; j < s->n_ex; j++)
			f[n++] = s->ex[j].filter;
	}
	t = apiwork_task_new(
	    res->body, res->body_len, f, n, apibot_on_filtered, q);
	free(f);
	apiwork_submit(ab.work, t);
}

static int
apibot_start(struct apireq *q)
{
	struct apijob *aj = run_job(q->ar->run)->priv;
	const struct apisensor *s = &aj->sensors[q->sensors[0]];
	const struct apicred *c = &aj->cred;
	/* The credential's Content-Type replaces the POST's default
	 * instead of going out twice; Accept is in c->send (apicfg). */
	const char *ctype =
	    c->content_type != NULL ? c->content_type : "application/json";
	struct http_opts o;

	memset(&o, 0, sizeof(o));
	o.headers = c->send;
	o.n_headers = c->n_send;
	o.username = c->username;
	o.password = c->password;
	o.digest = c->digest;
	o.timeout_ms = c->timeout_ms;
	o.ca_file = c->ca_file;
	o.no_verify_tls = !c->verify_tls;
	o.decode = 1;
	/* After a 301, 302 or 303 a POST goes on as a GET (what browsers
	 * and curl do); 307 and 308 keep it. */
	if (s->post &&
	    (q->redirects == 0 || q->status == 307 || q->status == 308))
		return http_request_opts(ab.http, "POST", q->url,
		    s->body ? s->body : "", s->body ? strlen(s->body) : 0,
		    ctype, &o, apibot_on_answer, q);
	return http_request_opts(
	    ab.http, "GET", q->url, NULL, 0, NULL, &o, apibot_on_answer, q);
}

static struct apireq *
apibot_slot_req(struct apihost_slot *s)
{
	return s != NULL ? (struct apireq *)(void *)((char *)s -
	                       offsetof(struct apireq, slot))
	                 : NULL;
}

/* q leaves its host's slot; the request that takes it over starts. */
static void apibot_launch(struct apireq *q);

static void
apibot_leave(struct apireq *q)
{
	apibot_launch(apibot_slot_req(apihost_leave(ab.hosts, &q->slot)));
}

/* Starts q, which holds a slot of its host; one that cannot start
 * passes its slot on. */
static void
apibot_launch(struct apireq *q)
{
	struct apireq *next;

	while (q != NULL) {
		if (apibot_start(q) == 0)
			return;
		next = apibot_slot_req(apihost_leave(ab.hosts, &q->slot));
		apibot_req_unlink(q);
		q->t = timer_wall_s();
		apibot_warn_group(q, "cannot start the request");
		apibot_emit_http(q, 0);
		apibot_req_finish(q);
		q = next;
	}
}

/* Starts q now, or when its host has a free slot. */
static void
apibot_admit(struct apireq *q)
{
	struct apijob *aj = run_job(q->ar->run)->priv;
	char what[BOT_ERRLEN];
	int64_t left = apiwait_left(
	    ab.waits, aj->sensors[q->sensors[0]].request_key, timer_now_ms());

	if (left > 0) {
		snprintf(what, sizeof(what),
		    "not polled: the API asked to wait %lld s more "
		    "(Retry-After)",
		    (long long)((left + 999) / 1000));
		apibot_warn_group(q, what);
		apibot_req_finish(q);
		return;
	}
	apibot_req_link(q);
	if (apihost_enter(
	        ab.hosts, aj->sensors[q->sensors[0]].origin, &q->slot) == 1)
		apibot_launch(q);
}

/* A 429 or 503 with a Retry-After holds this request (method, URL, body)
 * until then (at most APIWAIT_MAX_MS); said at the end of what. */
static void
apibot_retry_after(const struct apireq *q, const struct http_response *res,
    char *what, size_t whatlen)
{
	struct apijob *aj = run_job(q->ar->run)->priv;
	int64_t delay_ms;
	size_t n = strlen(what);

	if ((res->status != 429 && res->status != 503) ||
	    res->retry_after == NULL ||
	    retry_after_parse(res->retry_after, timer_wall_s(), &delay_ms) != 0)
		return;
	delay_ms = apiwait_hold(ab.waits,
	    aj->sensors[q->sensors[0]].request_key, timer_now_ms(), delay_ms);
	if (delay_ms > 0 && n < whatlen)
		snprintf(what + n, whatlen - n,
		    "; not requested again for %lld s (Retry-After)",
		    (long long)((delay_ms + 999) / 1000));
}

static void
apibot_on_answer(const struct http_response *res, void *arg)
{
	struct apireq *q = arg;
	char what[BOT_ERRLEN];

	apibot_req_unlink(q);
	q->elapsed_s += res->elapsed_s;
	q->status = res->status;
	q->size = res->body_len;
	q->t = timer_wall_s();
	if (res->status >= 300 && res->status < 400 &&
	    res->redirect_url != NULL) {
		if (q->redirects >= APIBOT_MAX_REDIRECTS) {
			snprintf(what, sizeof(what),
			    "HTTP %ld: more than %d redirects", res->status,
			    APIBOT_MAX_REDIRECTS);
			goto bad;
		}
		if (!apicfg_same_origin(q->url, res->redirect_url)) {
			snprintf(what, sizeof(what),
			    "HTTP %ld: redirect to another scheme, host or "
			    "port refused",
			    res->status);
			goto bad;
		}
		free(q->url);
		q->url = xstrdup(res->redirect_url);
		q->redirects++;
		apibot_req_link(q);
		if (apibot_start(q) == 0)
			return;
		apibot_req_unlink(q);
		snprintf(what, sizeof(what),
		    "cannot start the redirected "
		    "request");
		goto bad;
	}
	/* The next request of this host goes out before this answer is
	 * handled. */
	apibot_leave(q);
	if (res->error != NULL) {
		snprintf(what, sizeof(what), "request failed: %s", res->error);
		goto bad;
	}
	if (res->status < 200 || res->status >= 300) {
		snprintf(what, sizeof(what), "HTTP %ld", res->status);
		apibot_retry_after(q, res, what, sizeof(what));
		goto bad;
	}
	if (apiwork_pending_bytes(ab.work) + res->body_len >
	    ab.filter_queue_bytes) {
		snprintf(what, sizeof(what),
		    "answer dropped: %zu bytes already wait for the filter "
		    "threads (API_FILTER_QUEUE_BYTES)",
		    apiwork_pending_bytes(ab.work));
		goto bad;
	}
	apibot_submit(q, res);
	return;
bad:
	apibot_leave(q);
	apibot_warn_group(q, what);
	apibot_emit_http(q, 0);
	apibot_req_finish(q);
}

static void
apibot_job_run(struct run *run)
{
	struct job *job = run_job(run);
	struct apijob *aj = job->priv;
	struct apirun *ar;
	struct apireq **groups;
	size_t n_groups = 0, i, g;

	ar = xcalloc(1, sizeof(*ar));
	ar->run = run;
	ar->next = ab.runs;
	if (ab.runs != NULL)
		ab.runs->prev = ar;
	ab.runs = ar;
	groups = xcalloc(aj->n_sensors ? aj->n_sensors : 1, sizeof(*groups));
	for (i = 0; i < aj->n_sensors && i < job->n_sensors; i++) {
		struct apisensor *s = &aj->sensors[i];

		if (s->error != NULL || aj->disabled[i] ||
		    !run_sensor_due(run, &job->sensors[i]))
			continue;
		for (g = 0; g < n_groups; g++) {
			const struct apisensor *first =
			    &aj->sensors[groups[g]->sensors[0]];

			if (strcmp(first->request_key, s->request_key) == 0)
				break;
		}
		if (g == n_groups) {
			groups[g] = xcalloc(1, sizeof(*groups[g]));
			groups[g]->ar = ar;
			groups[g]->sensors =
			    xcalloc(aj->n_sensors, sizeof(*groups[g]->sensors));
			groups[g]->url = xstrdup(s->url);
			n_groups++;
		}
		groups[g]->sensors[groups[g]->n++] = i;
	}
	/* Counted before any request starts: none can finish the run
	 * early. */
	ar->outstanding = n_groups + 1;
	for (g = 0; g < n_groups; g++)
		apibot_admit(groups[g]);
	free(groups);
	log_debug("job %lld: %zu requests for this run", (long long)job->id,
	    n_groups);
	/* The extra count: ends the run now when nothing is in flight. */
	ar->outstanding--;
	if (ar->outstanding == 0) {
		apibot_run_unlink(ar);
		run_done(run);
		free(ar);
	}
}

static void
apijob_free(void *priv)
{
	struct apijob *aj = priv;
	size_t i;

	for (i = 0; i < aj->n_sensors; i++)
		apicfg_sensor_release(&aj->sensors[i]);
	free(aj->sensors);
	free(aj->disabled);
	free(aj->lim);
	apicfg_cred_release(&aj->cred);
	free(aj);
}

static int
apibot_job_prepare(struct job *job, char *err, size_t errlen)
{
	struct apijob *aj;
	char *base;
	size_t i, usable = 0;

	aj = xcalloc(1, sizeof(*aj));
	aj->job_id = job->id;
	if (apicfg_cred_parse(job->credential, &aj->cred, err, errlen) != 0) {
		free(aj);
		return -1;
	}
	base = apicfg_base_url(job->details, err, errlen);
	if (base == NULL) {
		apicfg_cred_release(&aj->cred);
		free(aj);
		return -1;
	}
	aj->n_sensors = job->n_sensors;
	aj->sensors =
	    xcalloc(job->n_sensors ? job->n_sensors : 1, sizeof(*aj->sensors));
	aj->disabled =
	    xcalloc(job->n_sensors ? job->n_sensors : 1, sizeof(*aj->disabled));
	aj->lim =
	    xcalloc(job->n_sensors ? job->n_sensors : 1, sizeof(*aj->lim));
	for (i = 0; i < job->n_sensors; i++) {
		struct apisensor *s = &aj->sensors[i];

		if (apicfg_sensor_parse(job->sensors[i].details,
		        job->sensors[i].id, base, s) == -1)
			log_warnx("job %lld sensor %lld: skipped: %s",
			    (long long)job->id, (long long)s->id, s->error);
		else
			usable++;
	}
	free(base);
	log_debug("job %lld: %zu of %zu sensors usable", (long long)job->id,
	    usable, job->n_sensors);
	job->priv = aj;
	job->priv_free = apijob_free;
	return 0;
}

/* Secrets kept in files or the environment are read again at every
 * refresh, so a rotated token needs no config change. */
static void
apibot_job_refresh(struct job *job)
{
	struct apijob *aj = job->priv;
	char err[BOT_ERRLEN];

	if (aj != NULL && apicfg_cred_reload(&aj->cred, err, sizeof(err)) == -1)
		log_warnx_limited(&aj->cred_lim, APIBOT_WARN_MS,
		    "job %lld: %s; the previous value stays in use",
		    (long long)job->id, err);
}

static const struct setting apibot_settings[] = {
    {"API_FILTER_THREADS", "2", 1, 16, "threads running jq filters"},
    {"API_FILTER_TIMEOUT_MS", "2000", 10, 600000,
        "a filter still running after this many ms is halted and its "
        "sensor disabled until its config changes"},
    {"API_FILTER_BATCH_MS", "10", 0, 1000,
        "answers arriving within this many ms go to the filter threads "
        "together"},
    {"API_TIMER_SLACK_MS", "50", 0, 1000,
        "timers (job runs, curl's) may fire this many ms late, so that "
        "those due close together share one wake-up"},
    {"API_FILTER_QUEUE_BYTES", "67108864", 1024 * 1024,
        INT64_C(16) * 1024 * 1024 * 1024,
        "answers waiting for the filter threads, in bytes, at most; more "
        "are dropped (logged, http.ok 0)"},
    {"API_MAX_BODY", "4194304", 1024, 256 * 1024 * 1024,
        "answer body cap in bytes"},
    {"API_CONNECT_TIMEOUT", "5", 1, 300,
        "seconds to connect to a polled API; the whole request has the "
        "credential's \"timeout\" (10)"},
    {"API_LOW_SPEED_LIMIT", "10", 0, 1000000000,
        "an answer slower than this many bytes/s for API_LOW_SPEED_TIME "
        "seconds is aborted"},
    {"API_LOW_SPEED_TIME", "10", 1, 3600,
        "seconds below API_LOW_SPEED_LIMIT that abort an answer"},
    {"API_MAX_HOST_CONNECTIONS", "4", 1, 256,
        "connections to one host, and requests in flight to one origin, "
        "at once; the others wait their turn"},
    {NULL, NULL, 0, 0, NULL},
};

static int
apibot_init(void)
{
	struct loop *l = bot_loop();
	const struct setting *t = apibot_settings;
	struct http_config hc;

	ab.loop = l;
	ab.filter_threads = (int)settings_int(t, "API_FILTER_THREADS");
	ab.filter_timeout_ms = settings_int(t, "API_FILTER_TIMEOUT_MS");
	http_config_defaults(&hc);
	hc.connect_timeout_ms = settings_int(t, "API_CONNECT_TIMEOUT") * 1000;
	/* Each credential's timeout replaces this one. */
	hc.total_timeout_ms = APICFG_DEF_TIMEOUT_S * 1000L;
	hc.low_speed_bps = settings_int(t, "API_LOW_SPEED_LIMIT");
	hc.low_speed_time_s = settings_int(t, "API_LOW_SPEED_TIME");
	hc.max_body = (size_t)settings_int(t, "API_MAX_BODY");
	hc.max_host_connections = settings_int(t, "API_MAX_HOST_CONNECTIONS");
	hc.user_agent = "grafolean-apibot";
	ab.http = http_new(l, &hc);
	ab.hosts = apihosts_new((size_t)hc.max_host_connections);
	ab.waits = apiwait_new();
	ab.work = apiwork_new(l, ab.filter_threads, ab.filter_timeout_ms);
	if (ab.work == NULL)
		return -1;
	ab.filter_queue_bytes =
	    (size_t)settings_int(t, "API_FILTER_QUEUE_BYTES");
	apiwork_set_batch_ms(ab.work, settings_int(t, "API_FILTER_BATCH_MS"));
	loop_set_timer_slack(l, settings_int(t, "API_TIMER_SLACK_MS"));
	log_info("API polling ready: %d filter threads, filter deadline %lld "
	         "ms, body cap %zu bytes, %ld connections per host",
	    ab.filter_threads, (long long)ab.filter_timeout_ms, hc.max_body,
	    hc.max_host_connections);
	return 0;
}

static void
apibot_shutdown(void)
{
	struct apireq *q;

	ab.shutting_down = 1;
	/* Requests in flight: their callbacks will not run. */
	http_free(ab.http);
	ab.http = NULL;
	while ((q = ab.reqs) != NULL) {
		apibot_req_unlink(q);
		apibot_req_finish(q);
	}
	apihosts_free(ab.hosts);
	ab.hosts = NULL;
	apiwait_free(ab.waits);
	ab.waits = NULL;
	/* Filter tasks: finished ones post, queued ones are cancelled. */
	apiwork_free(ab.work);
	ab.work = NULL;
	ab.loop = NULL;
}

const struct bot_ops apibot_ops = {
    .name = "apibot",
    .protocol = "api",
    .summary = "polls the HTTP JSON APIs of the Grafolean \"api\" protocol "
               "and posts the numbers its jq filters pick out",
    .settings = apibot_settings,
    .init = apibot_init,
    .job_prepare = apibot_job_prepare,
    .job_unchanged = apibot_job_refresh,
    .job_run = apibot_job_run,
    .shutdown = apibot_shutdown,
};
