/*
 * The Grafolean backend's address and credentials: URL building with the
 * token as "?b=", the start-up readiness check (status/info, then
 * profile/ for our own bot id).
 */
#ifndef BOT_BACKEND_H
#define BOT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"
#include "http.h"

struct http;
struct loop;
struct backend;

/* 0 when url looks like a backend URL ending in /api, without a query,
 * fragment or user:pass@, else -1 with err (which never quotes url). */
int backend_check_url(const char *url, char *err, size_t errlen) BOT_WUR;
/* 0 when token is a UUID (8-4-4-4-12 hex digits), else -1 with err. */
int backend_check_token(const char *token, char *err, size_t errlen) BOT_WUR;

/* Creates the client; url and token are copied, h and l borrowed. */
struct backend *backend_new(
    struct loop *l, struct http *h, const char *url, const char *token);
void backend_free(struct backend *b);

/* Returns BACKEND_URL + "/" + path + "?b=token" (path has no leading
 * slash and may hold a query: then "&b=" is used).  Owned by the caller;
 * it contains the secret, so never log it unredacted. */
char *backend_url(const struct backend *b, const char *path);

/* Starts method on backend_url(b, path) through the client's http (see
 * http_request); body, when set, goes as JSON.  The URL, which holds the
 * token, is wiped from memory once the request has copied it. */
int backend_request(struct backend *b, const char *method, const char *path,
    const char *body, size_t body_len, http_cb *cb, void *arg) BOT_WUR;
struct http *backend_http(const struct backend *b);
struct loop *backend_loop(const struct backend *b);
int64_t backend_bot_id(const struct backend *b);

struct http_response;
struct json_object;

/* Checks that res is a 200 answer with a complete JSON body and parses
 * it into *out (owned by the caller).  -1 with a one-line reason in err
 * (transport error, status with the start of the body, or bad JSON). */
int backend_json(const struct http_response *res, struct json_object **out,
    char *err, size_t errlen) BOT_WUR;

/* 1 when ip (text form) is loopback, private (RFC 1918, fc00::/7),
 * link-local or shared (100.64/10) address space. */
int backend_ip_is_local(const char *ip);
/* Looks at every backend answer: says once when the token travelled in
 * clear text (plain http) to an address outside local space. */
void backend_check_answer(struct backend *b, const struct http_response *res);
typedef void backend_ready_cb(int64_t bot_id, void *arg);

/* Polls status/info until the backend is migrated and has a user, then
 * reads profile/; retries every retry_ms with one log line per state
 * change.  cb runs once, from the loop, with our bot id. */
void backend_wait_ready(
    struct backend *b, int64_t retry_ms, backend_ready_cb *cb, void *arg);

#endif
