/*
 * Output microbenchmark: CPU per value through the Prometheus store, the
 * Graphite output (to a local listener that reads and discards, every
 * value acknowledged) and the stdout output (to /dev/null), and the time
 * of one /metrics rendering of 100,000 series.  CPU is the loop thread's
 * own (the listener thread is not counted).
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "graphite.h"
#include "log.h"
#include "loop.h"
#include "promexp.h"
#include "sender.h"
#include "values.h"

#define ENTITIES   1000
#define PER_ENTITY 100 /* 100,000 series */
#define ROUNDS     10  /* 1,000,000 values */

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One run's values: entity e's 100 interface counters. */
static void
make_values(struct values *vs, int e, int round)
{
	char path[128];
	int i;

	values_init(vs, 1);
	for (i = 0; i < PER_ENTITY; i++) {
		snprintf(path, sizeof(path),
		    "entity.%d.snmp.if.in-octets.%d.eth%d", e, i, i);
		values_add(vs, path, 1000.0 * round + i,
		    1700000000.0 + round * 60 + e * 0.001);
	}
}

static void
bench_prometheus(struct loop *l)
{
	struct values vs;
	struct promexp *p;
	struct buf out;
	char err[200];
	double c0, c1, w0, w1;
	int r, e;

	p = promexp_new(l, "127.0.0.1", 0, 3600000, err, sizeof(err));
	if (p == NULL) {
		fprintf(stderr, "prometheus: %s\n", err);
		exit(1);
	}
	c0 = cpu_s();
	for (r = 0; r < ROUNDS; r++) {
		for (e = 0; e < ENTITIES; e++) {
			make_values(&vs, e, r);
			promexp_put(p, &vs);
			values_release(&vs);
		}
	}
	c1 = cpu_s();
	buf_init(&out, (size_t)1 << 30);
	w0 = wall_s();
	if (promexp_render(p, &out) == -1)
		exit(1);
	w1 = wall_s();
	printf("outputs: prometheus %d values into %zu series: %.0f ns CPU "
	       "per value (incl. building the values); /metrics of %zu "
	       "series: %.0f ms, %zu bytes\n",
	    ENTITIES * PER_ENTITY * ROUNDS, promexp_series(p),
	    (c1 - c0) * 1e9 / (ENTITIES * PER_ENTITY * ROUNDS),
	    promexp_series(p), (w1 - w0) * 1e3, out.len);
	buf_release(&out);
	promexp_free(p);
}

static void *
drain(void *arg)
{
	int lfd = *(int *)arg, fd;
	char chunk[1 << 16];

	fd = accept(lfd, NULL, NULL);
	while (fd >= 0 && read(fd, chunk, sizeof(chunk)) > 0)
		;
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int bench_done;

static void
on_flushed(void *arg)
{
	bench_done = 1;
	loop_break(arg);
}

static void
bench_graphite(struct loop *l)
{
	struct graphite_config gc;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct graphite_counters cnt;
	struct graphite *g;
	struct values vs;
	pthread_t th;
	char port[16];
	double c0, c1;
	int lfd, r, e;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 1) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1)
		exit(1);
	snprintf(port, sizeof(port), "%d", ntohs(sin.sin_port));
	pthread_create(&th, NULL, drain, &lfd);
	memset(&gc, 0, sizeof(gc));
	gc.max_buffer_bytes = (size_t)1 << 30;
	gc.retry_min_ms = 100;
	gc.retry_max_ms = 1000;
	gc.timeout_ms = 30000;
	c0 = cpu_s();
	g = graphite_new(l, "127.0.0.1", port, &gc);
	for (r = 0; r < ROUNDS; r++) {
		for (e = 0; e < ENTITIES; e++) {
			make_values(&vs, e, r);
			graphite_put(g, &vs);
			values_release(&vs);
		}
	}
	graphite_flush(g, INT64_MAX / 2, on_flushed, l);
	while (!bench_done)
		if (loop_run(l) == -1)
			exit(1);
	c1 = cpu_s();
	graphite_get_counters(g, &cnt);
	printf("outputs: graphite %llu of %d values acknowledged: %.0f ns CPU "
	       "per value (incl. building the values)\n",
	    (unsigned long long)cnt.sent, ENTITIES * PER_ENTITY * ROUNDS,
	    (c1 - c0) * 1e9 / (ENTITIES * PER_ENTITY * ROUNDS));
	graphite_free(g);
	pthread_join(th, NULL);
	close(lfd);
}

static void
bench_stdout(void)
{
	FILE *null = fopen("/dev/null", "w");
	struct sender *s;
	struct values vs;
	double c0, c1;
	int r, e;

	if (null == NULL)
		exit(1);
	s = sender_stdout_new(null);
	c0 = cpu_s();
	for (r = 0; r < ROUNDS; r++) {
		for (e = 0; e < ENTITIES; e++) {
			make_values(&vs, e, r);
			sender_put(s, &vs);
			values_release(&vs);
		}
	}
	c1 = cpu_s();
	printf("outputs: stdout %d values: %.0f ns CPU per value (incl. "
	       "building the values)\n",
	    ENTITIES * PER_ENTITY * ROUNDS,
	    (c1 - c0) * 1e9 / (ENTITIES * PER_ENTITY * ROUNDS));
	sender_free(s);
	fclose(null);
}

static void
bench_baseline(void)
{
	struct values vs;
	double c0, c1;
	int r, e;

	c0 = cpu_s();
	for (r = 0; r < ROUNDS; r++) {
		for (e = 0; e < ENTITIES; e++) {
			make_values(&vs, e, r);
			values_release(&vs);
		}
	}
	c1 = cpu_s();
	printf("outputs: building the values alone: %.0f ns CPU per value\n",
	    (c1 - c0) * 1e9 / (ENTITIES * PER_ENTITY * ROUNDS));
}

int
main(void)
{
	struct loop *l;

	log_init("bench", LOG_LEVEL_WARN);
	l = loop_new();
	bench_baseline();
	bench_prometheus(l);
	bench_graphite(l);
	bench_stdout();
	loop_free(l);
	return 0;
}
