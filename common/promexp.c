/*
 * Series store (a chained hash table keyed by the series text) and the
 * /metrics endpoint.  libmicrohttpd runs in its "external epoll" mode: the
 * loop watches MHD's epoll descriptor and calls MHD_run when it is ready
 * or when MHD's own timeout comes; a scrape is rendered synchronously on
 * the loop thread.
 */
#include "promexp.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "loop.h"
#include "metricname.h"
#include "mhdlib.h"
#include "timer.h"
#include "values.h"
#include "xmalloc.h"

/* Ceiling of one rendered scrape. */
#define PROMEXP_MAX_BODY ((size_t)512 << 20)
/* Concurrent scrapers and how long one may idle. */
#define PROMEXP_MAX_CONNECTIONS      16
#define PROMEXP_CONNECTION_TIMEOUT_S 10
/* How often stale series are swept between scrapes. */
#define PROMEXP_SWEEP_MS 30000

/* libmicrohttpd's functions (mhdlib_get), for the callbacks too. */
static const struct mhdlib *lib;

struct promexp_series {
	struct promexp_series *next; /* hash chain */
	char *key;                   /* series text */
	size_t name_len;             /* metric name = key[0, name_len) */
	uint64_t hash;
	double v;
	int64_t t_ms;    /* measurement time, Unix ms */
	int64_t seen_ms; /* monotonic time of the last value */
	int64_t gap_ms;  /* between the last two values; 0 = one so far */
};

struct promexp {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	int epoll_fd;
	int port;
	int64_t ttl_ms;
	struct timer mhd_timer;
	struct timer sweep_timer;
	struct promexp_series **buckets;
	size_t n_buckets;
	size_t n_series;
	promexp_self_fn *self_fn;
	void *self_arg;
};

static uint64_t
promexp_hash(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static void
promexp_grow(struct promexp *p)
{
	struct promexp_series **nb, *s, *next;
	size_t n = p->n_buckets * 2, i;

	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < p->n_buckets; i++) {
		for (s = p->buckets[i]; s != NULL; s = next) {
			next = s->next;
			s->next = nb[s->hash & (n - 1)];
			nb[s->hash & (n - 1)] = s;
		}
	}
	free(p->buckets);
	p->buckets = nb;
	p->n_buckets = n;
}

static void
promexp_store(struct promexp *p, const char *key, size_t name_len, double v,
    int64_t t_ms, int64_t now_ms)
{
	uint64_t h = promexp_hash(key);
	struct promexp_series *s;

	for (s = p->buckets[h & (p->n_buckets - 1)]; s != NULL; s = s->next)
		if (s->hash == h && strcmp(s->key, key) == 0)
			break;
	if (s == NULL) {
		if (p->n_series >= p->n_buckets)
			promexp_grow(p);
		s = xcalloc(1, sizeof(*s));
		s->key = xstrdup(key);
		s->name_len = name_len;
		s->hash = h;
		s->next = p->buckets[h & (p->n_buckets - 1)];
		p->buckets[h & (p->n_buckets - 1)] = s;
		p->n_series++;
	} else if (t_ms != s->t_ms) {
		s->gap_ms = now_ms - s->seen_ms;
	}
	s->v = v;
	s->t_ms = t_ms;
	s->seen_ms = now_ms;
}

void
promexp_put(struct promexp *p, const struct values *vs)
{
	char key[METRIC_NAME_MAX + METRIC_MAX_LABELS * 2 * (PATH_MAX_LEN + 16)];
	int64_t now_ms = timer_now_ms();
	struct metric m;
	size_t i;

	for (i = 0; i < vs->len; i++) {
		const struct value *val = &vs->items[i];

		if (metricname_map(val->path, &m) == -1)
			continue;
		if (metricname_series(&m, key, sizeof(key)) == -1)
			continue;
		promexp_store(p, key, strlen(m.name), val->v,
		    (int64_t)llround(val->t * 1000.0), now_ms);
	}
}

/* A series is stale after two of its intervals without a value, or after
 * the TTL when it has had one value only. */
static int
promexp_stale(
    const struct promexp *p, const struct promexp_series *s, int64_t now_ms)
{
	int64_t keep = s->gap_ms > 0 ? 2 * s->gap_ms : p->ttl_ms;

	return now_ms - s->seen_ms > keep;
}

static void
promexp_sweep(struct promexp *p)
{
	int64_t now_ms = timer_now_ms();
	struct promexp_series **pp, *s;
	size_t i;

	for (i = 0; i < p->n_buckets; i++) {
		pp = &p->buckets[i];
		while (*pp != NULL) {
			s = *pp;
			if (promexp_stale(p, s, now_ms)) {
				*pp = s->next;
				free(s->key);
				free(s);
				p->n_series--;
			} else {
				pp = &s->next;
			}
		}
	}
}

static int
promexp_cmp(const void *a, const void *b)
{
	const struct promexp_series *x =
	    *(const struct promexp_series *const *)a;
	const struct promexp_series *y =
	    *(const struct promexp_series *const *)b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return strcmp(x->key + x->name_len, y->key + y->name_len);
}

int
promexp_render(struct promexp *p, struct buf *out)
{
	struct promexp_series **all = NULL, *s;
	char num[64];
	size_t i, n = 0;
	int rc = -1;

	promexp_sweep(p);
	if (p->n_series > 0)
		all = xcalloc(p->n_series, sizeof(*all));
	for (i = 0; i < p->n_buckets; i++)
		for (s = p->buckets[i]; s != NULL; s = s->next)
			all[n++] = s;
	if (n > 0)
		qsort(all, n, sizeof(*all), promexp_cmp);
	for (i = 0; i < n; i++) {
		s = all[i];
		if (i == 0 || all[i - 1]->name_len != s->name_len ||
		    memcmp(all[i - 1]->key, s->key, s->name_len) != 0) {
			if (buf_printf(out,
			        "# HELP %.*s Last value of the Grafolean paths "
			        "mapped to this name.\n# TYPE %.*s gauge\n",
			        (int)s->name_len, s->key, (int)s->name_len,
			        s->key) == -1)
				goto out;
		}
		values_format_number(s->v, num, sizeof(num));
		if (buf_printf(out, "%s %s %lld\n", s->key, num,
		        (long long)s->t_ms) == -1)
			goto out;
	}
	if (p->self_fn != NULL)
		p->self_fn(p->self_arg, out);
	rc = 0;
out:
	free(all);
	return rc;
}

size_t
promexp_series(const struct promexp *p)
{
	return p->n_series;
}

void
promexp_set_self(struct promexp *p, promexp_self_fn *fn, void *arg)
{
	p->self_fn = fn;
	p->self_arg = arg;
}

int
promexp_port(const struct promexp *p)
{
	return p->port;
}

/* --- HTTP ------------------------------------------------------------ */

static enum MHD_Result
promexp_reply(struct MHD_Connection *c, unsigned code, const char *type,
    char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = lib->create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	if (lib->add_response_header(r, "Content-Type", type) == MHD_NO) {
		lib->destroy_response(r);
		return MHD_NO;
	}
	ret = lib->queue_response(c, code, r);
	lib->destroy_response(r);
	return ret;
}

static enum MHD_Result
promexp_handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct promexp *p = cls;
	struct buf body;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return promexp_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "text/plain", xstrdup("only GET\n"), 9);
	if (strcmp(url, "/metrics") != 0) {
		char *msg = xstrdup("not found; try /metrics\n");

		return promexp_reply(
		    c, MHD_HTTP_NOT_FOUND, "text/plain", msg, strlen(msg));
	}
	buf_init(&body, PROMEXP_MAX_BODY);
	if (promexp_render(p, &body) == -1) {
		log_warnx("prometheus: /metrics is over %zu bytes; answering "
		          "500",
		    PROMEXP_MAX_BODY);
		buf_release(&body);
		return promexp_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "text/plain", xstrdup("too large\n"), 10);
	}
	{
		size_t len = body.len;
		char *data = buf_detach(&body);

		if (data == NULL)
			data = xstrdup("");
		return promexp_reply(c, MHD_HTTP_OK,
		    "text/plain; version=0.0.4; charset=utf-8", data, len);
	}
}

static void promexp_run(struct promexp *p);

static void
promexp_on_fd(int fd, int revents, void *arg)
{
	(void)fd;
	(void)revents;
	promexp_run(arg);
}

static void
promexp_on_timer(struct timer *t, void *arg)
{
	(void)t;
	promexp_run(arg);
}

static void
promexp_on_sweep(struct timer *t, void *arg)
{
	struct promexp *p = arg;

	promexp_sweep(p);
	loop_timer_start(p->loop, t, PROMEXP_SWEEP_MS);
}

/* Lets MHD do what is ready, then re-arms its timeout. */
static void
promexp_run(struct promexp *p)
{
	MHD_UNSIGNED_LONG_LONG to;

	(void)lib->run(p->mhd);
	loop_timer_stop(p->loop, &p->mhd_timer);
	if (lib->get_timeout(p->mhd, &to) == MHD_YES)
		loop_timer_start(p->loop, &p->mhd_timer,
		    to > 3600000 ? 3600000 : (int64_t)to);
}

static void
promexp_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warnx("prometheus: %s", msg);
}

struct promexp *
promexp_new(struct loop *l, const char *addr, int port, int64_t ttl_ms,
    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	struct promexp *p;

	memset(&ss, 0, sizeof(ss));
	if (addr == NULL || *addr == '\0' || strcmp(addr, "::") == 0) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_DUAL_STACK;
	} else if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen,
		    "\"%s\" is not a numeric IPv4 or IPv6 address", addr);
		return NULL;
	}
	lib = mhdlib_get(err, errlen); /* opened once, then the same */
	if (lib == NULL)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->loop = l;
	p->ttl_ms = ttl_ms;
	p->n_buckets = 1024;
	p->buckets = xcalloc(p->n_buckets, sizeof(*p->buckets));
	timer_init(&p->mhd_timer, promexp_on_timer, p);
	timer_init(&p->sweep_timer, promexp_on_sweep, p);
	errno = 0;
	p->mhd = lib->start_daemon(flags, (uint16_t)port, NULL, NULL,
	    promexp_handle, p, MHD_OPTION_EXTERNAL_LOGGER, promexp_mhd_log,
	    NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)PROMEXP_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)PROMEXP_CONNECTION_TIMEOUT_S, MHD_OPTION_END);
	if (p->mhd == NULL) {
		snprintf(err, errlen, "cannot listen on %s port %d%s%s",
		    addr != NULL && *addr != '\0' ? addr : "*", port,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
		promexp_free(p);
		return NULL;
	}
	info = lib->get_daemon_info(p->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	p->epoll_fd = info != NULL ? info->epoll_fd : -1;
	info = lib->get_daemon_info(p->mhd, MHD_DAEMON_INFO_BIND_PORT);
	p->port = info != NULL ? info->port : port;
	if (p->epoll_fd < 0) {
		snprintf(err, errlen, "libmicrohttpd gave no epoll descriptor");
		promexp_free(p);
		return NULL;
	}
	loop_watch(l, p->epoll_fd, POLLIN, promexp_on_fd, p);
	loop_timer_start(l, &p->sweep_timer, PROMEXP_SWEEP_MS);
	promexp_run(p);
	return p;
}

void
promexp_free(struct promexp *p)
{
	struct promexp_series *s, *next;
	size_t i;

	if (p == NULL)
		return;
	if (p->mhd != NULL) {
		if (p->epoll_fd >= 0)
			loop_unwatch(p->loop, p->epoll_fd);
		lib->stop_daemon(p->mhd);
	}
	loop_timer_stop(p->loop, &p->mhd_timer);
	loop_timer_stop(p->loop, &p->sweep_timer);
	for (i = 0; i < p->n_buckets; i++) {
		for (s = p->buckets[i]; s != NULL; s = next) {
			next = s->next;
			free(s->key);
			free(s);
		}
	}
	free(p->buckets);
	free(p);
}
