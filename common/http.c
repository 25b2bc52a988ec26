/*
 * libcurl multi-socket glued to loop.c (curl's ephiperfifo pattern):
 * curl tells us which sockets to watch and when its one timeout is due; we
 * tell curl when a socket is ready or the timer fired.  Completed
 * transfers are collected with curl_multi_info_read and handed to their
 * callbacks.  Bodies are capped, redirects are off, errors are redacted.
 */
#include "http.h"

#include <curl/curl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "loop.h"
#include "xmalloc.h"

#define HTTP_IDLE_MAX 32

struct http_xfer {
	struct http *h;
	CURL *easy;
	struct buf body;
	struct curl_slist *headers;
	char *retry_after;
	int too_big;
	int observed; /* report the status to cfg.on_answer */
	http_cb *cb;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
	struct http_xfer *prev, *next;
};

struct http {
	struct loop *loop;
	CURLM *multi;
	struct timer timer;
	struct http_config cfg;
	struct http_xfer *xfers;
	size_t pending;
	const struct http_opts *next_opts; /* for http_request_opts */
	/* What CURLOPT_ACCEPT_ENCODING "" would offer, and the header line
	 * saying it: sent as our own header, libcurl skips building its own
	 * (twice through its formatter, per request). */
	char encodings[64];
	char accept_encoding[96];
	/* Easy handles of finished transfers, reset (curl_easy_reset) for
	 * the next: creating and destroying one per request cost more. */
	CURL *idle[HTTP_IDLE_MAX];
	size_t n_idle;
};

static int http_global_refs;

/* The encodings this libcurl decodes, in the order of its own list
 * (libcurl's content_encoding.c): "deflate, gzip, br, zstd" at most. */
static void
http_encodings(char *out, size_t outlen)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	size_t n = 0;

	out[0] = '\0';
	if (v->features & CURL_VERSION_LIBZ)
		n += (size_t)snprintf(out + n, outlen - n, "deflate, gzip");
	if ((v->features & CURL_VERSION_BROTLI) && n < outlen)
		n += (size_t)snprintf(
		    out + n, outlen - n, "%sbr", n > 0 ? ", " : "");
	if ((v->features & CURL_VERSION_ZSTD) && n < outlen)
		snprintf(out + n, outlen - n, "%szstd", n > 0 ? ", " : "");
}

void
http_config_defaults(struct http_config *c)
{
	memset(c, 0, sizeof(*c));
	c->connect_timeout_ms = 10000;
	c->total_timeout_ms = 30000;
	c->low_speed_bps = 10;
	c->low_speed_time_s = 15;
	c->max_body = 16 * 1024 * 1024;
	c->user_agent = "grafolean-bot";
}

/* Takes x out of the multi handle and the list of transfers. */
static void
http_xfer_unlink(struct http *h, struct http_xfer *x)
{
	curl_multi_remove_handle(h->multi, x->easy);
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		h->xfers = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	h->pending--;
}

/* e is out of the multi handle: kept for the next request when there is
 * room (every option back to its default), else destroyed. */
static void
http_easy_done(struct http *h, CURL *e)
{
	if (h->n_idle < HTTP_IDLE_MAX) {
		curl_easy_reset(e);
		h->idle[h->n_idle++] = e;
	} else {
		curl_easy_cleanup(e);
	}
}

static void
http_xfer_free(struct http_xfer *x)
{
	http_easy_done(x->h, x->easy);
	curl_slist_free_all(x->headers);
	buf_release(&x->body);
	free(x->retry_after);
	free(x);
}

static void
http_check_done(struct http *h)
{
	struct http_response res;
	struct http_xfer *x;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		char clean[CURL_ERROR_SIZE];
		char *priv = NULL;
		CURLcode code;

		if (msg->msg != CURLMSG_DONE)
			continue;
		code = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct http_xfer *)priv;
		memset(&res, 0, sizeof(res));
		if (code == CURLE_OK) {
			curl_easy_getinfo(
			    x->easy, CURLINFO_RESPONSE_CODE, &res.status);
		} else {
			const char *e =
			    x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);

			if (x->too_big)
				snprintf(x->errbuf, sizeof(x->errbuf),
				    "response body over %zu bytes",
				    h->cfg.max_body);
			else if (e != x->errbuf)
				snprintf(x->errbuf, sizeof(x->errbuf), "%s", e);
			log_redact(x->errbuf, clean, sizeof(clean));
			memcpy(x->errbuf, clean, sizeof(clean));
			res.error = x->errbuf;
		}
		curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &res.elapsed_s);
		res.body = x->body.data ? x->body.data : "";
		res.body_len = x->body.len;
		res.retry_after = x->retry_after;
		if (curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_IP,
		        &res.primary_ip) != CURLE_OK ||
		    res.primary_ip == NULL || res.primary_ip[0] == '\0')
			res.primary_ip = NULL;
		if (curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL,
		        &res.redirect_url) != CURLE_OK)
			res.redirect_url = NULL;

		http_xfer_unlink(h, x);
		if (x->observed)
			h->cfg.on_answer(res.status);
		x->cb(&res, x->arg);
		http_xfer_free(x);
	}
}

static void
http_on_fd(int fd, int revents, void *arg)
{
	struct http *h = arg;
	int flags = 0, running;

	if (revents & (POLLIN | POLLHUP))
		flags |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLNVAL))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h->multi, fd, flags, &running);
	http_check_done(h);
}

static void
http_on_timer(struct timer *t, void *arg)
{
	struct http *h = arg;
	int running;

	(void)t;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(h);
}

static int
http_socket_cb(
    CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	int events = 0;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		loop_unwatch(h->loop, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= POLLIN;
	if (what & CURL_POLL_OUT)
		events |= POLLOUT;
	loop_watch(h->loop, s, events, http_on_fd, h);
	return 0;
}

static int
http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;

	(void)multi;
	if (timeout_ms < 0)
		loop_timer_stop(h->loop, &h->timer);
	else
		loop_timer_start(h->loop, &h->timer, timeout_ms);
	return 0;
}

struct http *
http_new(struct loop *l, const struct http_config *c)
{
	struct http *h;

	if (http_global_refs++ == 0 &&
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	h = xcalloc(1, sizeof(*h));
	h->loop = l;
	h->cfg = *c;
	http_encodings(h->encodings, sizeof(h->encodings));
	if (h->encodings[0] != '\0')
		snprintf(h->accept_encoding, sizeof(h->accept_encoding),
		    "Accept-Encoding: %s", h->encodings);
	timer_init(&h->timer, http_on_timer, h);
	h->multi = curl_multi_init();
	if (h->multi == NULL)
		fatalx("curl_multi_init failed");
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	/* A few kept-alive connections per host; curl queues the rest. */
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    c->max_host_connections > 0 ? c->max_host_connections : 8L);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 16L);
	return h;
}

size_t
http_cancel(struct http *h, http_cb *cb, void *arg)
{
	struct http_xfer *x, *next;
	size_t n = 0;

	for (x = h->xfers; x != NULL; x = next) {
		next = x->next;
		if (x->cb != cb || x->arg != arg)
			continue;
		http_xfer_unlink(h, x);
		http_xfer_free(x);
		n++;
	}
	return n;
}

void
http_free(struct http *h)
{
	struct http_xfer *x, *next;

	if (h == NULL)
		return;
	for (x = h->xfers; x != NULL; x = next) {
		next = x->next;
		http_xfer_unlink(h, x);
		http_xfer_free(x);
	}
	loop_timer_stop(h->loop, &h->timer);
	curl_multi_cleanup(h->multi);
	while (h->n_idle > 0)
		curl_easy_cleanup(h->idle[--h->n_idle]);
	free(h);
	if (--http_global_refs == 0)
		curl_global_cleanup();
}

static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_xfer *x = userdata;
	size_t len = size * nmemb;

	if (buf_append(&x->body, ptr, len) == -1) {
		x->too_big = 1;
		return 0; /* makes curl fail the transfer */
	}
	return len;
}

static size_t
http_header_cb(char *ptr, size_t size, size_t nitems, void *userdata)
{
	struct http_xfer *x = userdata;
	size_t len = size * nitems;
	static const char name[] = "retry-after:";

	/* A new status line (after a 401 answered by Digest auth, or a
	 * 100 Continue): what an earlier answer said no longer counts. */
	if (len > 5 && ptr[0] == 'H' && strncmp(ptr, "HTTP/", 5) == 0) {
		free(x->retry_after);
		x->retry_after = NULL;
	}
	if ((ptr[0] == 'R' || ptr[0] == 'r') && len > sizeof(name) - 1 &&
	    len < 256 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
		size_t start = sizeof(name) - 1, end = len;

		while (start < end && (ptr[start] == ' ' || ptr[start] == '\t'))
			start++;
		while (end > start &&
		    (ptr[end - 1] == '\r' || ptr[end - 1] == '\n' ||
		        ptr[end - 1] == ' '))
			end--;
		free(x->retry_after);
		x->retry_after = xstrndup(ptr + start, end - start);
	}
	return len;
}

/* Per-request options on top of what http_request set. */
static void
http_apply_opts(struct http_xfer *x, const struct http_opts *o)
{
	CURL *e = x->easy;
	const char *ae = x->h->accept_encoding;
	size_t i;

	for (i = 0; i < o->n_headers; i++) {
		x->headers = curl_slist_append(x->headers, o->headers[i]);
		if (strncasecmp(o->headers[i], "Accept-Encoding:", 16) == 0)
			ae = NULL; /* the caller's own replaces the offer */
	}
	if (o->decode && ae != NULL && ae[0] != '\0')
		x->headers = curl_slist_append(x->headers, ae);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	if (o->username != NULL) {
		/* Basic goes out with the first request; Digest answers
		 * the server's 401 challenge inside the same transfer. */
		curl_easy_setopt(e, CURLOPT_HTTPAUTH,
		    o->digest ? (long)CURLAUTH_DIGEST : (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, o->username);
		curl_easy_setopt(
		    e, CURLOPT_PASSWORD, o->password ? o->password : "");
	}
	if (o->timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	if (o->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
	if (o->no_verify_tls) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	/* Every encoding this libcurl decodes is offered (the list ""
	 * stands for, named here so curl need not build it per request);
	 * servers that compress regardless of Accept-Encoding are decoded
	 * too. */
	if (o->decode)
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING,
		    x->h->encodings[0] != '\0' ? x->h->encodings : "");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
}

int
http_request(struct http *h, const char *method, const char *url,
    const char *body, size_t body_len, const char *content_type, http_cb *cb,
    void *arg)
{
	struct http_xfer *x;
	char ct[128];
	CURL *e;

	e = h->n_idle > 0 ? h->idle[--h->n_idle] : curl_easy_init();
	if (e == NULL) {
		log_warnx("http: curl_easy_init failed");
		return -1;
	}
	x = xcalloc(1, sizeof(*x));
	x->h = h;
	x->easy = e;
	x->cb = cb;
	x->arg = arg;
	x->observed = h->cfg.on_answer != NULL &&
	    h->cfg.answer_prefix != NULL &&
	    strncmp(url, h->cfg.answer_prefix, strlen(h->cfg.answer_prefix)) ==
	        0;
	buf_init(&x->body, h->cfg.max_body);

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(
	    e, CURLOPT_CONNECTTIMEOUT_MS, h->cfg.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->cfg.total_timeout_ms);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, h->cfg.low_speed_bps);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, h->cfg.low_speed_time_s);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->cfg.ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->cfg.ca_file);
	if (h->cfg.user_agent != NULL)
		curl_easy_setopt(e, CURLOPT_USERAGENT, h->cfg.user_agent);

	if (body != NULL) {
		/* No 100-continue round trip before every batch (curl
		 * asks only when there is a body). */
		x->headers = curl_slist_append(x->headers, "Expect:");
		snprintf(ct, sizeof(ct), "Content-Type: %s",
		    content_type ? content_type : "application/json");
		x->headers = curl_slist_append(x->headers, ct);
		curl_easy_setopt(
		    e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "POST") != 0 || body == NULL)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);

	if (h->next_opts != NULL)
		http_apply_opts(x, h->next_opts);
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		log_warnx("http: cannot start a %s request", method);
		http_easy_done(h, e);
		curl_slist_free_all(x->headers);
		buf_release(&x->body);
		free(x);
		return -1;
	}
	x->next = h->xfers;
	if (h->xfers != NULL)
		h->xfers->prev = x;
	h->xfers = x;
	h->pending++;
	return 0;
}

int
http_request_opts(struct http *h, const char *method, const char *url,
    const char *body, size_t body_len, const char *content_type,
    const struct http_opts *o, http_cb *cb, void *arg)
{
	int rc;

	h->next_opts = o;
	rc =
	    http_request(h, method, url, body, body_len, content_type, cb, arg);
	h->next_opts = NULL;
	return rc;
}

size_t
http_pending(const struct http *h)
{
	return h->pending;
}
