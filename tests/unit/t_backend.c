/*
 * Unit tests for backend.c without a network: BACKEND_URL and token
 * checks, URL building with the token as "b", and the checks on an
 * answer before its JSON is used (fed as canned http_response structs);
 * the readiness check against a forked local server.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "t.h"
#include "t_srv.h"
#include "timer.h"

T_TEST(backend_check_url_accepts)
{
	static const char *ok[] = {
	    "http://grafolean/api", "http://grafolean/api/",
	    "http://grafolean/api//", "https://grafolean.example.com/api",
	    "http://192.0.2.1:8080/api", "http://[2001:db8::1]:80/api",
	    "http://grafolean/grafolean/api",
	    "http://grafolean/x@y/api", /* an @ in the path is no userinfo */
	};
	char err[BOT_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (backend_check_url(ok[i], err, sizeof(err)) != 0)
			t_fail(__FILE__, __LINE__, "\"%s\" rejected: %s", ok[i],
			    err);
		T_ASSERT(!t_failed);
	}
}

T_TEST(backend_check_url_rejects)
{
	static const struct {
		const char *url, *why;
	} bad[] = {
	    {"grafolean/api", "http://"},
	    {"ftp://grafolean/api", "http://"},
	    {"//grafolean/api", "http://"},
	    {"", "http://"},
	    {"http://grafolean", "/api"},
	    {"http://grafolean/", "/api"},
	    {"http://grafolean/api/v1", "/api"},
	    {"http://grafolean/apix", "/api"},
	    {"http://grafolean/api?x=1", NULL},
	    {"http://grafolean/x?y=/api", "'?'"},
	    {"http://grafolean/x#/api", "'#'"},
	    /* Issue 13.6: userinfo is refused, and err does not quote it. */
	    {"http://user:s3cret@grafolean/api", "user:pass@"},
	    {"https://s3cret@grafolean:8443/api", "user:pass@"},
	    {"http://user:s3cret@[::1]/api/", "user:pass@"},
	};
	char err[BOT_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (backend_check_url(bad[i].url, err, sizeof(err)) != -1 ||
		    err[0] == '\0' ||
		    (bad[i].why != NULL && strstr(err, bad[i].why) == NULL))
			t_fail(__FILE__, __LINE__,
			    "\"%s\": not rejected as expected (err \"%s\")",
			    bad[i].url, err);
		T_ASSERT(!t_failed);
		T_ASSERT(strstr(err, "s3cret") == NULL);
	}
}

T_TEST(backend_check_url_needs_api_path)
{
	char err[BOT_ERRLEN];

	/* "/api" must be the path, not the end of the host name: here the
	 * host is "api" and the path is empty. */
	T_EQ_INT(backend_check_url("http://api", err, sizeof(err)), -1);
	T_EQ_INT(backend_check_url("https://api/", err, sizeof(err)), -1);
}

T_TEST(backend_check_token_uuid)
{
	static const char *ok[] = {
	    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
	    "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",
	    "00000000-0000-0000-0000-000000000000",
	};
	static const char *bad[] = {
	    "",
	    "0f1e2d3c",
	    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f",   /* short */
	    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f00", /* extra digit */
	    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 ", /* extra space */
	    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n",
	    " 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
	    "0f1e2d3g-4b5a-6978-8796-a5b4c3d2e1f0", /* g is not hex */
	    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fz",
	    "0f1e2d3c4b5a69788796a5b4c3d2e1f0",     /* no dashes */
	    "0f1e2d3c-4b5a6-978-8796-a5b4c3d2e1f0", /* dash misplaced */
	    "0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0",
	    "{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}",
	    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-0",
	};
	char err[BOT_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		T_EQ_INT(backend_check_token(ok[i], err, sizeof(err)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (backend_check_token(bad[i], err, sizeof(err)) != -1)
			t_fail(__FILE__, __LINE__, "\"%s\" accepted", bad[i]);
		T_ASSERT(!t_failed);
		T_ASSERT(strstr(err, "UUID") != NULL);
	}
}

T_TEST(backend_url_appends_token)
{
	static const char tok[] = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
	struct backend *b;
	char *u;

	b = backend_new(NULL, NULL, "http://grafolean/api", tok);
	T_ASSERT(b != NULL);
	T_ASSERT(backend_loop(b) == NULL);
	T_ASSERT(backend_http(b) == NULL);
	T_EQ_INT(backend_bot_id(b), -1);
	u = backend_url(b, "accounts/");
	T_EQ_STR(u,
	    "http://grafolean/api/accounts/"
	    "?b=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	free(u);
	u = backend_url(b, "accounts/1/entities/?x=1");
	T_EQ_STR(u,
	    "http://grafolean/api/accounts/1/entities/?x=1"
	    "&b=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	free(u);
	u = backend_url(b, "profile/");
	T_EQ_STR(u,
	    "http://grafolean/api/profile/"
	    "?b=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	free(u);
	backend_free(b);

	/* Trailing slashes of BACKEND_URL do not double up. */
	b = backend_new(NULL, NULL, "http://grafolean/api//", tok);
	u = backend_url(b, "status/info");
	T_EQ_STR(u,
	    "http://grafolean/api/status/info"
	    "?b=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	free(u);
	backend_free(b);

	/* Without a token, no b at all. */
	b = backend_new(NULL, NULL, "http://grafolean/api", NULL);
	u = backend_url(b, "status/info");
	T_EQ_STR(u, "http://grafolean/api/status/info");
	free(u);
	backend_free(b);
	backend_free(NULL);
}

/* A canned answer. */
static struct http_response
answer(long status, const char *error, const char *body)
{
	struct http_response r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.error = error;
	r.body = body;
	r.body_len = strlen(body);
	return r;
}

T_TEST(backend_json_checks_answer)
{
	struct json_object *o;
	struct http_response r;
	char err[BOT_ERRLEN];

	r = answer(200, NULL, "{\"user_id\": 5}");
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), 0);
	T_ASSERT(json_object_is_type(o, json_type_object));
	json_object_put(o);
	r = answer(200, NULL, "[1, 2]\n");
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), 0);
	json_object_put(o);

	r = answer(0, "Connection refused", "");
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
	T_ASSERT(o == NULL);
	T_EQ_STR(err, "Connection refused");

	r = answer(401, NULL, "Access denied");
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "401") != NULL);
	T_ASSERT(strstr(err, "token") != NULL);

	r = answer(403, NULL, "Forbidden\r\nline two");
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
	/* One line: control characters escaped. */
	T_EQ_STR(err, "HTTP 403: Forbidden\\r\\nline two");

	r = answer(404, NULL, "{\"detail\": \"No such entity\"}");
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "HTTP 404") != NULL);
	T_ASSERT(strstr(err, "No such entity") != NULL);

	/* A 302 is not followed and not taken for an answer. */
	r = answer(302, NULL, "");
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "HTTP 302") != NULL);

	r = answer(200, NULL, "{\"user_id\": ");
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
	T_ASSERT(o == NULL);
	T_ASSERT(strstr(err, "not valid JSON") != NULL);
	r = answer(200, NULL, "<html>grafolean</html>");
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "<html>") != NULL);
	r = answer(200, NULL, "{} trailing");
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
	r = answer(200, NULL, "");
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
	T_ASSERT(o == NULL);
	/* Valid JSON, but no answer: a bare null. */
	r = answer(200, NULL, "null");
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
	T_ASSERT(o == NULL);
	T_ASSERT(strstr(err, "not valid JSON: null") != NULL);
	/* Nesting beyond the bound is refused, not parsed. */
	{
		char deep[2 * 80 + 1];

		memset(deep, '[', 80);
		memset(deep + 80, ']', 80);
		deep[160] = '\0';
		r = answer(200, NULL, deep);
		T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
		T_ASSERT(o == NULL);
	}
}

T_TEST(backend_json_long_body_snippet)
{
	struct json_object *o;
	struct http_response r;
	char err[BOT_ERRLEN], body[4096];

	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	r = answer(500, NULL, body);
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
	/* One short line, not the whole body. */
	T_ASSERT(strlen(err) < 200);
	T_ASSERT(strchr(err, '\n') == NULL);
}

T_TEST(backend_ip_is_local_classifies)
{
	static const char *local[] = {"127.0.0.1", "127.255.0.9", "10.1.2.3",
	    "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.0.5",
	    "100.64.0.1", "100.127.255.255", "::1", "fd00::1", "fc12::7",
	    "fe80::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1"};
	static const char *public[] = {"8.8.8.8", "172.15.255.255",
	    "172.32.0.1", "192.169.0.1", "100.63.255.255", "100.128.0.1",
	    "198.51.100.7", "2001:db8::1", "fec0::1", "::ffff:8.8.8.8",
	    "::", "", "not an address", "10.0.0.1.5"};
	size_t i;

	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		if (!backend_ip_is_local(local[i]))
			t_fail(__FILE__, __LINE__, "%s not local", local[i]);
		T_ASSERT(!t_failed);
	}
	for (i = 0; i < sizeof(public) / sizeof(public[0]); i++) {
		if (backend_ip_is_local(public[i]))
			t_fail(__FILE__, __LINE__, "%s local", public[i]);
		T_ASSERT(!t_failed);
	}
}

/* A token that straddles the snippet's 160-character cut at every
 * position never shows in part (issue 13.5). */
T_TEST(backend_json_redacts_before_cutting)
{
	static const char tok[] = "fedcba98-7654-4321-8765-0123456789ab";
	char body[400], err[BOT_ERRLEN];
	struct http_response r;
	struct json_object *o;
	size_t pad;

	log_set_secret(tok);
	for (pad = 100; pad <= 170; pad++) {
		memset(body, 'x', pad);
		snprintf(
		    body + pad, sizeof(body) - pad, "invalid token: %s", tok);
		r = answer(500, NULL, body);
		T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
		T_ASSERT(strstr(err, "token: f") == NULL);
		T_ASSERT(strstr(err, "xf") == NULL);
		r = answer(200, NULL, body);
		T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
		T_ASSERT(strstr(err, "token: f") == NULL);
	}
	/* The 110-byte body of the report: the token is redacted whole. */
	memset(body, 'x', 110);
	snprintf(body + 110, sizeof(body) - 110, "invalid token: %s", tok);
	r = answer(500, NULL, body);
	T_EQ_INT(backend_json(&r, &o, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "invalid token: <red") != NULL);
	log_set_secret(NULL);
}

/* The readiness check's answers, in order, from a forked server that
 * serves one per connection and reports each request line. */
static const char *const t_ready_bodies[] = {
    /* null reads false: "no user exists" */
    "{\"db_migration_needed\": false, \"user_exists\": null}",
    /* a flag missing or of the wrong type: not Grafolean's answer */
    "{\"user_exists\": true}",
    "{\"db_migration_needed\": false, \"user_exists\": \"yes\"}",
    "{\"db_migration_needed\": false, \"user_exists\": true}",
    /* not an id (ids are 1..2^53): asked again from status/info */
    "{\"user_id\": 0}",
    "{\"db_migration_needed\": false, \"user_exists\": true}",
    "{\"user_id\": 42}",
};
#define T_READY_N (sizeof(t_ready_bodies) / sizeof(t_ready_bodies[0]))

static void
t_ready_serve(int lfd, int report)
{
	static char req[8192];
	char head[256];
	size_t i, n;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < T_READY_N; i++) {
		struct pollfd p = {lfd, POLLIN, 0};
		int c;
		char *eol;

		if (poll(&p, 1, 10000) <= 0)
			_exit(100);
		c = accept(lfd, NULL, NULL);
		if (c == -1)
			_exit(101);
		n = t_srv_read_request(c, req, sizeof(req), 5000);
		if (n == 0)
			_exit(102);
		req[n] = '\0';
		eol = strstr(req, " HTTP/");
		n = eol != NULL ? (size_t)(eol - req) : strcspn(req, "\r\n");
		t_srv_write_all(report, req, n);
		t_srv_write_all(report, "\n", 1);
		snprintf(head, sizeof(head),
		    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		    strlen(t_ready_bodies[i]));
		t_srv_write_all(c, head, strlen(head));
		t_srv_write_all(
		    c, t_ready_bodies[i], strlen(t_ready_bodies[i]));
		close(c);
	}
	_exit(0);
}

static void
t_ready_cb(int64_t bot_id, void *arg)
{
	struct loop *l = arg;

	T_EQ_INT(bot_id, 42);
	loop_break(l);
}

/* status/info's flags are read by jsonx_bool (required, null is false)
 * and profile/'s user_id by jsonx_id: every answer that breaks a rule is
 * retried, and the log says why once per state. */
T_TEST(backend_wait_ready_reads_flags_and_id_by_the_rules)
{
	char url[128], reqs[2048], logpath[512], logtext[8192];
	struct http_config cfg;
	struct timer deadline;
	struct backend *b;
	struct loop *l;
	struct http *h;
	enum log_level saved_level = log_get_level();
	int lfd, port, pfd[2], st, saved_err, fd;
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	FILE *f;

	lfd = t_srv_listen(&port);
	T_ASSERT(lfd != -1 && pipe(pfd) == 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	T_ASSERT(pid != -1);
	if (pid == 0) {
		close(pfd[0]);
		t_ready_serve(lfd, pfd[1]);
	}
	close(pfd[1]);
	close(lfd);

	snprintf(logpath, sizeof(logpath), "%s/ready.log", t_tmpdir());
	log_init("unit", LOG_LEVEL_INFO);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_ASSERT(fd != -1);
	saved_err = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);

	timer_set_clock(NULL);
	l = loop_new();
	http_config_defaults(&cfg);
	cfg.total_timeout_ms = 5000;
	h = http_new(l, &cfg);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api", port);
	b = backend_new(l, h, url, NULL);
	timer_init(&deadline, t_srv_break_loop, l);
	loop_timer_start(l, &deadline, 20000);
	backend_wait_ready(b, 10, t_ready_cb, l);
	T_EQ_INT(loop_run(l), 0);
	loop_timer_stop(l, &deadline);
	T_EQ_INT(backend_bot_id(b), 42);
	backend_free(b);
	http_free(h);
	loop_free(l);

	fflush(stderr);
	dup2(saved_err, STDERR_FILENO);
	close(saved_err);
	log_init("unit", saved_level);

	while (len + 1 < sizeof(reqs) &&
	    (n = read(pfd[0], reqs + len, sizeof(reqs) - 1 - len)) > 0)
		len += (size_t)n;
	reqs[len] = '\0';
	close(pfd[0]);
	T_ASSERT(waitpid(pid, &st, 0) == pid);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_EQ_STR(reqs,
	    "GET /api/status/info\n"
	    "GET /api/status/info\n"
	    "GET /api/status/info\n"
	    "GET /api/status/info\n"
	    "GET /api/profile/\n"
	    "GET /api/status/info\n"
	    "GET /api/profile/\n");

	f = fopen(logpath, "r");
	T_ASSERT(f != NULL);
	len = fread(logtext, 1, sizeof(logtext) - 1, f);
	fclose(f);
	logtext[len] = '\0';
	T_ASSERT(strstr(logtext, "not ready yet (no user exists)") != NULL);
	T_ASSERT(strstr(logtext, "BACKEND_URL must end with /api") != NULL);
	T_ASSERT(strstr(logtext, "profile/ has no user_id") != NULL);
	T_ASSERT(strstr(logtext, "ready, we are bot 42") != NULL);
}
