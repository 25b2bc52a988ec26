/*
 * Backend address, token and readiness.  The token travels only as the
 * "b" query parameter (an Authorization header would be taken for a user
 * JWT), so every URL built here is a secret and is logged only through
 * log_redact.  Start-up waits for status/info to report a migrated
 * database with a user, then asks profile/ for our own bot id.
 */
#include "backend.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "jsonx.h"
#include "log.h"
#include "loop.h"
#include "timer.h"
#include "xmalloc.h"

#define BACKEND_JSON_DEPTH 64 /* nesting levels of an answer */

struct backend {
	struct loop *loop;
	struct http *http;
	char *url; /* without trailing slashes */
	char *token;
	int64_t bot_id;
	/* readiness */
	struct timer retry;
	int64_t retry_ms;
	backend_ready_cb *ready_cb;
	void *ready_arg;
	char last_state[BOT_ERRLEN];
	int cleartext_said;
};

int
backend_check_url(const char *url, char *err, size_t errlen)
{
	size_t len = strlen(url);
	const char *host;

	if (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0) {
		snprintf(err, errlen,
		    "must start with http:// or https:// "
		    "(for example http://grafolean/api)");
		return -1;
	}
	host = url + (url[4] == 's' ? 8 : 7);
	while (len > 0 && url[len - 1] == '/')
		len--;
	if (len < 4 || url + len - 4 <= host ||
	    strncmp(url + len - 4, "/api", 4) != 0) {
		snprintf(err, errlen,
		    "must end with /api (for example "
		    "http://grafolean/api)");
		return -1;
	}
	if (strchr(url, '?') != NULL || strchr(url, '#') != NULL) {
		snprintf(err, errlen, "must not contain '?' or '#'");
		return -1;
	}
	/* user:pass@ would be logged with the URL and sent as Basic auth;
	 * Grafolean authenticates bots by their token only. */
	if (memchr(host, '@', strcspn(host, "/")) != NULL) {
		snprintf(err, errlen,
		    "must not contain a user name or password (user:pass@); "
		    "the bot authenticates with BOT_TOKEN only");
		return -1;
	}
	return 0;
}

int
backend_check_token(const char *token, char *err, size_t errlen)
{
	static const int groups[] = {8, 4, 4, 4, 12};
	const char *p = token;
	size_t g;
	int k;

	for (g = 0; g < 5; g++) {
		for (k = 0; k < groups[g]; k++, p++) {
			if (!isxdigit((unsigned char)*p))
				goto bad;
		}
		if (g < 4 && *p++ != '-')
			goto bad;
	}
	if (*p == '\0')
		return 0;
bad:
	snprintf(err, errlen,
	    "is not a UUID (8-4-4-4-12 hex digits, "
	    "as Grafolean shows for the bot)");
	return -1;
}

struct backend *
backend_new(struct loop *l, struct http *h, const char *url, const char *token)
{
	struct backend *b;
	size_t len = strlen(url);

	b = xcalloc(1, sizeof(*b));
	b->loop = l;
	b->http = h;
	while (len > 0 && url[len - 1] == '/')
		len--;
	b->url = xstrndup(url, len);
	b->token = xstrdup(token ? token : "");
	b->bot_id = -1;
	timer_init(&b->retry, NULL, b);
	return b;
}

void
backend_free(struct backend *b)
{
	if (b == NULL)
		return;
	if (b->loop != NULL) /* a client made without a loop (tests) */
		loop_timer_stop(b->loop, &b->retry);
	free(b->url);
	/* Do not leave the secret in freed memory. */
	memset(b->token, 0, strlen(b->token));
	free(b->token);
	free(b);
}

static int
backend_v4_is_local(const unsigned char *a)
{
	return a[0] == 127 || a[0] == 10 ||
	    (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	    (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
	    (a[0] == 100 && (a[1] & 0xc0) == 64);
}

int
backend_ip_is_local(const char *ip)
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char loop6[16] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1)
		return backend_v4_is_local(a);
	if (inet_pton(AF_INET6, ip, a) != 1)
		return 0;
	if (memcmp(a, mapped, sizeof(mapped)) == 0)
		return backend_v4_is_local(a + 12);
	return memcmp(a, loop6, sizeof(loop6)) == 0 || /* ::1 */
	    (a[0] & 0xfe) == 0xfc ||                   /* fc00::/7 */
	    (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);   /* fe80::/10 */
}

void
backend_check_answer(struct backend *b, const struct http_response *res)
{
	if (b == NULL || b->cleartext_said || res->primary_ip == NULL ||
	    strncasecmp(b->url, "http://", 7) != 0 ||
	    backend_ip_is_local(res->primary_ip))
		return;
	b->cleartext_said = 1;
	log_warnx("backend: BACKEND_URL is plain http to %s, a public "
	          "address: the bot token travels in clear text; use https",
	    res->primary_ip);
}

char *
backend_url(const struct backend *b, const char *path)
{
	if (b->token[0] == '\0')
		return xasprintf("%s/%s", b->url, path);
	return xasprintf("%s/%s%sb=%s", b->url, path,
	    strchr(path, '?') ? "&" : "?", b->token);
}

int
backend_request(struct backend *b, const char *method, const char *path,
    const char *body, size_t body_len, http_cb *cb, void *arg)
{
	char *url = backend_url(b, path);
	int rc;

	rc = http_request(b->http, method, url, body, body_len,
	    body != NULL ? "application/json" : NULL, cb, arg);
	memset(url, 0, strlen(url));
	free(url);
	return rc;
}

struct http *
backend_http(const struct backend *b)
{
	return b->http;
}

struct loop *
backend_loop(const struct backend *b)
{
	return b->loop;
}

int64_t
backend_bot_id(const struct backend *b)
{
	return b->bot_id;
}

/* The start of a body as one printable line, redacted before it is cut
 * (a secret straddling the cut must not show in part). */
static void
backend_snippet(const char *body, size_t len, char *out, size_t outlen)
{
	(void)log_sanitize(body, len, out, outlen < 161 ? outlen : 161);
}

int
backend_json(const struct http_response *res, struct json_object **out,
    char *err, size_t errlen)
{
	struct json_object *obj;
	char snip[200], why[BOT_ERRLEN];

	*out = NULL;
	if (res->error != NULL) {
		snprintf(err, errlen, "%s", res->error);
		return -1;
	}
	if (res->status != 200) {
		backend_snippet(res->body, res->body_len, snip, sizeof(snip));
		if (res->status == 401)
			snprintf(err, errlen,
			    "HTTP 401: the backend rejected "
			    "the bot token");
		else
			snprintf(
			    err, errlen, "HTTP %ld: %s", res->status, snip);
		return -1;
	}
	/* The common rules: the whole body, nesting bounded; a bare null is
	 * no answer either. */
	if (jsonx_parse(res->body, res->body_len, BACKEND_JSON_DEPTH, &obj, why,
	        sizeof(why)) == -1 ||
	    obj == NULL) {
		backend_snippet(res->body, res->body_len, snip, sizeof(snip));
		snprintf(err, errlen, "answer is not valid JSON: %s", snip);
		return -1;
	}
	*out = obj;
	return 0;
}

static void backend_ready_step(struct timer *t, void *arg);

/* Logs a readiness state once, when it differs from the last one. */
static void
backend_state(struct backend *b, const char *state)
{
	if (strcmp(b->last_state, state) == 0)
		return;
	snprintf(b->last_state, sizeof(b->last_state), "%s", state);
	log_warnx("backend %s: %s; retrying every %lld s", b->url, state,
	    (long long)(b->retry_ms / 1000));
}

static void
backend_on_profile(const struct http_response *res, void *arg)
{
	struct backend *b = arg;
	struct json_object *obj = NULL;
	char err[BOT_ERRLEN], msg[BOT_ERRLEN + 32];

	if (backend_json(res, &obj, err, sizeof(err)) == -1) {
		snprintf(msg, sizeof(msg), "profile/ failed: %s", err);
		goto retry;
	}
	if (jsonx_id(obj, "user_id", &b->bot_id) == -1) {
		snprintf(msg, sizeof(msg), "profile/ has no user_id");
		goto retry;
	}
	json_object_put(obj);
	log_info(
	    "backend %s: ready, we are bot %lld", b->url, (long long)b->bot_id);
	b->ready_cb(b->bot_id, b->ready_arg);
	return;
retry:
	json_object_put(obj);
	backend_state(b, msg);
	loop_timer_start(b->loop, &b->retry, b->retry_ms);
}

static void
backend_on_status(const struct http_response *res, void *arg)
{
	struct backend *b = arg;
	struct json_object *obj = NULL;
	char err[BOT_ERRLEN], msg[BOT_ERRLEN + 64];
	int migrate, user;

	backend_check_answer(b, res);
	if (backend_json(res, &obj, err, sizeof(err)) == -1 ||
	    !json_object_is_type(obj, json_type_object) ||
	    jsonx_bool(obj, "db_migration_needed", 0, JSONX_REQUIRED, &migrate,
	        err, sizeof(err)) == -1 ||
	    jsonx_bool(obj, "user_exists", 0, JSONX_REQUIRED, &user, err,
	        sizeof(err)) == -1) {
		if (res->error != NULL)
			snprintf(msg, sizeof(msg), "not reachable: %s", err);
		else if (res->status >= 300 && res->status < 400)
			/* Never followed: the token travels in every URL. */
			snprintf(msg, sizeof(msg),
			    "status/info answered a redirect (HTTP %ld to "
			    "%.120s); bots never follow redirects: set "
			    "BACKEND_URL to the address it leads to",
			    res->status,
			    res->redirect_url != NULL ? res->redirect_url
			                              : "nowhere");
		else
			snprintf(msg, sizeof(msg),
			    "status/info did not answer Grafolean's JSON "
			    "(HTTP %ld); BACKEND_URL must end with /api",
			    res->status);
		goto retry;
	}
	if (migrate || !user) {
		snprintf(msg, sizeof(msg), "not ready yet (%s)",
		    migrate ? "database migration needed" : "no user exists");
		goto retry;
	}
	json_object_put(obj);
	if (backend_request(
	        b, "GET", "profile/", NULL, 0, backend_on_profile, b) == -1) {
		snprintf(msg, sizeof(msg), "cannot start a request");
		backend_state(b, msg);
		loop_timer_start(b->loop, &b->retry, b->retry_ms);
	}
	return;
retry:
	json_object_put(obj);
	backend_state(b, msg);
	loop_timer_start(b->loop, &b->retry, b->retry_ms);
}

static void
backend_ready_step(struct timer *t, void *arg)
{
	struct backend *b = arg;
	char *url;

	(void)t;
	url = xasprintf("%s/status/info", b->url);
	if (http_request(
	        b->http, "GET", url, NULL, 0, NULL, backend_on_status, b) == -1)
		loop_timer_start(b->loop, &b->retry, b->retry_ms);
	free(url);
}

void
backend_wait_ready(
    struct backend *b, int64_t retry_ms, backend_ready_cb *cb, void *arg)
{
	b->retry_ms = retry_ms;
	b->ready_cb = cb;
	b->ready_arg = arg;
	b->last_state[0] = '\0';
	timer_init(&b->retry, backend_ready_step, b);
	loop_timer_start(b->loop, &b->retry, 0);
}
