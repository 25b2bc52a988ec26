/*
 * SNMP job configuration: credentials of every version and level, the
 * target and its port, OIDs, sensors; every bad input gives an error that
 * names the member at fault and never quotes a secret.
 */
#include <sys/socket.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "../../../snmpbot/expr.h"
#include "../../../snmpbot/snmpcfg.h"
#include "../../../snmpbot/snmppath.h"
#include "../t.h"
#include "target.h"

static int
t_cfg_cred(const char *text, struct snmpcfg_cred *c, char *err, size_t len)
{
	struct json_object *o = t_json(text);
	int rc;

	err[0] = '\0';
	rc = snmpcfg_cred_parse(o, c, err, len);
	json_object_put(o);
	return rc;
}

T_TEST(cfg_credentials)
{
	struct snmpcfg_cred c;
	char err[256];

	T_EQ_INT(t_cfg_cred("{\"version\": \"snmpv2c\", \"snmpv12_community\": "
	                    "\"public\"}",
	             &c, err, sizeof(err)),
	    0);
	T_EQ_INT(c.version, SNMPCFG_V2C);
	T_EQ_STR(c.community, "public");
	T_EQ_INT(t_cfg_cred("{\"version\": \"snmpv1\", \"snmpv12_community\": "
	                    "\"old\"}",
	             &c, err, sizeof(err)),
	    0);
	T_EQ_INT(c.version, SNMPCFG_V1);
	T_EQ_INT(
	    t_cfg_cred("{\"version\": \"snmpv3\", \"snmpv3_securityName\": "
	               "\"u\", \"snmpv3_securityLevel\": \"authPriv\", "
	               "\"snmpv3_authProtocol\": \"SHA\", "
	               "\"snmpv3_authKey\": \"authpass1\", "
	               "\"snmpv3_privProtocol\": \"AES\", "
	               "\"snmpv3_privKey\": \"privpass1\"}",
	        &c, err, sizeof(err)),
	    0);
	T_EQ_INT(c.version, SNMPCFG_V3);
	T_EQ_INT(c.level, SNMPCFG_AUTHPRIV);
	T_EQ_INT(c.auth_sha, 1);
	T_EQ_INT(c.priv_aes, 1);
	T_EQ_STR(c.priv_key, "privpass1");
	T_EQ_INT(
	    t_cfg_cred("{\"version\": \"snmpv3\", \"snmpv3_securityName\": "
	               "\"u\", \"snmpv3_securityLevel\": \"authNoPriv\", "
	               "\"snmpv3_authProtocol\": \"MD5\", "
	               "\"snmpv3_authKey\": \"authpass1\"}",
	        &c, err, sizeof(err)),
	    0);
	T_EQ_INT(c.level, SNMPCFG_AUTHNOPRIV);
	T_EQ_INT(c.auth_sha, 0);
	T_EQ_INT(
	    t_cfg_cred("{\"version\": \"snmpv3\", \"snmpv3_securityName\": "
	               "\"u\", \"snmpv3_securityLevel\": \"noAuthNoPriv\"}",
	        &c, err, sizeof(err)),
	    0);
	T_EQ_INT(c.level, SNMPCFG_NOAUTH);
}

T_TEST(cfg_v3_sha2_auth_protocols)
{
	static const struct {
		const char *name;
		int want;
	} protos[] = {{"SHA-224", 224}, {"SHA-256", 256}, {"sha-384", 384},
	    {"SHA-512", 512}};
	struct snmpcfg_cred c;
	char json[512], err[256];
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		snprintf(json, sizeof(json),
		    "{\"version\": \"snmpv3\", \"snmpv3_securityName\": "
		    "\"u\", \"snmpv3_securityLevel\": \"authNoPriv\", "
		    "\"snmpv3_authProtocol\": \"%s\", "
		    "\"snmpv3_authKey\": \"authpass1\"}",
		    protos[i].name);
		T_EQ_INT(t_cfg_cred(json, &c, err, sizeof(err)), 0);
		T_EQ_INT(c.auth_sha, protos[i].want);
	}
}

T_TEST(cfg_v3_aes_192_256_priv_protocols)
{
	static const struct {
		const char *name;
		int aes, cisco;
	} protos[] = {{"DES", 0, 0}, {"AES", 1, 0}, {"AES-192", 192, 0},
	    {"aes-256", 256, 0}, {"AES-192-C", 192, 1}, {"aes-256-c", 256, 1}};
	struct snmpcfg_cred c;
	char json[512], err[256];
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		snprintf(json, sizeof(json),
		    "{\"version\": \"snmpv3\", \"snmpv3_securityName\": "
		    "\"u\", \"snmpv3_securityLevel\": \"authPriv\", "
		    "\"snmpv3_authProtocol\": \"SHA\", "
		    "\"snmpv3_authKey\": \"authpass1\", "
		    "\"snmpv3_privProtocol\": \"%s\", "
		    "\"snmpv3_privKey\": \"privpass1\"}",
		    protos[i].name);
		T_EQ_INT(t_cfg_cred(json, &c, err, sizeof(err)), 0);
		T_EQ_INT(c.priv_aes, protos[i].aes);
		T_EQ_INT(c.priv_cisco, protos[i].cisco);
	}
	/* Names net-snmp's tools take but the protocol table does not, and
	 * near misses, are refused with the accepted names listed. */
	static const char *const bad[] = {
	    "AES256", "AES-256C", "AES-512", "3DES"};
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json),
		    "{\"version\": \"snmpv3\", \"snmpv3_securityName\": "
		    "\"u\", \"snmpv3_securityLevel\": \"authPriv\", "
		    "\"snmpv3_authProtocol\": \"SHA\", "
		    "\"snmpv3_authKey\": \"authpass1\", "
		    "\"snmpv3_privProtocol\": \"%s\", "
		    "\"snmpv3_privKey\": \"privpass1\"}",
		    bad[i]);
		T_EQ_INT(t_cfg_cred(json, &c, err, sizeof(err)), -1);
		T_ASSERT(strstr(err, bad[i]) != NULL);
		T_ASSERT(strstr(err,
		             "is not DES or AES (or AES-192, AES-256, "
		             "AES-192-C, AES-256-C)") != NULL);
		T_ASSERT(strstr(err, "privpass1") == NULL);
	}
}

T_TEST(cfg_bad_credentials_say_why_without_secrets)
{
	static const struct {
		const char *json, *want;
	} bad[] = {
	    {"{}", "version is missing"},
	    {"{\"version\": 2}", "credential version must be a string"},
	    {"{\"version\": \"snmpv3\", \"snmpv3_securityName\": \"u\", "
	     "\"snmpv3_securityLevel\": 3}",
	        "credential snmpv3_securityLevel must be a string"},
	    {"{\"version\": \"snmpv3\", \"snmpv3_securityName\": \"u\", "
	     "\"snmpv3_securityLevel\": \"authNoPriv\", "
	     "\"snmpv3_authProtocol\": true, \"snmpv3_authKey\": "
	     "\"s3cret-key\"}",
	        "credential snmpv3_authProtocol must be a string"},
	    {"{\"version\": \"snmpv4\"}", "is not snmpv1"},
	    {"{\"version\": \"snmpv2c\"}", "snmpv12_community is missing"},
	    {"{\"version\": \"snmpv2c\", \"snmpv12_community\": 5}",
	        "must be a string"},
	    {"{\"version\": \"snmpv3\", \"snmpv3_securityLevel\": "
	     "\"authPriv\"}",
	        "snmpv3_securityName is missing"},
	    {"{\"version\": \"snmpv3\", \"snmpv3_securityName\": \"u\", "
	     "\"snmpv3_securityLevel\": \"all\"}",
	        "snmpv3_securityLevel"},
	    {"{\"version\": \"snmpv3\", \"snmpv3_securityName\": \"u\", "
	     "\"snmpv3_securityLevel\": \"authNoPriv\", \"snmpv3_authKey\": "
	     "\"s3cr\"}",
	        "shorter than 8"},
	    {"{\"version\": \"snmpv3\", \"snmpv3_securityName\": \"u\", "
	     "\"snmpv3_securityLevel\": \"authNoPriv\", "
	     "\"snmpv3_authProtocol\": \"SHA512\", \"snmpv3_authKey\": "
	     "\"s3cret-key\"}",
	        "is not MD5 or SHA"},
	    {"{\"version\": \"snmpv3\", \"snmpv3_securityName\": \"u\", "
	     "\"snmpv3_securityLevel\": \"authPriv\", \"snmpv3_authKey\": "
	     "\"s3cret-key\", \"snmpv3_privProtocol\": \"3DES\", "
	     "\"snmpv3_privKey\": \"s3cret-priv\"}",
	        "is not DES or AES"},
	    {"{\"version\": \"snmpv3\", \"snmpv3_securityName\": \"u\", "
	     "\"snmpv3_securityLevel\": \"authPriv\", \"snmpv3_authKey\": "
	     "\"s3cret-key\"}",
	        "snmpv3_privKey is missing"},
	};
	struct snmpcfg_cred c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_EQ_INT(t_cfg_cred(bad[i].json, &c, err, sizeof(err)), -1);
		if (strstr(err, bad[i].want) == NULL)
			t_fail(__FILE__, __LINE__, "%s: \"%s\" lacks \"%s\"",
			    bad[i].json, err, bad[i].want);
		T_ASSERT(strstr(err, "s3cr") == NULL);
	}
}

T_TEST(cfg_target_and_port)
{
	static const struct {
		const char *json;
		int rc;
		const char *addr;
		int is_name;
		unsigned port;
		const char *want; /* in err, when rc is -1 */
	} cases[] = {
	    {"{\"ipv4\": \"192.0.2.10\"}", 0, "192.0.2.10", 0, 161, NULL},
	    {"{\"ipv6\": \"::1\", \"port\": 1161}", 0, "::1", 0, 1161, NULL},
	    {"{\"ipv4\": \"\", \"host\": \"router.example\", \"port\": "
	     "\"16100\"}",
	        0, "", 1, 16100, NULL},
	    {"{\"hostname\": \"127.0.0.1\"}", 0, "127.0.0.1", 0, 161, NULL},
	    /* Blank or null means the default port. */
	    {"{\"ipv4\": \"127.0.0.1\", \"port\": \" \"}", 0, "127.0.0.1", 0,
	        161, NULL},
	    {"{\"ipv4\": \"127.0.0.1\", \"port\": null}", 0, "127.0.0.1", 0,
	        161, NULL},
	    /* The common target rules: canonical IPv6, blanks skipped. */
	    {"{\"ipv4\": \"  \", \"ipv6\": \"2001:DB8:0:0::1\"}", 0,
	        "2001:db8::1", 0, 161, NULL},
	    {"{\"ipv4\": \"127.0.0.1\", \"port\": 0}", -1, NULL, 0, 0,
	        "details.port must be a whole number from 1 to 65535, got 0"},
	    {"{\"ipv4\": \"127.0.0.1\", \"port\": \"x\"}", -1, NULL, 0, 0,
	        "details.port must be a number"},
	    {"{\"ipv4\": \"127.0.0.1\", \"port\": 70000}", -1, NULL, 0, 0,
	        "from 1 to 65535"},
	    {"{\"ipv4\": \"127.0.0.1\", \"port\": 161.5}", -1, NULL, 0, 0,
	        "whole number"},
	    {"{\"host\": \"bad host!\"}", -1, NULL, 0, 0,
	        "neither an IP address nor a host name"},
	    {"{}", -1, NULL, 0, 0, "no ipv4, ipv6 or host to poll"},
	    {"{\"ipv4\": 5}", -1, NULL, 0, 0, "details.ipv4 must be a string"},
	    {"{\"ipv4\": \"224.0.0.1\"}", -1, NULL, 0, 0, "multicast"},
	    {"[]", -1, NULL, 0, 0, "not an object"},
	};
	struct target t;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *o = t_json(cases[i].json);
		int rc;

		err[0] = '\0';
		rc = snmpcfg_target_parse(o, 7, &t, err, sizeof(err));
		json_object_put(o);
		if (rc != cases[i].rc)
			t_fail(__FILE__, __LINE__, "%s: rc %d (%s)",
			    cases[i].json, rc, err);
		T_EQ_INT(rc, cases[i].rc);
		if (rc != 0) {
			if (strstr(err, cases[i].want) == NULL)
				t_fail(__FILE__, __LINE__,
				    "%s: \"%s\" lacks \"%s\"", cases[i].json,
				    err, cases[i].want);
			T_ASSERT(!t_failed);
			continue;
		}
		T_EQ_STR(t.addr, cases[i].addr);
		T_EQ_INT(t.is_name, cases[i].is_name);
		T_EQ_INT(t.port, cases[i].port);
		T_EQ_INT(target_state(&t),
		    cases[i].is_name ? TARGET_WAITING : TARGET_READY);
		target_release(&t);
	}
}

/* The peer snmpbot hands net-snmp comes from target_format: the port of
 * the entity, IPv6 in brackets. */
T_TEST(cfg_target_peer_format)
{
	struct json_object *o =
	    t_json("{\"ipv6\": \"::1\", \"port\": \"1161\"}");
	struct target t;
	char err[256], buf[128];

	T_EQ_INT(snmpcfg_target_parse(o, 7, &t, err, sizeof(err)), 0);
	json_object_put(o);
	T_EQ_INT(target_format(&t, buf, sizeof(buf)), strlen("[::1]:1161"));
	T_EQ_STR(buf, "[::1]:1161");
	target_release(&t);
	o = t_json("{\"host\": \"192.0.2.9\"}");
	T_EQ_INT(snmpcfg_target_parse(o, 7, &t, err, sizeof(err)), 0);
	json_object_put(o);
	(void)target_format(&t, buf, sizeof(buf));
	T_EQ_STR(buf, "192.0.2.9:161");
	target_release(&t);
}

T_TEST(cfg_oids)
{
	struct snmpcfg_oid o;
	char err[256];
	char longer[1024];
	size_t i, n = 0;

	T_EQ_INT(
	    snmpcfg_oid_parse(".1.3.6.1.2.1.2.2.1.2", &o, err, sizeof(err)), 0);
	T_EQ_INT(o.len, 10);
	T_EQ_INT(o.ids[9], 2);
	free(o.ids);
	T_EQ_INT(
	    snmpcfg_oid_parse("1.3.6.4294967295", &o, err, sizeof(err)), 0);
	T_ASSERT(o.ids[3] == 4294967295u);
	free(o.ids);
	T_EQ_INT(
	    snmpcfg_oid_parse("1.3.6.4294967296", &o, err, sizeof(err)), -1);
	T_EQ_INT(snmpcfg_oid_parse("ifDescr", &o, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "not a numeric OID") != NULL);
	T_EQ_INT(snmpcfg_oid_parse("1.3.", &o, err, sizeof(err)), -1);
	T_EQ_INT(snmpcfg_oid_parse("1..3", &o, err, sizeof(err)), -1);
	T_EQ_INT(snmpcfg_oid_parse("1", &o, err, sizeof(err)), -1);
	T_EQ_INT(snmpcfg_oid_parse("", &o, err, sizeof(err)), -1);
	for (i = 0; i < 129; i++)
		n += (size_t)snprintf(
		    longer + n, sizeof(longer) - n, "%s1", i ? "." : "");
	T_EQ_INT(snmpcfg_oid_parse(longer, &o, err, sizeof(err)), -1);
}

static int
t_cfg_sensor(const char *text, struct snmpcfg_sensor *s, char *err, size_t len)
{
	struct json_object *o = t_json(text);
	int rc;

	err[0] = '\0';
	rc = snmpcfg_sensor_parse(o, s, err, len);
	json_object_put(o);
	return rc;
}

T_TEST(cfg_sensors)
{
	struct snmpcfg_sensor s;
	char err[256];

	T_EQ_INT(t_cfg_sensor("{\"oids\": [{\"oid\": \"1.3.6.1.2.1.2.2.1.2\", "
	                      "\"fetch_method\": \"walk\"}, {\"oid\": "
	                      "\".1.3.6.1.2.1.1.3.0\", \"fetch_method\": "
	                      "\"get\"}], \"expression\": \"$2 / 100\", "
	                      "\"output_path\": \"if.{$index}.{$1}\"}",
	             &s, err, sizeof(err)),
	    0);
	T_EQ_INT(s.n_oids, 2);
	T_EQ_INT(s.walk[0], 1);
	T_EQ_INT(s.walk[1], 0);
	T_EQ_INT(expr_uses(s.expr, 2), 1);
	T_EQ_INT(snmppath_uses(s.path, 1), 1);
	snmpcfg_sensor_release(&s);

	T_EQ_INT(t_cfg_sensor("{\"oids\": []}", &s, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "0 oids") != NULL);
	T_EQ_INT(
	    t_cfg_sensor("{\"expression\": \"1\"}", &s, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "no oids") != NULL);
	T_EQ_INT(t_cfg_sensor("{\"oids\": [{\"oid\": \"1.3.6\", "
	                      "\"fetch_method\": \"bulk\"}], \"expression\": "
	                      "\"$1\", \"output_path\": \"x\"}",
	             &s, err, sizeof(err)),
	    -1);
	T_ASSERT(strstr(err, "fetch_method") != NULL);
	/* A member of the wrong type is an error, not the default. */
	T_EQ_INT(t_cfg_sensor("{\"oids\": [{\"oid\": \"1.3.6\", "
	                      "\"fetch_method\": 1}], \"expression\": "
	                      "\"$1\", \"output_path\": \"x\"}",
	             &s, err, sizeof(err)),
	    -1);
	T_EQ_STR(err, "oids[0]: fetch_method must be a string");
	T_EQ_INT(t_cfg_sensor("{\"oids\": [{\"oid\": 136}], \"expression\": "
	                      "\"$1\", \"output_path\": \"x\"}",
	             &s, err, sizeof(err)),
	    -1);
	T_EQ_STR(err, "oids[0]: oid must be a string");
	T_EQ_INT(t_cfg_sensor("{\"oids\": [{\"oid\": \"1.3.6\"}], "
	                      "\"expression\": \"$2\", \"output_path\": \"x\"}",
	             &s, err, sizeof(err)),
	    -1);
	T_ASSERT(strstr(err, "expression \"$2\"") != NULL);
	T_EQ_INT(t_cfg_sensor("{\"oids\": [{\"oid\": \"1.3.6\"}], "
	                      "\"expression\": \"$1\", \"output_path\": "
	                      "\"x.{$2}\"}",
	             &s, err, sizeof(err)),
	    -1);
	T_ASSERT(strstr(err, "output_path") != NULL);
	T_EQ_INT(t_cfg_sensor("{\"oids\": [{\"oid\": \"1.3.6\"}], "
	                      "\"output_path\": \"x\"}",
	             &s, err, sizeof(err)),
	    -1);
	T_ASSERT(strstr(err, "expression and output_path") != NULL);
}
