/*
 * Asynchronous HTTP on libcurl's multi-socket interface, driven by the
 * bot's loop: curl's sockets are watched by loop.c and its timeout is one
 * loop timer.  Connections are kept alive and reused; every response body
 * is capped; redirects are never followed; error texts are redacted.
 */
#ifndef BOT_HTTP_H
#define BOT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct loop;
struct http;

struct http_config {
	long connect_timeout_ms; /* default 10000 */
	long total_timeout_ms;   /* default 30000 */
	long low_speed_bps;      /* abort below this rate ... (default 10) */
	long low_speed_time_s;   /* ... sustained this long (default 15) */
	size_t max_body;         /* response body cap (default 16 MiB) */
	const char *ca_file;     /* extra CA bundle, NULL for the system's */
	const char *user_agent;
	/* When both are set, on_answer gets the status (0 for a transport
	 * error) of every finished request whose URL starts with
	 * answer_prefix (borrowed), before its callback: the health file's
	 * "backend answered" clock. */
	void (*on_answer)(long status);
	const char *answer_prefix;
	long max_host_connections; /* per host at once; 0: 8 */
};

struct http_response {
	long status;       /* 0 when the transfer failed */
	const char *error; /* redacted transport error text, NULL if none */
	const char *body;  /* NUL-terminated, borrowed for the callback */
	size_t body_len;
	const char *retry_after; /* Retry-After header value or NULL */
	const char *primary_ip;  /* address connected to, or NULL */
	double elapsed_s;
	const char *redirect_url; /* a 3xx's Location, resolved; or NULL */
};

/* Per-request options (http_request_opts); everything borrowed for the
 * call only.  Zero means the client's setting. */
struct http_opts {
	const char *const *headers; /* "Name: value" lines, added */
	size_t n_headers;
	const char *username; /* basic auth when not NULL */
	const char *password;
	int digest;          /* 1: Digest (RFC 7616) after a 401, not Basic */
	long timeout_ms;     /* total timeout */
	const char *ca_file; /* CA bundle instead of the client's */
	int no_verify_tls;   /* 1: TLS peer and host not verified */
	int decode; /* 1: offers gzip/deflate/br/zstd, decodes answers */
};

typedef void http_cb(const struct http_response *res, void *arg);

/* Fills c with the defaults above. */
void http_config_defaults(struct http_config *c);

/* Creates a client on loop l; c is copied (ca_file/user_agent borrowed). */
struct http *http_new(struct loop *l, const struct http_config *c);
/* Aborts transfers in flight (their callbacks are not called) and frees. */
void http_free(struct http *h);

/* Starts a request.  method is "GET", "PUT", "POST" or "DELETE"; body
 * (may be NULL) is copied; content_type applies when body is set.  On 0 the
 * callback runs exactly once, later, from the loop.  On -1 it never runs. */
int http_request(struct http *h, const char *method, const char *url,
    const char *body, size_t body_len, const char *content_type, http_cb *cb,
    void *arg) BOT_WUR;

/* http_request with per-request options (o may be NULL).  HTTP/2 is
 * used when a TLS server offers it.  Same contract as http_request. */
int http_request_opts(struct http *h, const char *method, const char *url,
    const char *body, size_t body_len, const char *content_type,
    const struct http_opts *o, http_cb *cb, void *arg) BOT_WUR;

/* Aborts the transfers in flight started with this callback and arg;
 * their callbacks are not called.  Returns how many. */
size_t http_cancel(struct http *h, http_cb *cb, void *arg);
/* Transfers in flight. */
size_t http_pending(const struct http *h);

#endif
