/*
 * The Prometheus series store: last value and time per series, grouping
 * under one # TYPE line per name, and removal of stale series (fake
 * clock), plus one scrape over HTTP from the loop.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "loop.h"
#include "promexp.h"
#include "t.h"
#include "timer.h"
#include "values.h"

static int64_t fake_ms;

static int64_t
fake_clock(void)
{
	return fake_ms;
}

static char *
render(struct promexp *p)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	if (promexp_render(p, &b) == -1) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static void
put(struct promexp *p, const char *path, double v, double t)
{
	struct values vs;

	values_init(&vs, 1);
	values_add(&vs, path, v, t);
	promexp_put(p, &vs);
	values_release(&vs);
}

T_TEST(t_promexp_render_groups_and_last_value)
{
	struct loop *l = loop_new();
	char err[200];
	struct promexp *p = promexp_new(l, "127.0.0.1", 0, 3600000, err, 200);
	char *text;

	T_ASSERT(p != NULL);
	put(p, "entity.2.ping.rtt.avg", 0.5, 1700000000.25);
	put(p, "entity.1.ping.rtt.avg", 0.25, 1700000000.5);
	put(p, "entity.1.ping.rtt.avg", 0.125, 1700000001.5);
	put(p, "entity.1.ping.success", 1, 1700000001.5);
	put(p, "bad path", 1, 1700000001.5);
	T_EQ_INT(promexp_series(p), 3);
	text = render(p);
	T_ASSERT(text != NULL);
	T_EQ_STR(text,
	    "# HELP grafolean_ping_rtt_avg_seconds Last value of the "
	    "Grafolean paths mapped to this name.\n"
	    "# TYPE grafolean_ping_rtt_avg_seconds gauge\n"
	    "grafolean_ping_rtt_avg_seconds{entity=\"1\"} 0.125 "
	    "1700000001500\n"
	    "grafolean_ping_rtt_avg_seconds{entity=\"2\"} 0.5 1700000000250\n"
	    "# HELP grafolean_ping_success_ratio Last value of the Grafolean "
	    "paths mapped to this name.\n"
	    "# TYPE grafolean_ping_success_ratio gauge\n"
	    "grafolean_ping_success_ratio{entity=\"1\"} 1 1700000001500\n");
	free(text);
	promexp_free(p);
	loop_free(l);
}

T_TEST(t_promexp_stale_after_two_intervals)
{
	struct loop *l;
	struct promexp *p;
	char err[200];

	fake_ms = 1000000;
	timer_set_clock(fake_clock);
	l = loop_new();
	p = promexp_new(l, "127.0.0.1", 0, 600000, err, 200);
	T_ASSERT(p != NULL);
	/* Every 10 s: kept for 20 s after the last value. */
	put(p, "entity.1.ping.success", 1, 1700000000);
	fake_ms += 10000;
	put(p, "entity.1.ping.success", 1, 1700000010);
	/* Seen once: kept for the TTL (600 s). */
	put(p, "entity.2.ping.success", 1, 1700000010);
	fake_ms += 20000;
	free(render(p));
	T_EQ_INT(promexp_series(p), 2);
	fake_ms += 1;
	free(render(p));
	T_EQ_INT(promexp_series(p), 1);
	fake_ms += 600000;
	free(render(p));
	T_EQ_INT(promexp_series(p), 0);
	promexp_free(p);
	loop_free(l);
	timer_set_clock(NULL);
}

static void
self_metrics(void *arg, struct buf *out)
{
	(void)arg;
	if (buf_append_str(out, "# TYPE me counter\nme_total 7\n") == -1)
		abort();
}

static int
connect_local(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

struct reply {
	struct buf b;
	struct loop *l;
};

static void
on_reply(int fd, int revents, void *arg)
{
	struct reply *r = arg;
	char chunk[4096];
	ssize_t n;

	(void)revents;
	n = read(fd, chunk, sizeof(chunk));
	if (n > 0 && buf_append(&r->b, chunk, (size_t)n) == 0)
		return;
	loop_unwatch(r->l, fd);
	loop_break(r->l);
}

static void
on_deadline(struct timer *t, void *arg)
{
	(void)t;
	loop_break(arg);
}

T_TEST(t_promexp_serves_metrics_over_http)
{
	struct reply reply;
	struct timer deadline;
	char err[200];
	struct promexp *p;
	const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	int fd;

	reply.l = loop_new();
	buf_init(&reply.b, 1 << 20);
	p = promexp_new(reply.l, "127.0.0.1", 0, 3600000, err, 200);
	T_ASSERT(p != NULL);
	T_ASSERT(promexp_port(p) > 0);
	promexp_set_self(p, self_metrics, NULL);
	put(p, "entity.1.ping.success", 0.5, 1700000000);
	fd = connect_local(promexp_port(p));
	T_ASSERT(fd >= 0);
	T_EQ_INT(write(fd, req, sizeof(req) - 1), (long)sizeof(req) - 1);
	loop_watch(reply.l, fd, POLLIN, on_reply, &reply);
	timer_init(&deadline, on_deadline, reply.l);
	loop_timer_start(reply.l, &deadline, 5000);
	T_EQ_INT(loop_run(reply.l), 0);
	loop_timer_stop(reply.l, &deadline);
	close(fd);
	T_ASSERT(strstr(reply.b.data, "HTTP/1.0 200") != NULL ||
	    strstr(reply.b.data, "HTTP/1.1 200") != NULL);
	T_ASSERT(strstr(reply.b.data, "text/plain; version=0.0.4") != NULL);
	T_ASSERT(strstr(reply.b.data,
	             "grafolean_ping_success_ratio{entity=\"1\"} 0.5 "
	             "1700000000000\n") != NULL);
	T_ASSERT(strstr(reply.b.data, "me_total 7\n") != NULL);
	buf_release(&reply.b);
	promexp_free(p);
	loop_free(reply.l);
}
