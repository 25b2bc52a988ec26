/*
 * apibot's job configuration, parsed from the credential, the entity and
 * each sensor's details into compact structs (no json-c references kept):
 *   credential {"headers": {...}, "basic_auth": {"username", "password"},
 *               or "digest_auth": {"username", "password"},
 *               "timeout": 10, "ca_file": "/path", "verify_tls": true}
 *   entity     {"url": "https://host:port/base"} or ipv4/ipv6/host
 *   sensor     {"path": "/stats", "method": "GET", "body": null,
 *               "extract": [{"jq": ".a", "path": "a", "mode": "value"}]}
 * A header value or the password may be {"file": "/path"} or
 * {"env": "NAME"}, read when the job is prepared.
 */
#ifndef BOT_APICFG_H
#define BOT_APICFG_H

#include <stddef.h>
#include <stdint.h>

#include "apifilter.h"
#include "apimode.h"
#include "attrs.h"

struct json_object;

#define APICFG_MAX_TIMEOUT_S 300
#define APICFG_DEF_TIMEOUT_S 10
#define APICFG_MAX_HEADERS   32
#define APICFG_MAX_EXTRACT   64
#define APICFG_SECRET_MAX    4096
/* For log lines: scheme://host[:port]/path, no userinfo, no query. */
#define APICFG_SHOWLEN 160

/* Where a secret comes from, so it can be read again. */
enum apicfg_src_kind {
	APICFG_SRC_LITERAL = 0,
	APICFG_SRC_FILE,
	APICFG_SRC_ENV,
};

struct apicfg_src {
	enum apicfg_src_kind kind;
	char *ref; /* the literal, the path or the variable's name */
};

struct apicred {
	char **headers; /* "Name: value" lines */
	size_t n_headers;
	char **header_names;
	struct apicfg_src *header_src; /* parallel to headers */
	struct apicfg_src password_src;
	char *username; /* basic or digest auth when not NULL */
	char *password;
	int digest; /* 1: "digest_auth" (after a 401), 0: "basic_auth" */
	long timeout_ms;
	char *ca_file; /* NULL: the system's CAs */
	int verify_tls;
	/* What every request sends, derived once from headers (not per
	 * request): its lines but Content-Type, and "Accept:
	 * application/json" unless it names an Accept; content_type is
	 * the credential's Content-Type value (for POST) or NULL.  Rebuilt
	 * by apicfg_cred_reload; pointers into headers. */
	const char **send;
	size_t n_send;
	const char *content_type;
};

struct apiextract {
	struct apifilter *filter; /* one reference */
	char *path;               /* output path below entity.<id>.api. */
	enum apimode mode;
	struct apimode_state state;
};

struct apisensor {
	int64_t id;
	char *url; /* full URL, may hold userinfo: never log it */
	char show[APICFG_SHOWLEN];
	int post;          /* 0: GET */
	char *body;        /* POST body text, or NULL */
	char *request_key; /* equal keys within one job share a request */
	char *origin;      /* scheme://host:port, for the per-host cap */
	struct apiextract *ex;
	size_t n_ex;
	char *error; /* unusable (reported at prepare): skipped; or NULL */
};

/* Reads a credential's details (borrowed; NULL means all defaults).
 * 0, or -1 with err (never quoting a secret). */
int apicfg_cred_parse(struct json_object *details, struct apicred *c, char *err,
    size_t errlen) BOT_WUR;
void apicfg_cred_release(struct apicred *c);
/* Reads the secrets given as {"file"} or {"env"} again (a rotated token
 * takes effect without a config change).  A secret that cannot be read
 * keeps its previous value: -1 with err for the last such failure, else
 * 0. */
int apicfg_cred_reload(struct apicred *c, char *err, size_t errlen) BOT_WUR;

/* The entity's base URL from its details: "url" (http or https), else
 * "ipv4", "ipv6" or "host" as http://<host>/.  Returns a new string, or
 * NULL with err. */
char *apicfg_base_url(
    struct json_object *details, char *err, size_t errlen) BOT_WUR;

/* Parses sensor details against the base URL into s (zeroed first).
 * Returns 0 with s usable, or -1 with s->error set when the sensor must
 * be skipped (a bad URL, method, body, filter or output path); release s
 * either way. */
int apicfg_sensor_parse(struct json_object *details, int64_t sensor_id,
    const char *base_url, struct apisensor *s) BOT_WUR;
void apicfg_sensor_release(struct apisensor *s);

/* Joins a sensor path to a base URL: a full http(s) URL stays as it is,
 * anything else is appended to the base with one '/' between.  Checks the
 * result is an http or https URL with a host, and writes its shown form
 * (see APICFG_SHOWLEN) into show.  New string, or NULL with err. */
char *apicfg_join_url(const char *base, const char *path, char *show,
    size_t showlen, char *err, size_t errlen) BOT_WUR;

/* 1 when URLs a and b have the same scheme, host and port, else 0. */
int apicfg_same_origin(const char *a, const char *b);

#endif
