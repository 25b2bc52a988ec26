/*
 * Unit tests for http.c against a tiny HTTP server on 127.0.0.1, forked
 * per test, driven by a real loop: the body cap fails the transfer, a
 * body of exactly the cap passes, redirects come back as they are, and
 * headers the backend cares about are sent and read.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "http.h"
#include "loop.h"
#include "t.h"
#include "t_srv.h"
#include "timer.h"

/* What the server child does with each request it reads. */
struct srv {
	int lfd;
	int port;
	pid_t pid;
	int report; /* read end of the pipe carrying the request heads */
};

/* Result of one request, copied out of the callback. */
struct got {
	int done;
	long status;
	char error[256];
	size_t body_len;
	char body[64];
	char retry_after[64];
	size_t pending; /* transfers left after the callback */
	struct loop *l;
};

/* Forks a server that answers the first request with head followed by
 * body_len bytes of 'x', then counts further requests on that connection
 * or on new ones until the client hangs up.  The child's exit status is
 * the number of requests it saw; it writes the first request to the
 * report pipe. */
static int
srv_start(struct srv *s, const char *head, size_t body_len)
{
	int pfd[2];

	s->lfd = t_srv_listen(&s->port);
	if (s->lfd == -1 || pipe(pfd) == -1)
		return -1;
	fflush(stdout);
	fflush(stderr);
	s->pid = fork();
	if (s->pid == -1)
		return -1;
	if (s->pid == 0) {
		static char req[8192];
		char *body;
		int c, requests = 0;
		size_t n;

		/* The client may hang up before it has the whole body. */
		signal(SIGPIPE, SIG_IGN);
		close(pfd[0]);
		/* Never outlive a client that died before connecting. */
		{
			struct pollfd p = {s->lfd, POLLIN, 0};

			if (poll(&p, 1, 10000) <= 0)
				_exit(100);
		}
		c = accept(s->lfd, NULL, NULL);
		if (c == -1)
			_exit(100);
		n = t_srv_read_request(c, req, sizeof(req), 5000);
		if (n == 0)
			_exit(101);
		requests++;
		t_srv_write_all(pfd[1], req, n);
		close(pfd[1]);
		body = malloc(body_len + 1);
		if (body == NULL)
			_exit(102);
		memset(body, 'x', body_len);
		t_srv_write_all(c, head, strlen(head));
		t_srv_write_all(c, body, body_len);
		free(body);
		/* A client that follows a redirect asks again, on this
		 * connection or a new one. */
		for (;;) {
			struct pollfd p[2] = {
			    {c, POLLIN, 0}, {s->lfd, POLLIN, 0}};

			if (poll(p, 2, 3000) <= 0)
				break;
			if (p[1].revents & POLLIN) {
				close(c);
				c = accept(s->lfd, NULL, NULL);
				if (c == -1)
					break;
				continue;
			}
			if (t_srv_read_request(c, req, sizeof(req), 1000) == 0)
				break;
			requests++;
		}
		_exit(requests);
	}
	close(pfd[1]);
	close(s->lfd);
	s->report = pfd[0];
	return 0;
}

/* Waits for the server; returns its request count and the first request
 * in req. */
static int
srv_finish(struct srv *s, char *req, size_t reqlen)
{
	size_t len = 0;
	ssize_t n;
	int st;

	while (len + 1 < reqlen) {
		n = read(s->report, req + len, reqlen - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	req[len] = '\0';
	close(s->report);
	if (waitpid(s->pid, &st, 0) != s->pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
on_answer(const struct http_response *res, void *arg)
{
	struct got *g = arg;

	g->done = 1;
	g->status = res->status;
	snprintf(
	    g->error, sizeof(g->error), "%s", res->error ? res->error : "");
	g->body_len = res->body_len;
	snprintf(
	    g->body, sizeof(g->body), "%.*s", (int)res->body_len, res->body);
	snprintf(g->retry_after, sizeof(g->retry_after), "%s",
	    res->retry_after ? res->retry_after : "");
	loop_break(g->l);
}

/* Runs one request through a real loop and client; 0 when it ended. */
static int
run_request(const char *method, const char *url, const char *body,
    size_t max_body, struct got *g)
{
	struct http_config cfg;
	struct timer deadline;
	struct loop *l;
	struct http *h;
	int rc = -1;

	timer_set_clock(NULL);
	memset(g, 0, sizeof(*g));
	l = loop_new();
	http_config_defaults(&cfg);
	cfg.max_body = max_body;
	cfg.total_timeout_ms = 5000;
	h = http_new(l, &cfg);
	g->l = l;
	timer_init(&deadline, t_srv_break_loop, l);
	loop_timer_start(l, &deadline, 8000);
	if (http_request(h, method, url, body, body ? strlen(body) : 0, NULL,
	        on_answer, g) == 0) {
		if (loop_run(l) == 0 && g->done)
			rc = 0;
	}
	loop_timer_stop(l, &deadline);
	g->pending = http_pending(h);
	http_free(h);
	loop_free(l);
	return rc;
}

T_TEST(http_body_over_cap_fails)
{
	char head[256], url[128], req[8192];
	struct srv s;
	struct got g;

	snprintf(head, sizeof(head),
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %d\r\n\r\n",
	    5000);
	T_EQ_INT(srv_start(&s, head, 5000), 0);
	snprintf(
	    url, sizeof(url), "http://127.0.0.1:%d/api/big?b=SECRET", s.port);
	T_EQ_INT(run_request("GET", url, NULL, 1000, &g), 0);
	T_EQ_INT(srv_finish(&s, req, sizeof(req)), 1);
	T_EQ_INT(g.status, 0);
	T_ASSERT(strstr(g.error, "over 1000 bytes") != NULL);
	T_ASSERT(g.body_len <= 1000);
	T_ASSERT(starts_with(req, "GET /api/big?b=SECRET HTTP/1.1\r\n"));
	T_EQ_INT(g.pending, 0);
}

T_TEST(http_body_at_cap_passes)
{
	char head[256], url[128], req[8192];
	struct srv s;
	struct got g;

	snprintf(head, sizeof(head),
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %d\r\n\r\n",
	    1000);
	T_EQ_INT(srv_start(&s, head, 1000), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/ok", s.port);
	T_EQ_INT(run_request("GET", url, NULL, 1000, &g), 0);
	T_EQ_INT(srv_finish(&s, req, sizeof(req)), 1);
	T_EQ_INT(g.status, 200);
	T_EQ_STR(g.error, "");
	T_EQ_INT(g.body_len, 1000);
	T_EQ_INT(g.body[0], 'x');
}

T_TEST(http_redirect_not_followed)
{
	char head[256], url[128], req[8192];
	struct srv s;
	struct got g;

	snprintf(head, sizeof(head),
	    "HTTP/1.1 302 Found\r\nLocation: /api/elsewhere\r\n"
	    "Content-Length: 5\r\n\r\n");
	T_EQ_INT(srv_start(&s, head, 5), 0);
	snprintf(
	    url, sizeof(url), "http://127.0.0.1:%d/api/accounts/?b=T", s.port);
	T_EQ_INT(run_request("GET", url, NULL, 1000, &g), 0);
	/* Exactly one request: the redirect was handed back, not taken. */
	T_EQ_INT(srv_finish(&s, req, sizeof(req)), 1);
	T_EQ_INT(g.status, 302);
	T_EQ_STR(g.error, "");
	T_EQ_STR(g.body, "xxxxx");
}

T_TEST(http_put_sends_body_and_reads_retry_after)
{
	static const char body[] = "[{\"p\":\"a\",\"v\":1,\"t\":1.5}]";
	char head[256], url[128], req[8192];
	struct srv s;
	struct got g;

	snprintf(head, sizeof(head),
	    "HTTP/1.1 503 Service Unavailable\r\nRetry-After:  17 \r\n"
	    "Content-Length: 0\r\n\r\n");
	T_EQ_INT(srv_start(&s, head, 0), 0);
	snprintf(url, sizeof(url),
	    "http://127.0.0.1:%d/api/accounts/1/"
	    "values/?b=T",
	    s.port);
	T_EQ_INT(run_request("PUT", url, body, 1000, &g), 0);
	T_EQ_INT(srv_finish(&s, req, sizeof(req)), 1);
	T_EQ_INT(g.status, 503);
	T_EQ_STR(g.retry_after, "17");
	T_ASSERT(
	    starts_with(req, "PUT /api/accounts/1/values/?b=T HTTP/1.1\r\n"));
	T_ASSERT(strstr(req, "\r\nContent-Type: application/json\r\n") != NULL);
	snprintf(
	    head, sizeof(head), "\r\nContent-Length: %zu\r\n", strlen(body));
	T_ASSERT(strstr(req, head) != NULL);
	snprintf(head, sizeof(head), "\r\n\r\n%s", body);
	T_ASSERT(strstr(req, head) != NULL);
	/* The token travels only in the URL. */
	T_ASSERT(strstr(req, "Authorization") == NULL);
	T_ASSERT(strstr(req, "Expect") == NULL);
}

T_TEST(http_connection_refused_reports_error)
{
	char url[128];
	struct got g;
	int fd, port;

	/* A port that was just free: nothing listens there now. */
	fd = t_srv_listen(&port);
	T_ASSERT(fd != -1);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/?b=SECRET", port);
	T_EQ_INT(run_request("GET", url, NULL, 1000, &g), 0);
	T_EQ_INT(g.status, 0);
	T_ASSERT(g.error[0] != '\0');
	T_ASSERT(strstr(g.error, "SECRET") == NULL);
}
