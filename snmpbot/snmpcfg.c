/*
 * SNMP job configuration (see snmpcfg.h).  Every error names the JSON
 * member at fault, so the job's log line says what to fix in the UI; no
 * error text ever quotes a community or a key.
 */
#include "snmpcfg.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "env.h"
#include "expr.h"
#include "snmpcol.h"
#include "snmppath.h"
#include "xmalloc.h"

/* The string member key of obj, or NULL when absent, null or not a
 * string (*bad set then). */
static const char *
snmpcfg_str(struct json_object *obj, const char *key, int *bad)
{
	struct json_object *m;

	*bad = 0;
	if (obj == NULL || !json_object_object_get_ex(obj, key, &m) ||
	    m == NULL)
		return NULL;
	if (!json_object_is_type(m, json_type_string)) {
		*bad = 1;
		return NULL;
	}
	return json_object_get_string(m);
}

static int
snmpcfg_secret(struct json_object *obj, const char *key, int required,
    char *out, size_t outlen, char *err, size_t errlen)
{
	int bad;
	const char *s = snmpcfg_str(obj, key, &bad);

	out[0] = '\0';
	if (bad) {
		snprintf(err, errlen, "credential %s must be a string", key);
		return -1;
	}
	if (s == NULL || s[0] == '\0') {
		if (!required)
			return 0;
		snprintf(err, errlen, "credential %s is missing", key);
		return -1;
	}
	if (strlen(s) >= outlen) {
		snprintf(err, errlen, "credential %s is too long", key);
		return -1;
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int
snmpcfg_cred_parse(struct json_object *details, struct snmpcfg_cred *c,
    char *err, size_t errlen)
{
	const char *v, *s;
	int bad;

	memset(c, 0, sizeof(*c));
	if (details == NULL ||
	    !json_object_is_type(details, json_type_object)) {
		snprintf(err, errlen, "credential details are not an object");
		return -1;
	}
	v = snmpcfg_str(details, "version", &bad);
	if (v == NULL) {
		snprintf(err, errlen, "credential version is missing");
		return -1;
	}
	if (strcmp(v, "snmpv1") == 0) {
		c->version = SNMPCFG_V1;
	} else if (strcmp(v, "snmpv2c") == 0) {
		c->version = SNMPCFG_V2C;
	} else if (strcmp(v, "snmpv3") == 0) {
		c->version = SNMPCFG_V3;
	} else {
		snprintf(err, errlen,
		    "credential version \"%.20s\" is not snmpv1, snmpv2c or "
		    "snmpv3",
		    v);
		return -1;
	}
	if (c->version != SNMPCFG_V3)
		return snmpcfg_secret(details, "snmpv12_community", 1,
		    c->community, sizeof(c->community), err, errlen);

	if (snmpcfg_secret(details, "snmpv3_securityName", 1, c->sec_name,
	        sizeof(c->sec_name), err, errlen) != 0)
		return -1;
	s = snmpcfg_str(details, "snmpv3_securityLevel", &bad);
	if (s == NULL || strcmp(s, "noAuthNoPriv") == 0) {
		c->level = SNMPCFG_NOAUTH;
	} else if (strcmp(s, "authNoPriv") == 0) {
		c->level = SNMPCFG_AUTHNOPRIV;
	} else if (strcmp(s, "authPriv") == 0) {
		c->level = SNMPCFG_AUTHPRIV;
	} else {
		snprintf(err, errlen,
		    "credential snmpv3_securityLevel \"%.20s\" is not "
		    "noAuthNoPriv, authNoPriv or authPriv",
		    s);
		return -1;
	}
	if (c->level == SNMPCFG_NOAUTH)
		return 0;
	s = snmpcfg_str(details, "snmpv3_authProtocol", &bad);
	if (s == NULL || strcasecmp(s, "MD5") == 0) {
		c->auth_sha = 0;
	} else if (strcasecmp(s, "SHA") == 0) {
		c->auth_sha = 1;
	} else {
		snprintf(err, errlen,
		    "credential snmpv3_authProtocol \"%.20s\" is not MD5 or "
		    "SHA",
		    s);
		return -1;
	}
	if (snmpcfg_secret(details, "snmpv3_authKey", 1, c->auth_key,
	        sizeof(c->auth_key), err, errlen) != 0)
		return -1;
	if (strlen(c->auth_key) < SNMPCFG_MIN_KEY_LEN) {
		snprintf(err, errlen,
		    "credential snmpv3_authKey is shorter than %d characters",
		    SNMPCFG_MIN_KEY_LEN);
		return -1;
	}
	if (c->level == SNMPCFG_AUTHNOPRIV)
		return 0;
	s = snmpcfg_str(details, "snmpv3_privProtocol", &bad);
	if (s == NULL || strcasecmp(s, "DES") == 0) {
		c->priv_aes = 0;
	} else if (strcasecmp(s, "AES") == 0) {
		c->priv_aes = 1;
	} else {
		snprintf(err, errlen,
		    "credential snmpv3_privProtocol \"%.20s\" is not DES or "
		    "AES",
		    s);
		return -1;
	}
	if (snmpcfg_secret(details, "snmpv3_privKey", 1, c->priv_key,
	        sizeof(c->priv_key), err, errlen) != 0)
		return -1;
	if (strlen(c->priv_key) < SNMPCFG_MIN_KEY_LEN) {
		snprintf(err, errlen,
		    "credential snmpv3_privKey is shorter than %d characters",
		    SNMPCFG_MIN_KEY_LEN);
		return -1;
	}
	return 0;
}

/* A host name of letters, digits, '-', '_' and dots (RFC 1123, with
 * underscores as resolvers take them). */
static int
snmpcfg_name_ok(const char *s)
{
	size_t len = strlen(s), label = 0, i;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

static int
snmpcfg_port(
    struct json_object *details, unsigned *port, char *err, size_t errlen)
{
	struct json_object *m;
	int64_t v;
	char e2[BOT_ERRLEN];

	*port = SNMPCFG_DEF_PORT;
	if (!json_object_object_get_ex(details, "port", &m) || m == NULL)
		return 0;
	if (json_object_is_type(m, json_type_int)) {
		v = json_object_get_int64(m);
	} else if (json_object_is_type(m, json_type_string)) {
		if (json_object_get_string(m)[0] == '\0')
			return 0;
		if (env_parse_int(json_object_get_string(m), 1, 65535, &v, e2,
		        sizeof(e2)) != 0)
			v = 0;
	} else {
		v = 0;
	}
	if (v < 1 || v > 65535) {
		snprintf(err, errlen, "details.port must be a port number");
		return -1;
	}
	*port = (unsigned)v;
	return 0;
}

int
snmpcfg_target_parse(struct json_object *details, struct snmpcfg_target *t,
    char *err, size_t errlen)
{
	static const char *const keys[] = {"ipv4", "ipv6", "host", "hostname"};
	static const int families[] = {AF_INET, AF_INET6, AF_UNSPEC, AF_UNSPEC};
	struct addrinfo hints, *res = NULL;
	size_t i;
	int rc = -1, bad;

	memset(t, 0, sizeof(*t));
	t->family = AF_UNSPEC;
	if (details == NULL ||
	    !json_object_is_type(details, json_type_object)) {
		snprintf(err, errlen, "entity details are not an object");
		return -1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *s = snmpcfg_str(details, keys[i], &bad);

		if (bad) {
			snprintf(err, errlen, "details.%s must be a string",
			    keys[i]);
			return -1;
		}
		if (s == NULL || s[strspn(s, " \t\r\n")] == '\0')
			continue;
		if (strlen(s) >= sizeof(t->text)) {
			snprintf(
			    err, errlen, "details.%s is too long", keys[i]);
			return -1;
		}
		memcpy(t->text, s, strlen(s) + 1);
		t->key = keys[i];
		t->want_family = families[i];
		break;
	}
	if (t->key == NULL) {
		snprintf(err, errlen,
		    "entity details have no ipv4, ipv6 or host to poll");
		return -1;
	}
	if (snmpcfg_port(details, &t->port, err, errlen) != 0)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(t->text, NULL, &hints, &res) == 0 && res != NULL) {
		if (getnameinfo(res->ai_addr, res->ai_addrlen, t->addr,
		        sizeof(t->addr), NULL, 0, NI_NUMERICHOST) != 0) {
			snprintf(
			    err, errlen, "details.%s: bad address", t->key);
			goto out;
		}
		t->family = res->ai_family;
		rc = 0;
		goto out;
	}
	if (!snmpcfg_name_ok(t->text)) {
		snprintf(err, errlen,
		    "details.%s: \"%.80s\" is neither an IP address nor a host "
		    "name",
		    t->key, t->text);
		goto out;
	}
	t->is_name = 1;
	rc = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}

int
snmpcfg_oid_parse(
    const char *text, struct snmpcfg_oid *o, char *err, size_t errlen)
{
	uint32_t ids[SNMPCOL_MAX_OID];
	const char *s = text;
	size_t n = 0;

	o->ids = NULL;
	o->len = 0;
	if (*s == '.')
		s++;
	while (*s != '\0') {
		uint64_t v = 0;
		const char *start = s;

		while (*s >= '0' && *s <= '9' && v <= UINT32_MAX)
			v = v * 10 + (uint64_t)(*s++ - '0');
		if (s == start || v > UINT32_MAX || (*s != '.' && *s != '\0') ||
		    n == SNMPCOL_MAX_OID) {
			snprintf(err, errlen,
			    "oid \"%.60s\" is not a numeric OID", text);
			return -1;
		}
		ids[n++] = (uint32_t)v;
		if (*s == '.') {
			s++;
			if (*s == '\0') {
				snprintf(err, errlen,
				    "oid \"%.60s\" is not a numeric OID", text);
				return -1;
			}
		}
	}
	if (n < 2) {
		snprintf(
		    err, errlen, "oid \"%.60s\" is not a numeric OID", text);
		return -1;
	}
	o->ids = xreallocarray(NULL, n, sizeof(*ids));
	memcpy(o->ids, ids, n * sizeof(*ids));
	o->len = n;
	return 0;
}

void
snmpcfg_sensor_release(struct snmpcfg_sensor *s)
{
	int j;

	for (j = 0; j < s->n_oids; j++)
		free(s->oids[j].ids);
	expr_free(s->expr);
	snmppath_free(s->path);
	memset(s, 0, sizeof(*s));
}

int
snmpcfg_sensor_parse(struct json_object *details, struct snmpcfg_sensor *s,
    char *err, size_t errlen)
{
	struct json_object *oids;
	const char *expr, *path;
	char e2[BOT_ERRLEN];
	size_t n, i;
	int bad;

	memset(s, 0, sizeof(*s));
	if (details == NULL ||
	    !json_object_is_type(details, json_type_object) ||
	    !json_object_object_get_ex(details, "oids", &oids) ||
	    !json_object_is_type(oids, json_type_array)) {
		snprintf(err, errlen, "sensor details have no oids list");
		return -1;
	}
	n = json_object_array_length(oids);
	if (n == 0 || n > SNMPCFG_MAX_OIDS) {
		snprintf(err, errlen, "sensor has %zu oids (1..%d allowed)", n,
		    SNMPCFG_MAX_OIDS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(oids, i);
		const char *text, *method;

		text = snmpcfg_str(o, "oid", &bad);
		method = snmpcfg_str(o, "fetch_method", &bad);
		if (text == NULL) {
			snprintf(err, errlen, "oids[%zu] has no oid", i);
			goto fail;
		}
		if (snmpcfg_oid_parse(text, &s->oids[i], e2, sizeof(e2)) != 0) {
			snprintf(err, errlen, "oids[%zu]: %s", i, e2);
			goto fail;
		}
		s->n_oids = (int)i + 1;
		if (method == NULL || strcmp(method, "get") == 0) {
			s->walk[i] = 0;
		} else if (strcmp(method, "walk") == 0) {
			s->walk[i] = 1;
		} else {
			snprintf(err, errlen,
			    "oids[%zu]: fetch_method \"%.20s\" is not get or "
			    "walk",
			    i, method);
			goto fail;
		}
		s->oids[i].walk = s->walk[i];
	}
	expr = snmpcfg_str(details, "expression", &bad);
	path = snmpcfg_str(details, "output_path", &bad);
	if (expr == NULL || path == NULL) {
		snprintf(err, errlen,
		    "sensor details need expression and "
		    "output_path strings");
		goto fail;
	}
	s->expr = expr_compile(expr, s->n_oids, err, errlen);
	if (s->expr == NULL)
		goto fail;
	s->path = snmppath_compile(path, s->n_oids, err, errlen);
	if (s->path == NULL)
		goto fail;
	return 0;
fail:
	snmpcfg_sensor_release(s);
	return -1;
}
