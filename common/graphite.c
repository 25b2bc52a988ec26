/*
 * Graphite plaintext over TCP.  States: waiting to reconnect (backoff
 * timer), resolving (common/resolver), connecting (non-blocking connect,
 * POLLOUT), connected.  Connected, the loop writes lines from the head of
 * the buffer; the values written stay "in flight", each with the stream
 * offset of its line's end, until the peer's TCP has acknowledged that
 * offset (bytes written minus SIOCOUTQ).  A broken connection puts the
 * unacknowledged ones back at the head of the buffer, in order.
 */
#include "graphite.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backoff.h"
#include "buf.h"
#include "log.h"
#include "loop.h"
#include "resolver.h"
#include "sendq.h"
#include "timer.h"
#include "values.h"
#include "xmalloc.h"

/* Lines taken from the buffer per write; one line is < 300 bytes. */
#define GRAPHITE_CHUNK_VALUES 512
#define GRAPHITE_CHUNK_BYTES  ((size_t)1 << 20)
/* How often acknowledgements are checked while lines are in flight. */
#define GRAPHITE_ACK_POLL_MS    200
#define GRAPHITE_WARN_MS        60000
#define GRAPHITE_FLUSH_RETRY_MS 200

enum graphite_state {
	GRAPHITE_WAITING,
	GRAPHITE_RESOLVING,
	GRAPHITE_CONNECTING,
	GRAPHITE_CONNECTED,
};

struct graphite_flight {
	struct value item;
	uint64_t end; /* stream offset just past its line */
};

struct graphite {
	struct loop *loop;
	struct graphite_config cfg;
	char *host, *port, *target;
	struct resolver *resolver;
	struct resolver_query *query;
	struct sendq *q;
	enum graphite_state state;
	int fd;
	struct backoff backoff;
	struct timer retry_timer;
	struct timer ack_timer;
	struct timer deadline_timer;

	struct buf wbuf;     /* text not yet written */
	size_t wbuf_off;     /* ... from this offset */
	uint64_t written;    /* bytes written on this connection */
	uint64_t acked;      /* ... acknowledged by the peer */
	int64_t progress_ms; /* when acked last moved (or data was added) */
	struct graphite_flight *flight;
	size_t n_flight, cap_flight, flight_head;

	graphite_flushed_cb *flushed_cb;
	void *flushed_arg;
	struct graphite_counters c;
	struct log_limit warn_limit;
};

static void graphite_connect(struct graphite *g);
static void graphite_pump(struct graphite *g);

const char *
graphite_target(const struct graphite *g)
{
	return g->target;
}

size_t
graphite_pending(const struct graphite *g)
{
	return sendq_values(g->q);
}

void
graphite_get_counters(const struct graphite *g, struct graphite_counters *c)
{
	struct sendq_drops d;

	*c = g->c;
	sendq_get_drops(g->q, &d);
	c->dropped = d.total;
}

void
graphite_log_totals(const struct graphite *g)
{
	struct graphite_counters c;

	graphite_get_counters(g, &c);
	log_info("graphite %s: %llu values measured, %llu delivered, %llu "
	         "dropped, %llu sent again, %llu connections, %llu failed, "
	         "%zu undelivered",
	    g->target, (unsigned long long)c.queued, (unsigned long long)c.sent,
	    (unsigned long long)c.dropped, (unsigned long long)c.resent,
	    (unsigned long long)c.connects, (unsigned long long)c.failures,
	    graphite_pending(g));
}

static void
graphite_check_flushed(struct graphite *g)
{
	graphite_flushed_cb *cb = g->flushed_cb;

	if (cb == NULL || sendq_values(g->q) > 0)
		return;
	g->flushed_cb = NULL;
	loop_timer_stop(g->loop, &g->deadline_timer);
	cb(g->flushed_arg);
}

/* Values whose line the peer acknowledged leave the buffer. */
static void
graphite_take_acks(struct graphite *g)
{
	int unacked = 0;
	uint64_t acked;
	size_t n = 0;

	if (g->fd < 0 || g->n_flight == 0)
		return;
	if (ioctl(g->fd, SIOCOUTQ, &unacked) == -1 || unacked < 0)
		return;
	acked = g->written - (uint64_t)unacked;
	if (acked != g->acked)
		g->progress_ms = timer_now_ms();
	g->acked = acked;
	while (n < g->n_flight && g->flight[g->flight_head + n].end <= acked) {
		sendq_done(g->q, &g->flight[g->flight_head + n].item, 1);
		n++;
	}
	g->flight_head += n;
	g->n_flight -= n;
	g->c.sent += n;
	if (g->n_flight == 0)
		g->flight_head = 0;
}

/* Closes the connection; unacknowledged values go back to the buffer's
 * head, in order, to be written again on the next connection. */
static void
graphite_close(struct graphite *g, const char *why)
{
	size_t i;

	if (g->fd >= 0)
		graphite_take_acks(g);
	if (why != NULL) {
		g->c.failures++;
		log_warnx_limited(&g->warn_limit, GRAPHITE_WARN_MS,
		    "graphite %s: %s; %zu values wait for the next "
		    "connection",
		    g->target, why, sendq_values(g->q));
	}
	if (g->n_flight > 0) {
		struct value *items = xcalloc(g->n_flight, sizeof(*items));

		for (i = 0; i < g->n_flight; i++)
			items[i] = g->flight[g->flight_head + i].item;
		sendq_unshift(g->q, 0, items, g->n_flight);
		g->c.resent += g->n_flight;
		free(items);
	}
	g->n_flight = 0;
	g->flight_head = 0;
	if (g->fd >= 0) {
		loop_unwatch(g->loop, g->fd);
		close(g->fd);
		g->fd = -1;
	}
	buf_reset(&g->wbuf);
	g->wbuf_off = 0;
	g->written = g->acked = 0;
	loop_timer_stop(g->loop, &g->ack_timer);
	if (g->query != NULL) {
		resolver_cancel(g->query);
		g->query = NULL;
	}
	g->state = GRAPHITE_WAITING;
}

static void
graphite_retry_later(struct graphite *g, const char *why)
{
	int64_t delay;

	graphite_close(g, why);
	delay = backoff_next(&g->backoff);
	/* Flushing at shutdown: keep trying, but not in a tight loop. */
	if (g->flushed_cb != NULL && delay > GRAPHITE_FLUSH_RETRY_MS)
		delay = GRAPHITE_FLUSH_RETRY_MS;
	loop_timer_start(g->loop, &g->retry_timer, delay);
}

static void
graphite_flight_add(struct graphite *g, const struct value *it)
{
	if (g->flight_head + g->n_flight == g->cap_flight) {
		if (g->flight_head > 0) {
			memmove(g->flight, g->flight + g->flight_head,
			    g->n_flight * sizeof(*g->flight));
			g->flight_head = 0;
		} else {
			g->cap_flight =
			    g->cap_flight ? g->cap_flight * 2 : 1024;
			g->flight = xreallocarray(
			    g->flight, g->cap_flight, sizeof(*g->flight));
		}
	}
	g->flight[g->flight_head + g->n_flight].item = *it;
	g->n_flight++;
}

/* Moves values from the buffer's head into wbuf as lines. */
static void
graphite_fill(struct graphite *g)
{
	char num[64], tbuf[64];
	struct value it;
	size_t n = 0;

	buf_reset(&g->wbuf);
	g->wbuf_off = 0;
	while (n < GRAPHITE_CHUNK_VALUES &&
	    g->wbuf.len < GRAPHITE_CHUNK_BYTES && sendq_len(g->q, 0) > 0) {
		sendq_pop(g->q, 0, &it);
		values_format_number(it.v, num, sizeof(num));
		values_format_time(it.t, tbuf, sizeof(tbuf));
		if (buf_printf(&g->wbuf, "%s %s %s\n", it.path, num, tbuf) ==
		    -1) {
			sendq_unshift(g->q, 0, &it, 1);
			break;
		}
		graphite_flight_add(g, &it);
		g->flight[g->flight_head + g->n_flight - 1].end =
		    g->written + g->wbuf.len;
		n++;
	}
}

static void
graphite_on_fd(int fd, int revents, void *arg)
{
	struct graphite *g = arg;
	char scratch[512];
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	ssize_t r;

	(void)fd;
	if (g->state == GRAPHITE_CONNECTING) {
		if (getsockopt(g->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) ==
		        -1 ||
		    soerr != 0) {
			graphite_retry_later(
			    g, soerr != 0 ? strerror(soerr) : "connect failed");
			return;
		}
		g->state = GRAPHITE_CONNECTED;
		loop_timer_stop(g->loop, &g->ack_timer);
		g->c.connects++;
		g->progress_ms = timer_now_ms();
		backoff_reset(&g->backoff);
		log_info("graphite %s: connected", g->target);
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		/* Carbon sends nothing: data is discarded, EOF or an error
		 * means the connection is gone. */
		r = read(g->fd, scratch, sizeof(scratch));
		if (r == 0) {
			graphite_retry_later(g, "connection closed by peer");
			return;
		}
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			graphite_retry_later(g, strerror(errno));
			return;
		}
	}
	graphite_pump(g);
}

/* Writes what it can and sets the descriptor's events. */
static void
graphite_pump(struct graphite *g)
{
	ssize_t w;
	int events = POLLIN;

	if (g->state != GRAPHITE_CONNECTED)
		return;
	graphite_take_acks(g);
	for (;;) {
		if (g->wbuf_off == g->wbuf.len) {
			graphite_fill(g);
			if (g->wbuf.len == 0)
				break;
		}
		w = send(g->fd, g->wbuf.data + g->wbuf_off,
		    g->wbuf.len - g->wbuf_off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				events |= POLLOUT;
				break;
			}
			graphite_retry_later(g, strerror(errno));
			return;
		}
		g->wbuf_off += (size_t)w;
		g->written += (uint64_t)w;
	}
	loop_watch(g->loop, g->fd, events, graphite_on_fd, g);
	graphite_take_acks(g);
	if (g->n_flight > 0) {
		if (timer_now_ms() - g->progress_ms > g->cfg.timeout_ms) {
			graphite_retry_later(
			    g, "written data not acknowledged in time");
			return;
		}
		if (!timer_armed(&g->ack_timer))
			loop_timer_start(
			    g->loop, &g->ack_timer, GRAPHITE_ACK_POLL_MS);
	}
	graphite_check_flushed(g);
}

static void
graphite_on_ack_timer(struct timer *t, void *arg)
{
	(void)t;
	graphite_pump(arg);
}

static void
graphite_on_resolved(int rc, const struct addrinfo *res, void *arg)
{
	struct graphite *g = arg;
	struct sockaddr_storage ss;
	uint16_t port = htons((uint16_t)strtol(g->port, NULL, 10));
	int fd, one = 1;
	unsigned timeout = (unsigned)g->cfg.timeout_ms;

	g->query = NULL;
	if (rc != 0 || res == NULL) {
		graphite_retry_later(
		    g, rc != 0 ? gai_strerror(rc) : "name has no address");
		return;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_TCP);
	if (fd == -1) {
		graphite_retry_later(g, strerror(errno));
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A peer that stops acknowledging for this long breaks the
	 * connection (the kernel's own retransmission limit is ~15 min). */
	(void)setsockopt(
	    fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	g->fd = fd;
	g->state = GRAPHITE_CONNECTING;
	/* The resolver looks up names only: the port is ours to set. */
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, res->ai_addr, res->ai_addrlen);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = port;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = port;
	if (connect(fd, (struct sockaddr *)&ss, res->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		graphite_retry_later(g, strerror(errno));
		return;
	}
	loop_watch(g->loop, fd, POLLOUT, graphite_on_fd, g);
	loop_timer_start(g->loop, &g->ack_timer, g->cfg.timeout_ms);
}

static void
graphite_connect(struct graphite *g)
{
	g->state = GRAPHITE_RESOLVING;
	g->query = resolver_lookup(
	    g->resolver, g->host, AF_UNSPEC, graphite_on_resolved, g);
}

static void
graphite_on_retry(struct timer *t, void *arg)
{
	(void)t;
	graphite_connect(arg);
}

/* While connecting, the ack timer doubles as the connect timeout. */
static void
graphite_on_timer(struct timer *t, void *arg)
{
	struct graphite *g = arg;

	if (g->state == GRAPHITE_CONNECTING) {
		graphite_retry_later(g, "connect timed out");
		return;
	}
	graphite_on_ack_timer(t, arg);
}

static void
graphite_on_deadline(struct timer *t, void *arg)
{
	struct graphite *g = arg;
	graphite_flushed_cb *cb = g->flushed_cb;

	(void)t;
	if (cb == NULL)
		return;
	g->flushed_cb = NULL;
	log_warnx("graphite %s: %zu values not delivered in time; they are "
	          "lost",
	    g->target, sendq_values(g->q));
	cb(g->flushed_arg);
}

void
graphite_flush(
    struct graphite *g, int64_t deadline_ms, graphite_flushed_cb *cb, void *arg)
{
	g->flushed_cb = cb;
	g->flushed_arg = arg;
	if (sendq_values(g->q) == 0) {
		graphite_check_flushed(g);
		return;
	}
	loop_timer_at(g->loop, &g->deadline_timer, deadline_ms);
	if (g->state == GRAPHITE_WAITING) {
		loop_timer_stop(g->loop, &g->retry_timer);
		graphite_connect(g);
	} else {
		graphite_pump(g);
	}
}

void
graphite_put(struct graphite *g, const struct values *vs)
{
	struct value it;
	int64_t now_ms = timer_now_ms();
	size_t i;

	/* values_add let only finite numbers and valid times in. */
	for (i = 0; i < vs->len; i++) {
		memset(&it, 0, sizeof(it));
		it.path = xstrdup(vs->items[i].path);
		it.v = vs->items[i].v;
		it.t = vs->items[i].t;
		it.enq_ms = now_ms;
		sendq_push(g->q, 0, &it);
		g->c.queued++;
	}
	(void)sendq_enforce_limits(g->q);
	if (g->cfg.max_age_ms > 0)
		(void)sendq_expire(g->q, now_ms);
	if (g->state == GRAPHITE_CONNECTED && g->wbuf_off == g->wbuf.len)
		graphite_pump(g);
}

struct graphite *
graphite_new(struct loop *l, const char *host, const char *port,
    const struct graphite_config *c)
{
	struct graphite *g = xcalloc(1, sizeof(*g));

	g->loop = l;
	g->cfg = *c;
	if (g->cfg.timeout_ms <= 0)
		g->cfg.timeout_ms = 30000;
	g->host = xstrdup(host);
	g->port = xstrdup(port);
	g->target = xasprintf("%s:%s", host, port);
	g->fd = -1;
	g->q =
	    sendq_new(c->max_buffer_values, c->max_buffer_bytes, c->max_age_ms);
	(void)sendq_index(g->q, 0);
	g->resolver = resolver_new(l, 1);
	if (g->resolver == NULL)
		fatalx("graphite %s: cannot start the resolver", g->target);
	buf_init(&g->wbuf, GRAPHITE_CHUNK_BYTES + 4096);
	backoff_init(&g->backoff, c->retry_min_ms, c->retry_max_ms, 0);
	timer_init(&g->retry_timer, graphite_on_retry, g);
	timer_init(&g->ack_timer, graphite_on_timer, g);
	timer_init(&g->deadline_timer, graphite_on_deadline, g);
	graphite_connect(g);
	return g;
}

void
graphite_free(struct graphite *g)
{
	if (g == NULL)
		return;
	graphite_close(g, NULL);
	loop_timer_stop(g->loop, &g->retry_timer);
	loop_timer_stop(g->loop, &g->deadline_timer);
	resolver_free(g->resolver);
	sendq_free(g->q);
	free(g->flight);
	buf_release(&g->wbuf);
	free(g->host);
	free(g->port);
	free(g->target);
	free(g);
}
