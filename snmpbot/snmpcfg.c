/*
 * SNMP job configuration (see snmpcfg.h).  Every error names the JSON
 * member at fault, so the job's log line says what to fix in the UI; no
 * error text ever quotes a community or a key.
 */
#include "snmpcfg.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr.h"
#include "jsonx.h"
#include "snmpcol.h"
#include "snmppath.h"
#include "target.h"
#include "xmalloc.h"

/* The string member key of obj (jsonx_opt_str: NULL when absent or
 * null); -1 with err "<what> KEY must be a string" for another type. */
static int
snmpcfg_str(struct json_object *obj, const char *what, const char *key,
    const char **out, char *err, size_t errlen)
{
	char e2[BOT_ERRLEN];

	if (jsonx_opt_str(obj, key, out, e2, sizeof(e2)) == 0)
		return 0;
	snprintf(err, errlen, "%s %s", what, e2);
	return -1;
}

static int
snmpcfg_secret(struct json_object *obj, const char *key, int required,
    char *out, size_t outlen, char *err, size_t errlen)
{
	const char *s;

	out[0] = '\0';
	if (snmpcfg_str(obj, "credential", key, &s, err, errlen) != 0)
		return -1;
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

	memset(c, 0, sizeof(*c));
	if (details == NULL ||
	    !json_object_is_type(details, json_type_object)) {
		snprintf(err, errlen, "credential details are not an object");
		return -1;
	}
	if (snmpcfg_str(details, "credential", "version", &v, err, errlen) != 0)
		return -1;
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
	if (snmpcfg_str(details, "credential", "snmpv3_securityLevel", &s, err,
	        errlen) != 0)
		return -1;
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
	if (snmpcfg_str(details, "credential", "snmpv3_authProtocol", &s, err,
	        errlen) != 0)
		return -1;
	if (s == NULL || strcasecmp(s, "MD5") == 0) {
		c->auth_sha = 0;
	} else if (strcasecmp(s, "SHA") == 0) {
		c->auth_sha = 1;
	} else if (strcasecmp(s, "SHA-224") == 0) {
		c->auth_sha = 224;
	} else if (strcasecmp(s, "SHA-256") == 0) {
		c->auth_sha = 256;
	} else if (strcasecmp(s, "SHA-384") == 0) {
		c->auth_sha = 384;
	} else if (strcasecmp(s, "SHA-512") == 0) {
		c->auth_sha = 512;
	} else {
		snprintf(err, errlen,
		    "credential snmpv3_authProtocol \"%.20s\" is not MD5 or "
		    "SHA (or SHA-224, SHA-256, SHA-384, SHA-512)",
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
	if (snmpcfg_str(details, "credential", "snmpv3_privProtocol", &s, err,
	        errlen) != 0)
		return -1;
	c->priv_cisco = 0;
	if (s == NULL || strcasecmp(s, "DES") == 0) {
		c->priv_aes = 0;
	} else if (strcasecmp(s, "AES") == 0) {
		c->priv_aes = 1;
	} else if (strcasecmp(s, "AES-192") == 0) {
		c->priv_aes = 192;
	} else if (strcasecmp(s, "AES-256") == 0) {
		c->priv_aes = 256;
	} else if (strcasecmp(s, "AES-192-C") == 0) {
		c->priv_aes = 192;
		c->priv_cisco = 1;
	} else if (strcasecmp(s, "AES-256-C") == 0) {
		c->priv_aes = 256;
		c->priv_cisco = 1;
	} else {
		snprintf(err, errlen,
		    "credential snmpv3_privProtocol \"%.20s\" is not DES or "
		    "AES (or AES-192, AES-256, AES-192-C, AES-256-C)",
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

int
snmpcfg_target_parse(struct json_object *details, int64_t job_id,
    struct target *t, char *err, size_t errlen)
{
	char e2[BOT_ERRLEN];
	double port;

	if (details == NULL ||
	    !json_object_is_type(details, json_type_object)) {
		snprintf(err, errlen, "entity details are not an object");
		return -1;
	}
	if (target_from_details(t, job_id, details, "poll", err, errlen) != 0)
		return -1;
	/* The agent's port: a number or numeric string, blank means 161. */
	if (jsonx_number(details, "port", SNMPCFG_DEF_PORT, 1, 65535,
	        JSONX_WHOLE, &port, e2, sizeof(e2)) != 0) {
		snprintf(err, errlen, "details.%s", e2);
		target_release(t);
		return -1;
	}
	target_set_port(t, (unsigned)port);
	return 0;
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

		if (jsonx_opt_str(o, "oid", &text, e2, sizeof(e2)) != 0 ||
		    jsonx_opt_str(o, "fetch_method", &method, e2, sizeof(e2)) !=
		        0) {
			snprintf(err, errlen, "oids[%zu]: %s", i, e2);
			goto fail;
		}
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
	if (jsonx_opt_str(details, "expression", &expr, e2, sizeof(e2)) != 0 ||
	    jsonx_opt_str(details, "output_path", &path, e2, sizeof(e2)) != 0 ||
	    expr == NULL || path == NULL) {
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
