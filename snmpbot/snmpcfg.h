/*
 * SNMP job configuration, parsed once in job_prepare into compact
 * structs: the credential (v1/v2c community, v3 USM user), the target from
 * the entity's details (a common/target.c target with the agent's port),
 * and the sensors (OIDs with get/walk, compiled
 * expression and output path).  Nothing here keeps a JSON reference.
 */
#ifndef BOT_SNMPCFG_H
#define BOT_SNMPCFG_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct json_object;
struct expr;
struct snmppath;
struct target;

#define SNMPCFG_MAX_OIDS    32  /* per sensor */
#define SNMPCFG_SECRET_LEN  256 /* community, keys */
#define SNMPCFG_DEF_PORT    161
#define SNMPCFG_MIN_KEY_LEN 8 /* USM pass phrases (RFC 3414) */

enum snmpcfg_version {
	SNMPCFG_V1 = 1,
	SNMPCFG_V2C,
	SNMPCFG_V3,
};

enum snmpcfg_level {
	SNMPCFG_NOAUTH = 1,
	SNMPCFG_AUTHNOPRIV,
	SNMPCFG_AUTHPRIV,
};

struct snmpcfg_cred {
	enum snmpcfg_version version;
	char community[SNMPCFG_SECRET_LEN]; /* v1, v2c */
	char sec_name[SNMPCFG_SECRET_LEN];  /* v3 */
	enum snmpcfg_level level;
	int auth_sha; /* 0 MD5, 1 SHA-1, 224, 256, 384 or 512: SHA-2 */
	char auth_key[SNMPCFG_SECRET_LEN];
	int priv_aes;   /* 0 DES, 1 AES-128, 192 or 256: AES-192/256 */
	int priv_cisco; /* AES-192/256 key extension: 0 Blumenthal, 1 Reeder */
	char priv_key[SNMPCFG_SECRET_LEN];
};

struct snmpcfg_oid {
	uint32_t *ids; /* owned */
	size_t len;
	int walk;
};

struct snmpcfg_sensor {
	int64_t id;
	size_t job_index; /* into job->sensors */
	int n_oids;
	struct snmpcfg_oid oids[SNMPCFG_MAX_OIDS];
	unsigned char walk[SNMPCFG_MAX_OIDS];
	struct expr *expr;
	struct snmppath *path;
};

/* Parses an SNMP credential's details (borrowed).  0, or -1 with err
 * (which never quotes a community or key). */
int snmpcfg_cred_parse(struct json_object *details, struct snmpcfg_cred *c,
    char *err, size_t errlen) BOT_WUR;

/* Fills t (common/target.c) from entity details (borrowed): "ipv4", else
 * "ipv6", else "host", else "hostname" (target_from_details, verb "poll"),
 * and the agent's "port" (a number or numeric string from 1 to 65535;
 * absent or blank: 161).  0 (release t with target_release), or -1 with
 * err and nothing to release. */
int snmpcfg_target_parse(struct json_object *details, int64_t job_id,
    struct target *t, char *err, size_t errlen) BOT_WUR;

/* Parses "1.3.6.1.2.1.2.2.1.2" (a leading dot allowed) into ids (owned by
 * the caller).  0, or -1 with err. */
int snmpcfg_oid_parse(
    const char *text, struct snmpcfg_oid *o, char *err, size_t errlen) BOT_WUR;

/* Parses one sensor's details (borrowed): oids, expression, output_path.
 * 0 with s filled (release with snmpcfg_sensor_release), or -1 with err
 * naming what is wrong. */
int snmpcfg_sensor_parse(struct json_object *details, struct snmpcfg_sensor *s,
    char *err, size_t errlen) BOT_WUR;
void snmpcfg_sensor_release(struct snmpcfg_sensor *s);

#endif
