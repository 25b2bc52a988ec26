/*
 * Unit tests for jobfetch.c against a forked HTTP server that answers by
 * path: the spec's selection rules, one request per distinct credential
 * and sensor, and failure isolation (a failed sensor keeps only its
 * entities' previous jobs, with their account; a missing credential drops
 * only its entity; a failed account list is not ok).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "http.h"
#include "jobfetch.h"
#include "jobs.h"
#include "jsonx.h"
#include "loop.h"
#include "sched.h"
#include "t.h"
#include "t_srv.h"
#include "timer.h"

#define T_TOKEN "cafe0123-cafe-4abc-8def-0123456789ab"

struct route {
	const char *path; /* request path without the query */
	int status;
	const char *body;
};

#define PING(id, cred, sensor, type)                                           \
	"{\"id\": " #id ", \"name\": \"e" #id "\", \"entity_type\": \"" type   \
	"\", \"parent\": null, \"details\": {\"ipv4\": \"127.0.0.1\"}, "       \
	"\"protocols\": {\"ping\": {\"credential\": " #cred                    \
	", \"bot\": null, "                                                    \
	"\"sensors\": [{\"sensor\": " #sensor ", \"interval\": null}]}}}"

static const struct route routes[] = {
    {"/api/accounts/", 200, "{\"list\": [{\"id\": 7, \"name\": \"A\"}]}"},
    {"/api/accounts/7/entities/", 200,
        "{\"list\": [" PING(1, 11, 21, "device") "," PING(
            2, 11, 22, "device") "," PING(3, 12, 21, "device") "," PING(4, 11,
            21, "interface") ","
                             "{\"id\": 5, \"name\": \"e5\", \"entity_type\": "
                             "\"device\", \"details\": {}, \"protocols\": "
                             "{\"snmp\": {\"credential\": 11, \"bot\": null, "
                             "\"sensors\": []}}}]}"},
    {"/api/accounts/7/credentials/11", 200,
        "{\"id\": 11, \"name\": \"c\", \"protocol\": \"ping\", \"details\": "
        "{\"n_packets\": \"5\"}}"},
    {"/api/accounts/7/credentials/12", 404,
        "{\"detail\": \"No such credential\"}"},
    {"/api/accounts/7/sensors/21", 200,
        "{\"id\": 21, \"name\": \"s\", \"protocol\": \"ping\", "
        "\"default_interval\": 60, \"details\": {}}"},
    {"/api/accounts/7/sensors/22", 500, "{\"detail\": \"oops\"}"},
};

/* Entity lists for the list modes of serve(): the list among other
 * members, odd spacing and elements that are not entities; and a list
 * cut short after its first entity. */
static const char odd_list[] =
    "{\"meta\": {\"a\": [1, \"]}\\\"\", {}], \"b\": null} ,\n"
    " \"list\" :[ 7 ,\"x\", " PING(1, 11, 21, "device") " ,[] ] ,"
                                                        "\"next\": false }\n";
static const char cut_list[] =
    "{\"list\": [" PING(1, 11, 21, "device") ", {\"id\": 2, \"name\": ";

enum serve_mode {
	SERVE_OK,
	SERVE_FAIL_ACCOUNTS,
	SERVE_ODD_LIST,
	SERVE_CUT_LIST,
	/* SERVE_OK with each entity's name spelled with an escape, so that
	 * no entity is read whole by the scan's reader: all are built from
	 * json-c's parse, as before jobs_from_parts. */
	SERVE_OK_PARSED,
	/* Account 8 for JOBFETCH_REUSE: as it was, or with one change. */
	SERVE_R_BASE,
	SERVE_R_ENTITY,   /* entity 31's details changed */
	SERVE_R_PARENT,   /* entity 31's text changed, not its job */
	SERVE_R_CRED,     /* credential 41 (both entities') changed */
	SERVE_R_SENSOR,   /* sensor 52 (entity 32's) changed */
	SERVE_R_SENSOR_5, /* sensor 52 fails (HTTP 500) */
};

/* Entity 31 of account 8 (as PING) with its address and parent. */
#define E31(addr, parent)                                                      \
	"{\"id\": 31, \"name\": \"e31\", \"entity_type\": \"device\", "        \
	"\"parent\": " parent ", \"details\": {\"ipv4\": \"" addr "\"}, "      \
	"\"protocols\": {\"ping\": {\"credential\": 41, \"bot\": null, "       \
	"\"sensors\": [{\"sensor\": 51, \"interval\": null}]}}}"

/* The answer to path in a SERVE_R_* mode: 0, or -1 for 404. */
static int
reuse_route(int mode, const char *path, int *status, const char **body)
{
	*status = 200;
	if (strcmp(path, "/api/accounts/") == 0)
		*body = "{\"list\": [{\"id\": 8, \"name\": \"B\"}]}";
	else if (strcmp(path, "/api/accounts/8/entities/") == 0)
		*body = mode == SERVE_R_ENTITY
		    ? "{\"list\": [" E31("127.0.0.2", "null") ", " PING(
		          32, 41, 52, "device") "]}"
		    : mode == SERVE_R_PARENT
		    ? "{\"list\": [" E31("127.0.0.1", "5") ", " PING(
		          32, 41, 52, "device") "]}"
		    : "{\"list\": [" E31("127.0.0.1", "null") ", " PING(
		          32, 41, 52, "device") "]}";
	else if (strcmp(path, "/api/accounts/8/credentials/41") == 0)
		*body = mode == SERVE_R_CRED
		    ? "{\"id\": 41, \"details\": {\"n_packets\": 4}}"
		    : "{\"id\": 41, \"details\": {\"n_packets\": 5}}";
	else if (strcmp(path, "/api/accounts/8/sensors/51") == 0)
		*body = "{\"id\": 51, \"default_interval\": 60, "
		        "\"details\": {}}";
	else if (strcmp(path, "/api/accounts/8/sensors/52") == 0) {
		*body = mode == SERVE_R_SENSOR
		    ? "{\"id\": 52, \"default_interval\": 30, "
		      "\"details\": {}}"
		    : "{\"id\": 52, \"default_interval\": 60, "
		      "\"details\": {}}";
		if (mode == SERVE_R_SENSOR_5)
			*status = 500;
	} else
		return -1;
	return 0;
}

/* body with each '"name": "e' written '"name": "\u0065' (the same
 * names); a static buffer (the server is a child process). */
static const char *
escaped_names(const char *body)
{
	static char out[8192];
	static const char from[] = "\"name\": \"e",
	                  to[] = "\"name\": \"\\u0065";
	size_t n = 0;

	while (*body != '\0' && n + sizeof(to) < sizeof(out)) {
		if (strncmp(body, from, sizeof(from) - 1) == 0) {
			memcpy(out + n, to, sizeof(to) - 1);
			n += sizeof(to) - 1;
			body += sizeof(from) - 1;
		} else {
			out[n++] = *body++;
		}
	}
	out[n] = '\0';
	return out;
}

struct server {
	pid_t pid;
	int port;
	int report; /* request paths, one per line */
};

static void
serve(int lfd, int report, int mode)
{
	static char req[8192], head[256];
	char path[512];
	size_t i;
	int c;

	for (;;) {
		const struct route *r = NULL;
		char *q;

		c = accept(lfd, NULL, NULL);
		if (c == -1)
			_exit(0);
		if (t_srv_read_request(c, req, sizeof(req), 5000) == 0 ||
		    sscanf(req, "GET %511s", path) != 1) {
			close(c);
			continue;
		}
		if ((q = strchr(path, '?')) != NULL)
			*q = '\0';
		t_srv_write_all(report, path, strlen(path));
		t_srv_write_all(report, "\n", 1);
		if (mode >= SERVE_R_BASE) {
			int st;
			const char *body;

			if (reuse_route(mode, path, &st, &body) == -1) {
				st = 404;
				body = "{}";
			}
			snprintf(head, sizeof(head),
			    "HTTP/1.1 %d X\r\nContent-Type: "
			    "application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			    st, strlen(body));
			t_srv_write_all(c, head, strlen(head));
			t_srv_write_all(c, body, strlen(body));
			close(c);
			continue;
		}
		for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
			if (strcmp(routes[i].path, path) == 0)
				r = &routes[i];
		if (r == NULL ||
		    (mode == SERVE_FAIL_ACCOUNTS && r == &routes[0])) {
			snprintf(head, sizeof(head),
			    "HTTP/1.1 %d X\r\nContent-Length: 0\r\n"
			    "Connection: close\r\n\r\n",
			    r == NULL ? 404 : 503);
			t_srv_write_all(c, head, strlen(head));
		} else {
			const char *body = r->body;

			if (r == &routes[1] && mode == SERVE_OK_PARSED)
				body = escaped_names(r->body);
			if (r == &routes[1] && mode == SERVE_ODD_LIST)
				body = odd_list;
			else if (r == &routes[1] && mode == SERVE_CUT_LIST)
				body = cut_list;
			snprintf(head, sizeof(head),
			    "HTTP/1.1 %d X\r\nContent-Type: "
			    "application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			    r->status, strlen(body));
			t_srv_write_all(c, head, strlen(head));
			t_srv_write_all(c, body, strlen(body));
		}
		close(c);
	}
}

static int
server_start(struct server *s, int mode)
{
	int lfd, pfd[2];

	lfd = t_srv_listen(&s->port);
	if (lfd == -1 || pipe(pfd) == -1)
		return -1;
	fflush(stdout);
	fflush(stderr);
	s->pid = fork();
	if (s->pid == -1)
		return -1;
	if (s->pid == 0) {
		close(pfd[0]);
		serve(lfd, pfd[1], mode);
	}
	close(lfd);
	close(pfd[1]);
	s->report = pfd[0];
	return 0;
}

/* Stops the server and collects the paths it was asked for. */
static void
server_stop(struct server *s, char *log, size_t len)
{
	size_t n = 0;
	ssize_t k;

	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	while (n + 1 < len && (k = read(s->report, log + n, len - 1 - n)) > 0)
		n += (size_t)k;
	log[n] = '\0';
	close(s->report);
}

struct got {
	struct loop *l;
	int calls, ok;
	struct job_update u;
};

static void
on_jobs(struct job_update *u, int ok, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->ok = ok;
	g->u = *u; /* take the arrays over */
	job_update_init(u);
	job_update_release(u);
	loop_break(g->l);
}

/* One refresh (jobfetch_start flags) on loop l against a fresh server;
 * paths requested go to log. */
static int
fetch_on(struct loop *l, struct got *g, int mode, unsigned flags, char *log,
    size_t loglen)
{
	struct server srv;
	struct http_config hc;
	struct http *h;
	struct backend *b;
	struct timer guard;
	char url[64];
	int rc;

	memset(g, 0, sizeof(*g));
	if (server_start(&srv, mode) == -1)
		return -1;
	g->l = l;
	http_config_defaults(&hc);
	h = http_new(g->l, &hc);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api", srv.port);
	b = backend_new(g->l, h, url, T_TOKEN);
	timer_init(&guard, t_srv_break_loop, g->l);
	loop_timer_start(g->l, &guard, 10000);
	rc = jobfetch_start(b, "ping", flags, on_jobs, g);
	if (rc == 0 && loop_run(g->l) == -1)
		rc = -1;
	loop_timer_stop(g->l, &guard);
	backend_free(b);
	http_free(h);
	server_stop(&srv, log, loglen);
	return rc;
}

/* One refresh against a fresh server; paths requested go to log. */
static int
fetch(struct got *g, int mode, char *log, size_t loglen)
{
	struct loop *l = loop_new();
	int rc = fetch_on(l, g, mode, 0, log, loglen);

	loop_free(l);
	return rc;
}

static int
count(const char *log, const char *path)
{
	char want[128];
	const char *p;
	int n = 0;

	snprintf(want, sizeof(want), "%s\n", path);
	for (p = log; (p = strstr(p, want)) != NULL; p++)
		if (p == log || p[-1] == '\n')
			n++;
	return n;
}

T_TEST(jobfetch_rules_requests_and_isolation)
{
	static char log[16384];
	struct got g;
	struct job *j;
	char err[BOT_ERRLEN];
	double n;

	T_EQ_INT(fetch(&g, SERVE_OK, log, sizeof(log)), 0);
	T_EQ_INT(g.calls, 1);
	T_EQ_INT(g.ok, 1);
	/* e1 only: e2's sensor failed (kept), e3's credential is gone
	 * (dropped), e4 is an interface, e5 has no ping. */
	T_EQ_INT(g.u.n_jobs, 1);
	j = g.u.jobs[0];
	T_EQ_INT(j->id, 1);
	T_EQ_INT(j->account_id, 7);
	T_EQ_INT(j->n_intervals, 1);
	T_EQ_INT(j->intervals_s[0], 60);
	T_EQ_INT(jsonx_number(j->credential, "n_packets", 3, 1, 100,
	             JSONX_WHOLE, &n, err, sizeof(err)),
	    0);
	T_EQ_DBL(n, 5, 0);
	T_EQ_INT(g.u.n_keeps, 1);
	T_EQ_INT(g.u.keeps[0].entity_id, 2);
	T_EQ_INT(g.u.keeps[0].account_id, 7);
	/* Every distinct record once, though e1, e2 and e4 share 11 and
	 * e1, e3 and e4 share 21. */
	T_EQ_INT(count(log, "/api/accounts/"), 1);
	T_EQ_INT(count(log, "/api/accounts/7/entities/"), 1);
	T_EQ_INT(count(log, "/api/accounts/7/credentials/11"), 1);
	T_EQ_INT(count(log, "/api/accounts/7/credentials/12"), 1);
	T_EQ_INT(count(log, "/api/accounts/7/sensors/21"), 1);
	T_EQ_INT(count(log, "/api/accounts/7/sensors/22"), 1);
	job_update_release(&g.u);
}

/* The same list built from the scan's reading (jobs_from_parts) and from
 * json-c's parse gives the same jobs, keeps and requests. */
T_TEST(jobfetch_scan_reading_and_json_c_build_alike)
{
	static char log_a[16384], log_b[16384];
	struct got a, b;
	size_t i;

	T_EQ_INT(fetch(&a, SERVE_OK, log_a, sizeof(log_a)), 0);
	T_EQ_INT(fetch(&b, SERVE_OK_PARSED, log_b, sizeof(log_b)), 0);
	T_ASSERT(strstr(log_b, "/api/accounts/7/entities/") != NULL);
	T_EQ_INT(a.ok, 1);
	T_EQ_INT(b.ok, 1);
	T_EQ_INT(a.u.n_jobs, 1);
	T_EQ_INT(b.u.n_jobs, a.u.n_jobs);
	for (i = 0; i < a.u.n_jobs; i++) {
		T_EQ_INT(b.u.jobs[i]->id, a.u.jobs[i]->id);
		T_EQ_STR(b.u.jobs[i]->name, a.u.jobs[i]->name);
		T_EQ_INT(memcmp(b.u.jobs[i]->fingerprint,
		             a.u.jobs[i]->fingerprint, JOB_FP_LEN),
		    0);
	}
	T_EQ_INT(b.u.n_keeps, a.u.n_keeps);
	for (i = 0; i < a.u.n_keeps; i++) {
		T_EQ_INT(b.u.keeps[i].entity_id, a.u.keeps[i].entity_id);
		T_EQ_INT(b.u.keeps[i].account_id, a.u.keeps[i].account_id);
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		T_EQ_INT(
		    count(log_b, routes[i].path), count(log_a, routes[i].path));
	job_update_release(&a.u);
	job_update_release(&b.u);
}

T_TEST(jobfetch_failed_account_list_is_not_ok)
{
	static char log[4096];
	struct got g;

	T_EQ_INT(fetch(&g, SERVE_FAIL_ACCOUNTS, log, sizeof(log)), 0);
	T_EQ_INT(g.calls, 1);
	T_EQ_INT(g.ok, 0);
	T_EQ_INT(g.u.n_jobs, 0);
	T_EQ_INT(count(log, "/api/accounts/7/entities/"), 0);
	job_update_release(&g.u);
}

T_TEST(jobfetch_list_found_among_members_and_odd_elements)
{
	static char log[4096];
	struct got g;

	/* The list after another member holding "]" and braces in strings,
	 * with numbers, strings and arrays among the entities. */
	T_EQ_INT(fetch(&g, SERVE_ODD_LIST, log, sizeof(log)), 0);
	T_EQ_INT(g.calls, 1);
	T_EQ_INT(g.ok, 1);
	T_EQ_INT(g.u.n_jobs, 1);
	T_EQ_INT(g.u.jobs[0]->id, 1);
	T_EQ_INT(g.u.n_keeps, 0);
	T_EQ_INT(count(log, "/api/accounts/7/credentials/11"), 1);
	job_update_release(&g.u);
}

T_TEST(jobfetch_cut_list_keeps_its_account)
{
	static char log[4096];
	struct got g;

	/* Broken after its first entity, whose records may already be on
	 * their way: the whole list fails, the account keeps its jobs, the
	 * refresh still ends once. */
	T_EQ_INT(fetch(&g, SERVE_CUT_LIST, log, sizeof(log)), 0);
	T_EQ_INT(g.calls, 1);
	T_EQ_INT(g.ok, 1);
	T_EQ_INT(g.u.n_jobs, 0);
	T_EQ_INT(g.u.n_keeps, 1);
	T_EQ_INT(g.u.keeps[0].account_id, 7);
	T_EQ_INT(g.u.keeps[0].entity_id, -1);
	job_update_release(&g.u);
}

/* --- JOBFETCH_REUSE -------------------------------------------------- */

static void
t_no_run(struct job *job, const int *due_s, size_t n_due, void *arg)
{
	(void)job;
	(void)due_s;
	(void)n_due;
	(void)arg;
}

/* The job of entity id in the update, or NULL. */
static struct job *
t_job(const struct got *g, int64_t id)
{
	size_t i;

	for (i = 0; i < g->u.n_jobs; i++)
		if (g->u.jobs[i]->id == id)
			return g->u.jobs[i];
	return NULL;
}

/* Every job t_refresh handed out, held until the test ends, so that no
 * job's address is reused and comparing pointers means what it says. */
static struct job *t_held[64];
static size_t t_n_held;

static struct job *
t_hold(struct job *job)
{
	if (job != NULL && t_n_held < sizeof(t_held) / sizeof(t_held[0]))
		t_held[t_n_held++] = job_ref(job);
	return job;
}

static void
t_release_held(void)
{
	while (t_n_held > 0)
		job_unref(t_held[--t_n_held]);
}

/* A refresh with JOBFETCH_REUSE, whose jobs 31 and 32 go to *j31, *j32
 * (NULL when absent; held) before the update is applied to s. */
static int
t_refresh(struct loop *l, struct sched *s, int mode, struct job **j31,
    struct job **j32, size_t *n_keeps)
{
	static char log[4096];
	struct got g;

	if (fetch_on(l, &g, mode, JOBFETCH_REUSE, log, sizeof(log)) == -1 ||
	    g.calls != 1 || !g.ok)
		return -1;
	/* Every record is asked for on every refresh. */
	if (count(log, "/api/accounts/8/credentials/41") != 1 ||
	    count(log, "/api/accounts/8/sensors/51") != 1 ||
	    count(log, "/api/accounts/8/sensors/52") != 1)
		return -1;
	*j31 = t_hold(t_job(&g, 31));
	*j32 = t_hold(t_job(&g, 32));
	*n_keeps = g.u.n_keeps;
	sched_apply(s, &g.u, NULL);
	job_update_release(&g.u);
	return 0;
}

T_TEST(jobfetch_reuse_gives_unchanged_jobs_again_and_sees_changes)
{
	struct loop *l = loop_new();
	struct sched *s = sched_new(l, t_no_run, NULL, 1000);
	struct job *a31, *a32, *b31, *b32;
	size_t keeps;

	jobfetch_forget();
	T_EQ_INT(t_refresh(l, s, SERVE_R_BASE, &a31, &a32, &keeps), 0);
	T_ASSERT(a31 != NULL && a32 != NULL);
	/* Unchanged: the scheduled jobs themselves come again (not built
	 * anew: those would be other objects, as a31 and a32 are alive). */
	T_EQ_INT(t_refresh(l, s, SERVE_R_BASE, &b31, &b32, &keeps), 0);
	T_ASSERT(b31 == a31 && b32 == a32);
	/* Entity 31's text changed, not its job: it is parsed and built
	 * again, found the same as the scheduled job, which goes on (and
	 * comes again next time); 32, unchanged, is given again. */
	T_EQ_INT(t_refresh(l, s, SERVE_R_PARENT, &b31, &b32, &keeps), 0);
	T_ASSERT(b31 == a31 && b32 == a32);
	T_EQ_INT(t_refresh(l, s, SERVE_R_PARENT, &b31, &b32, &keeps), 0);
	T_ASSERT(b31 == a31 && b32 == a32);
	/* Entity 31's address changed: a new job for 31 only. */
	T_EQ_INT(t_refresh(l, s, SERVE_R_ENTITY, &b31, &b32, &keeps), 0);
	T_ASSERT(b31 != NULL && b31 != a31 && b32 == a32);
	T_ASSERT(memcmp(b31->fingerprint, a31->fingerprint, JOB_FP_LEN) != 0);
	T_EQ_INT(t_refresh(l, s, SERVE_R_BASE, &a31, &b32, &keeps), 0);
	T_ASSERT(a31 != b31 && b32 == a32);
	/* Their credential changed: both are new jobs. */
	T_EQ_INT(t_refresh(l, s, SERVE_R_CRED, &b31, &b32, &keeps), 0);
	T_ASSERT(b31 != NULL && b32 != NULL && b31 != a31 && b32 != a32);
	T_ASSERT(memcmp(b31->fingerprint, a31->fingerprint, JOB_FP_LEN) != 0);
	T_EQ_INT(t_refresh(l, s, SERVE_R_BASE, &a31, &a32, &keeps), 0);
	T_ASSERT(a31 != b31 && a32 != b32);
	/* 32's sensor changed: 32 only is new, with the new interval. */
	T_EQ_INT(t_refresh(l, s, SERVE_R_SENSOR, &b31, &b32, &keeps), 0);
	T_ASSERT(b31 == a31 && b32 != NULL && b32 != a32);
	T_EQ_INT(b32->intervals_s[0], 30);
	a32 = b32;
	/* 32's sensor fails: 32 keeps its job (a keep), 31 comes again;
	 * then, the sensor as before the failure, 32's job comes again. */
	T_EQ_INT(t_refresh(l, s, SERVE_R_SENSOR_5, &b31, &b32, &keeps), 0);
	T_ASSERT(b31 == a31 && b32 == NULL);
	T_EQ_INT(keeps, 1);
	T_ASSERT(sched_find(s, 32) == a32);
	T_EQ_INT(t_refresh(l, s, SERVE_R_SENSOR, &b31, &b32, &keeps), 0);
	T_ASSERT(b31 == a31 && b32 == a32);
	T_EQ_INT(keeps, 0);
	jobfetch_forget();
	sched_free(s);
	t_release_held();
	loop_free(l);
}

T_TEST(jobfetch_reuse_builds_again_what_is_not_scheduled)
{
	static char log[4096];
	struct loop *l = loop_new();
	struct got g;
	struct job *a31;

	jobfetch_forget();
	T_EQ_INT(
	    fetch_on(l, &g, SERVE_R_BASE, JOBFETCH_REUSE, log, sizeof(log)), 0);
	a31 = job_ref(t_job(&g, 31));
	/* Not applied (as a job the bot refused): built again. */
	job_update_release(&g.u);
	T_EQ_INT(
	    fetch_on(l, &g, SERVE_R_BASE, JOBFETCH_REUSE, log, sizeof(log)), 0);
	T_ASSERT(t_job(&g, 31) != NULL && t_job(&g, 31) != a31);
	T_ASSERT(memcmp(t_job(&g, 31)->fingerprint, a31->fingerprint,
	             JOB_FP_LEN) == 0);
	job_update_release(&g.u);
	job_unref(a31);
	jobfetch_forget();
	loop_free(l);
}

/* The scan's lexical reader gives the verdict and record ids json-c's
 * reading gives (fuzz_jobscan checks the same on any text), and is unsure
 * (-1: json-c decides) of what it cannot be certain of. */
T_TEST(jobfetch_scan_ids_reads_as_json_c_does)
{
	static const struct {
		const char *text;
		int rc;
		uint32_t n;
		int64_t ids[3];
	} cases[] = {
	    {"{\"entity_type\": \"device\", \"protocols\": {\"ping\": "
	     "{\"credential\": 12, \"bot\": null, \"sensors\": [{\"sensor\": "
	     "7, \"interval\": 60}]}}}",
	        1, 2, {12, 7, 0}},
	    /* the last of duplicate keys counts, as in json-c */
	    {"{\"entity_type\":\"device\",\"protocols\":{\"ping\":{"
	     "\"credential\":3,\"credential\":4,\"sensors\":[{\"sensor\":1,"
	     "\"sensor\":9},5,{\"sensor\":1.5}]}}}",
	        1, 4, {4, 9, -1}},
	    /* another bot's, a bot that is not an integer, not a device */
	    {"{\"entity_type\":\"device\",\"protocols\":{\"ping\":{\"bot\":6,"
	     "\"credential\":1}}}",
	        0, 0, {0}},
	    {"{\"entity_type\":\"device\",\"protocols\":{\"ping\":{\"bot\":"
	     "\"5\",\"credential\":1}}}",
	        0, 0, {0}},
	    {"{\"entity_type\":\"other\",\"protocols\":{\"ping\":{}}}", 0, 0,
	        {0}},
	    {"{\"entity_type\":\"device\",\"protocols\":{\"ping\":null}}", 0, 0,
	        {0}},
	    /* ours, with no credential and sensors not a list */
	    {"{\"protocols\":{\"ping\":{\"bot\":5,\"sensors\":{}}},"
	     "\"entity_type\":\"device\"}",
	        1, 1, {-1}},
	    /* unsure: escapes where it compares, exponents, long numbers,
	     * literals and numbers JSON does not have, trailing text */
	    {"{\"entity_type\":\"dev\\u0069ce\",\"protocols\":{}}", -1, 0, {0}},
	    {"{\"entity_type\":\"device\",\"protoc\\u006fls\":{}}", -1, 0, {0}},
	    {"{\"entity_type\":\"device\",\"protocols\":{\"ping\":{"
	     "\"credential\":1e3}}}",
	        -1, 0, {0}},
	    {"{\"entity_type\":\"device\",\"protocols\":{\"ping\":{"
	     "\"credential\":1234567890123456789}}}",
	        -1, 0, {0}},
	    {"{\"entity_type\":\"device\",\"x\":tru}", -1, 0, {0}},
	    {"{\"entity_type\":\"device\",\"x\":01}", -1, 0, {0}},
	    {"{\"entity_type\":\"device\",\"x\":\"\\ud83d\\ude00\"}", -1, 0,
	        {0}},
	    {"{\"entity_type\":\"device\"} x", -1, 0, {0}},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t *ids = NULL;
		uint32_t n = 0, k;
		int rc = jobfetch_scan_ids(
		    cases[i].text, strlen(cases[i].text), "ping", 5, &ids, &n);

		if (rc != cases[i].rc || n != cases[i].n) {
			t_fail(__FILE__, __LINE__, "case %zu: rc %d n %u", i,
			    rc, n);
			free(ids);
			return;
		}
		for (k = 0; k < n && k < 3; k++)
			T_EQ_INT(ids[k] > 0 ? ids[k] : -1,
			    cases[i].ids[k] > 0 ? cases[i].ids[k] : -1);
		free(ids);
	}
}
