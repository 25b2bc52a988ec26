/*
 * Config parsing for apibot.  Secrets (header values, the password) are
 * copied into the structs and never written into an error text.
 */
#include "apicfg.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "jobs.h"
#include "jsonx.h"
#include "log.h"
#include "path.h"
#include "xmalloc.h"

static void apicfg_src_release(struct apicfg_src *src);

/* Reads a secret from its source: the literal itself, an environment
 * variable or a file (trailing line breaks dropped).  New string or NULL
 * with err (naming the source, never the value). */
static char *
apicfg_src_read(
    const struct apicfg_src *src, const char *what, char *err, size_t errlen)
{
	char buf[APICFG_SECRET_MAX + 1];
	const char *s;
	ssize_t n;
	size_t len = 0;
	int fd;

	if (src->kind == APICFG_SRC_ENV) {
		s = getenv(src->ref);
		if (s == NULL) {
			snprintf(err, errlen,
			    "%s: environment variable %s is not set", what,
			    src->ref);
			return NULL;
		}
		return xstrdup(s);
	}
	if (src->kind != APICFG_SRC_FILE)
		return xstrdup(src->ref);
	fd = open(src->ref, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: cannot open %s: %s", what, src->ref,
		    strerror(errno));
		return NULL;
	}
	while (len < sizeof(buf) &&
	    (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len > APICFG_SECRET_MAX) {
		snprintf(err, errlen, "%s: %s is over %d bytes", what, src->ref,
		    APICFG_SECRET_MAX);
		return NULL;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	return xstrndup(buf, len);
}

/* A secret given in place: a string, {"file": "/path"} or {"env":
 * "NAME"}.  Fills src (release with apicfg_src_release) and returns the
 * value read, or NULL with err. */
static char *
apicfg_secret(struct json_object *v, const char *what, struct apicfg_src *src,
    char *err, size_t errlen)
{
	struct json_object *f;
	char *val;

	memset(src, 0, sizeof(*src));
	if (json_object_is_type(v, json_type_string)) {
		src->kind = APICFG_SRC_LITERAL;
		src->ref = xstrdup(json_object_get_string(v));
	} else if (json_object_is_type(v, json_type_object) &&
	    json_object_object_get_ex(v, "env", &f) &&
	    json_object_is_type(f, json_type_string)) {
		src->kind = APICFG_SRC_ENV;
		src->ref = xstrdup(json_object_get_string(f));
	} else if (json_object_is_type(v, json_type_object) &&
	    json_object_object_get_ex(v, "file", &f) &&
	    json_object_is_type(f, json_type_string)) {
		src->kind = APICFG_SRC_FILE;
		src->ref = xstrdup(json_object_get_string(f));
	} else {
		snprintf(err, errlen,
		    "%s must be a string, {\"file\": ...} or {\"env\": ...}",
		    what);
		return NULL;
	}
	val = apicfg_src_read(src, what, err, errlen);
	if (val == NULL)
		apicfg_src_release(src);
	return val;
}

static void
apicfg_src_release(struct apicfg_src *src)
{
	if (src->ref != NULL && src->kind == APICFG_SRC_LITERAL)
		explicit_bzero(src->ref, strlen(src->ref));
	free(src->ref);
	memset(src, 0, sizeof(*src));
}

static int
apicfg_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* "Name: value" from a value read (consumed: wiped and freed), or NULL
 * with err when it cannot go in a header. */
static char *
apicfg_header_line(const char *name, char *val, char *err, size_t errlen)
{
	char *line = NULL;

	if (strpbrk(val, "\r\n") != NULL || strlen(val) > 8192)
		snprintf(err, errlen,
		    "header %s: value has a line break or is too long", name);
	else
		line = xasprintf("%s: %s", name, val);
	explicit_bzero(val, strlen(val));
	free(val);
	return line;
}

static int
apicfg_header(struct apicred *c, const char *name, struct json_object *v,
    char *err, size_t errlen)
{
	struct apicfg_src src;
	char what[96];
	char *val, *line;
	size_t i;

	if (name[0] == '\0' || strlen(name) > 64) {
		snprintf(err, errlen, "a header name is empty or too long");
		return -1;
	}
	for (i = 0; name[i] != '\0'; i++) {
		if (!apicfg_token_char(name[i])) {
			snprintf(err, errlen,
			    "header name \"%.64s\" is not "
			    "valid",
			    name);
			return -1;
		}
	}
	snprintf(what, sizeof(what), "header %s", name);
	val = apicfg_secret(v, what, &src, err, errlen);
	if (val == NULL)
		return -1;
	line = apicfg_header_line(name, val, err, errlen);
	if (line == NULL) {
		apicfg_src_release(&src);
		return -1;
	}
	c->headers =
	    xreallocarray(c->headers, c->n_headers + 1, sizeof(*c->headers));
	c->header_src = xreallocarray(
	    c->header_src, c->n_headers + 1, sizeof(*c->header_src));
	c->header_names = xreallocarray(
	    c->header_names, c->n_headers + 1, sizeof(*c->header_names));
	c->headers[c->n_headers] = line;
	c->header_src[c->n_headers] = src;
	c->header_names[c->n_headers] = xstrdup(name);
	c->n_headers++;
	return 0;
}

/* Reads "basic_auth" or "digest_auth" (at most one) into c's username,
 * password and digest.  0, or -1 with err (never quoting the password). */
static int
apicfg_auth(
    struct json_object *details, struct apicred *c, char *err, size_t errlen)
{
	struct json_object *b = NULL, *d = NULL, *v, *u, *p;
	const char *key;
	char what[32];

	if (!json_object_object_get_ex(details, "basic_auth", &b))
		b = NULL;
	if (!json_object_object_get_ex(details, "digest_auth", &d))
		d = NULL;
	if (b != NULL && d != NULL) {
		snprintf(err, errlen,
		    "credential has both \"basic_auth\" and \"digest_auth\"");
		return -1;
	}
	if (b == NULL && d == NULL)
		return 0;
	v = b != NULL ? b : d;
	key = b != NULL ? "basic_auth" : "digest_auth";
	if (!json_object_is_type(v, json_type_object) ||
	    !json_object_object_get_ex(v, "username", &u) ||
	    !json_object_is_type(u, json_type_string)) {
		snprintf(err, errlen,
		    "credential \"%s\" needs a \"username\" string", key);
		return -1;
	}
	c->digest = d != NULL;
	c->username = xstrdup(json_object_get_string(u));
	if (json_object_object_get_ex(v, "password", &p) && p != NULL) {
		snprintf(what, sizeof(what), "%s password", key);
		c->password =
		    apicfg_secret(p, what, &c->password_src, err, errlen);
		if (c->password == NULL)
			return -1;
	} else {
		c->password = xstrdup("");
	}
	return 0;
}

/* c->send, n_send and content_type from c->headers (see apicfg.h). */
static void
apicfg_cred_lines(struct apicred *c)
{
	int accept = 0;
	size_t i;

	free(c->send);
	c->send = xcalloc(c->n_headers + 1, sizeof(*c->send));
	c->n_send = 0;
	c->content_type = NULL;
	for (i = 0; i < c->n_headers; i++) {
		if (strcasecmp(c->header_names[i], "Content-Type") == 0) {
			c->content_type =
			    c->headers[i] + strlen(c->header_names[i]) + 2;
			continue;
		}
		if (strcasecmp(c->header_names[i], "Accept") == 0)
			accept = 1;
		c->send[c->n_send++] = c->headers[i];
	}
	if (!accept)
		c->send[c->n_send++] = "Accept: application/json";
}

int
apicfg_cred_parse(
    struct json_object *details, struct apicred *c, char *err, size_t errlen)
{
	struct json_object *v;
	const char *ca;
	char e2[BOT_ERRLEN];
	double t;

	memset(c, 0, sizeof(*c));
	c->verify_tls = 1;
	c->timeout_ms = APICFG_DEF_TIMEOUT_S * 1000L;
	if (details == NULL) {
		apicfg_cred_lines(c);
		return 0;
	}
	if (!json_object_is_type(details, json_type_object)) {
		snprintf(err, errlen, "credential details are not an object");
		return -1;
	}
	if (json_object_object_get_ex(details, "headers", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_object) ||
		    json_object_object_length(v) > APICFG_MAX_HEADERS) {
			snprintf(err, errlen,
			    "credential \"headers\" must be "
			    "an object of at most %d headers",
			    APICFG_MAX_HEADERS);
			goto fail;
		}
		json_object_object_foreach(v, name, hv)
		{
			if (apicfg_header(c, name, hv, err, errlen) == -1)
				goto fail;
		}
	}
	if (apicfg_auth(details, c, err, errlen) == -1)
		goto fail;
	if (jsonx_number(details, "timeout", APICFG_DEF_TIMEOUT_S, 0,
	        APICFG_MAX_TIMEOUT_S, 0, &t, err, errlen) == -1 ||
	    t <= 0) {
		snprintf(err, errlen,
		    "credential \"timeout\" must be seconds in (0, %d]",
		    APICFG_MAX_TIMEOUT_S);
		goto fail;
	}
	c->timeout_ms = (long)(t * 1000 + 0.5);
	if (c->timeout_ms < 1)
		c->timeout_ms = 1;
	if (jsonx_opt_str(details, "ca_file", &ca, e2, sizeof(e2)) == -1 ||
	    (ca != NULL && ca[0] == '\0')) {
		snprintf(err, errlen, "credential \"ca_file\" must be a path");
		goto fail;
	}
	if (ca != NULL)
		c->ca_file = xstrdup(ca);
	if (jsonx_bool(details, "verify_tls", 1, 0, &c->verify_tls, e2,
	        sizeof(e2)) == -1) {
		snprintf(err, errlen, "credential %s", e2);
		goto fail;
	}
	apicfg_cred_lines(c);
	return 0;
fail:
	apicfg_cred_release(c);
	return -1;
}

void
apicfg_cred_release(struct apicred *c)
{
	size_t i;

	for (i = 0; i < c->n_headers; i++) {
		explicit_bzero(c->headers[i], strlen(c->headers[i]));
		free(c->headers[i]);
		apicfg_src_release(&c->header_src[i]);
		free(c->header_names[i]);
	}
	free(c->headers);
	free(c->header_src);
	free(c->header_names);
	free(c->send);
	apicfg_src_release(&c->password_src);
	if (c->password != NULL)
		explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	free(c->username);
	free(c->ca_file);
	memset(c, 0, sizeof(*c));
	c->verify_tls = 1;
}

int
apicfg_cred_reload(struct apicred *c, char *err, size_t errlen)
{
	char what[96];
	char *val, *line;
	size_t i;
	int rc = 0;

	for (i = 0; i < c->n_headers; i++) {
		if (c->header_src[i].kind == APICFG_SRC_LITERAL)
			continue;
		snprintf(what, sizeof(what), "header %s", c->header_names[i]);
		val = apicfg_src_read(&c->header_src[i], what, err, errlen);
		line = val != NULL
		    ? apicfg_header_line(c->header_names[i], val, err, errlen)
		    : NULL;
		if (line == NULL) {
			rc = -1;
			continue;
		}
		explicit_bzero(c->headers[i], strlen(c->headers[i]));
		free(c->headers[i]);
		c->headers[i] = line;
	}
	if (c->password != NULL && c->password_src.kind != APICFG_SRC_LITERAL &&
	    c->password_src.ref != NULL) {
		val = apicfg_src_read(&c->password_src,
		    c->digest ? "digest_auth password" : "basic_auth password",
		    err, errlen);
		if (val == NULL) {
			rc = -1;
		} else {
			explicit_bzero(c->password, strlen(c->password));
			free(c->password);
			c->password = val;
		}
	}
	apicfg_cred_lines(c); /* headers[] may point elsewhere now */
	return rc;
}

/* Checks url with curl's parser; fills show.  0 or -1 with err. */
static int
apicfg_check_url(
    const char *url, char *show, size_t showlen, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int rc = -1;

	if (u == NULL)
		fatalx("curl_url failed");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		snprintf(err, errlen, "URL is not valid");
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0 &&
	    strcasecmp(scheme, "https") != 0) {
		snprintf(err, errlen, "URL scheme %.16s is not http or https",
		    scheme);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "URL has no host");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		path = NULL;
	snprintf(show, showlen, "%s://%s%s%s%s", scheme, host, port ? ":" : "",
	    port ? port : "", path ? path : "/");
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/* Whether s starts with a scheme and "://" (RFC 3986: a letter, then
 * letters, digits, "+", "-" or "."); a "://" later in s, say in the
 * query, is no scheme. */
static int
apicfg_has_scheme(const char *s)
{
	size_t i = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	    (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
	    s[i] == '.')
		i++;
	return strncmp(s + i, "://", 3) == 0;
}

char *
apicfg_join_url(const char *base, const char *path, char *show, size_t showlen,
    char *err, size_t errlen)
{
	const char *bq;
	char *url;
	size_t bl, bql;

	if (path == NULL || path[0] == '\0') {
		url = xstrdup(base);
	} else if (apicfg_has_scheme(path)) {
		url = xstrdup(path);
	} else {
		/* The base's query (an API key, say) goes after the path's
		 * own; its fragment is dropped. */
		bl = strcspn(base, "?#");
		bq = base[bl] == '?' ? base + bl + 1 : "";
		bql = strcspn(bq, "#");
		/* A path that is only a query goes on the base's own path. */
		while (bl > 0 && base[bl - 1] == '/' && path[0] != '?')
			bl--;
		while (*path == '/')
			path++;
		url = xasprintf("%.*s%s%s%s%.*s", (int)bl, base,
		    path[0] == '?' ? "" : "/", path,
		    bql == 0                        ? ""
		        : strchr(path, '?') != NULL ? "&"
		                                    : "?",
		    (int)bql, bq);
	}
	if (strlen(url) > 2048) {
		snprintf(err, errlen, "URL is over 2048 characters");
		free(url);
		return NULL;
	}
	if (apicfg_check_url(url, show, showlen, err, errlen) == -1) {
		free(url);
		return NULL;
	}
	return url;
}

char *
apicfg_base_url(struct json_object *details, char *err, size_t errlen)
{
	static const char *const keys[] = {"ipv4", "ipv6", "host"};
	struct json_object *v;
	char show[APICFG_SHOWLEN];
	char *url;
	const char *h;
	size_t i;

	if (details != NULL && json_object_object_get_ex(details, "url", &v) &&
	    json_object_is_type(v, json_type_string)) {
		url = xstrdup(json_object_get_string(v));
		if (apicfg_check_url(url, show, sizeof(show), err, errlen) ==
		    -1) {
			free(url);
			return NULL;
		}
		return url;
	}
	for (i = 0; details != NULL && i < sizeof(keys) / sizeof(keys[0]);
	     i++) {
		if (!json_object_object_get_ex(details, keys[i], &v) ||
		    !json_object_is_type(v, json_type_string))
			continue;
		h = json_object_get_string(v);
		if (h[0] == '\0' || strlen(h) > 253 ||
		    strpbrk(h, "/?#@ []") != NULL) {
			snprintf(err, errlen, "entity \"%s\" is not a host",
			    keys[i]);
			return NULL;
		}
		/* Two colons or more: an IPv6 address; one: host:port. */
		if (strchr(h, ':') != NULL && strchr(h, ':') != strrchr(h, ':'))
			url = xasprintf("http://[%s]/", h);
		else
			url = xasprintf("http://%s/", h);
		if (apicfg_check_url(url, show, sizeof(show), err, errlen) ==
		    -1) {
			free(url);
			return NULL;
		}
		return url;
	}
	snprintf(err, errlen,
	    "entity details have no \"url\" (or ipv4, ipv6, "
	    "host)");
	return NULL;
}

static int
apicfg_extract(struct apisensor *s, struct json_object *e, size_t i, char *err,
    size_t errlen)
{
	struct json_object *jq, *p;
	struct apiextract *x = &s->ex[i];
	char ferr[160];
	const char *path, *mode;

	if (!json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "jq", &jq) ||
	    !json_object_is_type(jq, json_type_string) ||
	    !json_object_object_get_ex(e, "path", &p) ||
	    !json_object_is_type(p, json_type_string)) {
		snprintf(err, errlen,
		    "extract[%zu] needs \"jq\" and \"path\" "
		    "strings",
		    i);
		return -1;
	}
	path = json_object_get_string(p);
	if (!path_valid(path) || strlen(path) > 100) {
		snprintf(err, errlen,
		    "extract[%zu]: \"%.100s\" is not a valid "
		    "value path",
		    i, path);
		return -1;
	}
	x->mode = APIMODE_VALUE;
	if (jsonx_opt_str(e, "mode", &mode, ferr, sizeof(ferr)) == -1 ||
	    (mode != NULL && apimode_parse(mode, &x->mode) == -1)) {
		snprintf(err, errlen,
		    "extract[%zu]: mode must be value, delta "
		    "or rate",
		    i);
		return -1;
	}
	x->filter =
	    apifilter_get(json_object_get_string(jq), ferr, sizeof(ferr));
	if (x->filter == NULL) {
		snprintf(err, errlen, "extract[%zu]: %s", i, ferr);
		return -1;
	}
	x->path = xstrdup(path);
	return 0;
}

static char *apicfg_origin(const char *url);

int
apicfg_sensor_parse(struct json_object *details, int64_t sensor_id,
    const char *base_url, struct apisensor *s)
{
	struct json_object *v, *list;
	char err[256];
	const char *path = NULL, *method;
	size_t n, i;

	memset(s, 0, sizeof(*s));
	s->id = sensor_id;
	if (!json_object_is_type(details, json_type_object)) {
		snprintf(err, sizeof(err), "details are not an object");
		goto fail;
	}
	if (jsonx_opt_str(details, "path", &path, err, sizeof(err)) == -1)
		goto fail;
	s->url = apicfg_join_url(
	    base_url, path, s->show, sizeof(s->show), err, sizeof(err));
	if (s->url == NULL)
		goto fail;
	if (jsonx_opt_str(details, "method", &method, err, sizeof(err)) == -1 ||
	    (method != NULL && strcasecmp(method, "POST") != 0 &&
	        strcasecmp(method, "GET") != 0)) {
		snprintf(err, sizeof(err), "\"method\" must be GET or POST");
		goto fail;
	}
	s->post = method != NULL && strcasecmp(method, "POST") == 0;
	if (json_object_object_get_ex(details, "body", &v) && v != NULL) {
		if (!s->post) {
			snprintf(err, sizeof(err),
			    "a \"body\" needs \"method\": "
			    "\"POST\"");
			goto fail;
		}
		s->body = xstrdup(json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	if (!json_object_object_get_ex(details, "extract", &list) ||
	    list == NULL) {
		list = NULL;
	} else if (!json_object_is_type(list, json_type_array) ||
	    json_object_array_length(list) > APICFG_MAX_EXTRACT) {
		snprintf(err, sizeof(err),
		    "\"extract\" must be a list of at "
		    "most %d items",
		    APICFG_MAX_EXTRACT);
		goto fail;
	}
	n = list != NULL ? json_object_array_length(list) : 0;
	s->ex = xcalloc(n ? n : 1, sizeof(*s->ex));
	for (i = 0; i < n; i++) {
		if (apicfg_extract(s, json_object_array_get_idx(list, i), i,
		        err, sizeof(err)) == -1)
			goto fail;
		s->n_ex++;
	}
	s->origin = apicfg_origin(s->url);
	if (s->origin == NULL) {
		snprintf(err, sizeof(err), "URL %s has no host", s->show);
		goto fail;
	}
	s->request_key = xasprintf("%s %s\n%s", s->post ? "POST" : "GET",
	    s->url, s->body ? s->body : "");
	return 0;
fail:
	apicfg_sensor_release(s);
	s->id = sensor_id;
	s->error = xstrdup(err);
	return -1;
}

void
apicfg_sensor_release(struct apisensor *s)
{
	size_t i;

	for (i = 0; i < s->n_ex; i++) {
		apifilter_put(s->ex[i].filter);
		free(s->ex[i].path);
		apimode_state_release(&s->ex[i].state);
	}
	free(s->ex);
	if (s->url != NULL)
		explicit_bzero(s->url, strlen(s->url));
	free(s->url);
	free(s->body);
	free(s->request_key);
	free(s->origin);
	free(s->error);
	memset(s, 0, sizeof(*s));
}

/* scheme://host:port of url (port made explicit), or NULL. */
static char *
apicfg_origin(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *o = NULL;

	if (u == NULL)
		fatalx("curl_url failed");
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	        CURLUE_OK)
		o = xasprintf("%s://%s:%s", scheme, host, port);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return o;
}

int
apicfg_same_origin(const char *a, const char *b)
{
	char *x = apicfg_origin(a), *y = apicfg_origin(b);
	int same = x != NULL && y != NULL && strcasecmp(x, y) == 0;

	free(x);
	free(y);
	return same;
}
