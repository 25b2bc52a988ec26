/*
 * Unit tests for apibot's config parsing: credential details (headers and
 * basic or digest auth, secrets from a file or the environment, timeout,
 * CA file,
 * TLS verification), the entity's base URL, sensor details (path joining,
 * method, body, extract list) and the same-origin check for redirects.
 * Error texts must never quote a secret.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../apibot/apicfg.h"
#include "../t.h"

T_TEST(apicfg_credential_defaults_and_all_keys)
{
	struct apicred c;
	struct json_object *o;
	char err[256], path[512];
	FILE *f;

	T_EQ_INT(apicfg_cred_parse(NULL, &c, err, sizeof(err)), 0);
	T_EQ_INT(c.timeout_ms, 10000);
	T_EQ_INT(c.verify_tls, 1);
	T_EQ_INT(c.n_headers, 0);
	T_ASSERT(c.username == NULL);
	/* Requests still ask for JSON. */
	T_EQ_INT(c.n_send, 1);
	T_EQ_STR(c.send[0], "Accept: application/json");
	T_ASSERT(c.content_type == NULL);
	apicfg_cred_release(&c);

	snprintf(path, sizeof(path), "%s/pw", t_tmpdir());
	f = fopen(path, "w");
	T_ASSERT(f != NULL);
	fputs("from-file\n", f);
	fclose(f);
	setenv("T_APICFG_TOKEN", "Bearer env-secret", 1);
	{
		char text[1024];

		snprintf(text, sizeof(text),
		    "{\"headers\": {\"Authorization\": {\"env\": "
		    "\"T_APICFG_TOKEN\"}, \"X-A\": \"b\"}, \"basic_auth\": "
		    "{\"username\": \"u\", \"password\": {\"file\": \"%s\"}}, "
		    "\"timeout\": \"2.5\", \"ca_file\": \"/ca.pem\", "
		    "\"verify_tls\": false}",
		    path);
		o = t_json(text);
	}
	T_EQ_INT(apicfg_cred_parse(o, &c, err, sizeof(err)), 0);
	T_EQ_INT(c.n_headers, 2);
	T_EQ_STR(c.headers[0], "Authorization: Bearer env-secret");
	T_EQ_STR(c.headers[1], "X-A: b");
	T_EQ_INT(c.n_send, 3);
	T_EQ_STR(c.send[0], "Authorization: Bearer env-secret");
	T_EQ_STR(c.send[1], "X-A: b");
	T_EQ_STR(c.send[2], "Accept: application/json");
	T_EQ_STR(c.username, "u");
	T_EQ_STR(c.password, "from-file");
	T_EQ_INT(c.digest, 0);
	T_EQ_INT(c.timeout_ms, 2500);
	T_EQ_STR(c.ca_file, "/ca.pem");
	T_EQ_INT(c.verify_tls, 0);
	apicfg_cred_release(&c);
	json_object_put(o);
	/* null means the default: verify. */
	o = t_json("{\"verify_tls\": null, \"ca_file\": null}");
	T_EQ_INT(apicfg_cred_parse(o, &c, err, sizeof(err)), 0);
	T_EQ_INT(c.verify_tls, 1);
	T_ASSERT(c.ca_file == NULL);
	apicfg_cred_release(&c);
	json_object_put(o);
}

T_TEST(apicfg_credential_secrets_read_again)
{
	struct apicred c;
	struct json_object *o;
	char err[256], path[256], text[768];
	FILE *f;

	snprintf(path, sizeof(path), "%s/token", t_tmpdir());
	f = fopen(path, "w");
	T_ASSERT(f != NULL);
	fputs("one", f);
	fclose(f);
	setenv("T_APICFG_PW", "pw1", 1);
	snprintf(text, sizeof(text),
	    "{\"headers\": {\"X-Token\": {\"file\": \"%s\"}, \"X-Lit\": "
	    "\"lit\"}, \"basic_auth\": {\"username\": \"u\", \"password\": "
	    "{\"env\": \"T_APICFG_PW\"}}}",
	    path);
	o = t_json(text);
	T_EQ_INT(apicfg_cred_parse(o, &c, err, sizeof(err)), 0);
	json_object_put(o);
	T_EQ_STR(c.headers[0], "X-Token: one");
	T_EQ_STR(c.password, "pw1");
	f = fopen(path, "w");
	T_ASSERT(f != NULL);
	fputs("two\n", f);
	fclose(f);
	setenv("T_APICFG_PW", "pw2", 1);
	T_EQ_INT(apicfg_cred_reload(&c, err, sizeof(err)), 0);
	T_EQ_STR(c.headers[0], "X-Token: two");
	T_EQ_STR(c.headers[1], "X-Lit: lit");
	T_EQ_STR(c.password, "pw2");
	/* What requests send follows the new value. */
	T_EQ_INT(c.n_send, 3);
	T_EQ_STR(c.send[0], "X-Token: two");
	/* Unreadable now: the previous values stay. */
	T_EQ_INT(unlink(path), 0);
	unsetenv("T_APICFG_PW");
	T_EQ_INT(apicfg_cred_reload(&c, err, sizeof(err)), -1);
	T_EQ_STR(c.headers[0], "X-Token: two");
	T_EQ_STR(c.password, "pw2");
	T_ASSERT(strstr(err, "two") == NULL && strstr(err, "pw2") == NULL);
	apicfg_cred_release(&c);
}

/* The lines every request sends, derived once per credential: its own
 * Accept replaces the JSON one, its Content-Type is kept for POSTs only,
 * whatever their case. */
T_TEST(apicfg_credential_request_lines)
{
	struct apicred c;
	struct json_object *o;
	char err[256];

	o = t_json("{\"headers\": {\"content-type\": \"text/csv\", "
	           "\"ACCEPT\": \"text/x\", \"X-K\": \"v\"}}");
	T_EQ_INT(apicfg_cred_parse(o, &c, err, sizeof(err)), 0);
	json_object_put(o);
	T_EQ_INT(c.n_send, 2);
	T_EQ_STR(c.send[0], "ACCEPT: text/x");
	T_EQ_STR(c.send[1], "X-K: v");
	T_EQ_STR(c.content_type, "text/csv");
	apicfg_cred_release(&c);
	T_ASSERT(c.send == NULL && c.n_send == 0);
}

T_TEST(apicfg_credential_digest_auth)
{
	struct apicred c;
	struct json_object *o;
	char err[256];

	setenv("T_APICFG_DPW", "digest-one", 1);
	o = t_json("{\"digest_auth\": {\"username\": \"admin\", "
	           "\"password\": {\"env\": \"T_APICFG_DPW\"}}}");
	T_EQ_INT(apicfg_cred_parse(o, &c, err, sizeof(err)), 0);
	json_object_put(o);
	T_EQ_STR(c.username, "admin");
	T_EQ_STR(c.password, "digest-one");
	T_EQ_INT(c.digest, 1);
	T_EQ_INT(c.n_headers, 0);
	/* Read again at refresh, as for basic_auth; the error names the
	 * digest_auth password, never its value. */
	setenv("T_APICFG_DPW", "digest-two", 1);
	T_EQ_INT(apicfg_cred_reload(&c, err, sizeof(err)), 0);
	T_EQ_STR(c.password, "digest-two");
	T_EQ_INT(c.digest, 1);
	unsetenv("T_APICFG_DPW");
	err[0] = '\0';
	T_EQ_INT(apicfg_cred_reload(&c, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "digest_auth password") != NULL);
	T_ASSERT(strstr(err, "digest-two") == NULL);
	T_EQ_STR(c.password, "digest-two");
	apicfg_cred_release(&c);
	T_EQ_INT(c.digest, 0);

	/* No password: empty, as for basic_auth; null means absent. */
	o = t_json("{\"digest_auth\": {\"username\": \"u\"}, "
	           "\"basic_auth\": null}");
	T_EQ_INT(apicfg_cred_parse(o, &c, err, sizeof(err)), 0);
	json_object_put(o);
	T_EQ_STR(c.password, "");
	T_EQ_INT(c.digest, 1);
	apicfg_cred_release(&c);

	/* Both kinds at once is an error naming both keys. */
	o = t_json("{\"basic_auth\": {\"username\": \"u\"}, "
	           "\"digest_auth\": {\"username\": \"u\"}}");
	T_EQ_INT(apicfg_cred_parse(o, &c, err, sizeof(err)), -1);
	json_object_put(o);
	T_ASSERT(strstr(err, "basic_auth") != NULL);
	T_ASSERT(strstr(err, "digest_auth") != NULL);
}

T_TEST(apicfg_credential_errors_never_quote_secrets)
{
	static const char *bad[] = {
	    "[]",
	    "{\"headers\": {\"Bad Name\": \"x\"}}",
	    "{\"headers\": {\"X\": \"line\\nbreak-secret\"}}",
	    "{\"headers\": {\"X\": {\"env\": \"T_APICFG_UNSET\"}}}",
	    "{\"headers\": {\"X\": {\"file\": \"/nonexistent/x\"}}}",
	    "{\"headers\": {\"X\": 5}}",
	    "{\"headers\": []}",
	    "{\"basic_auth\": {\"password\": \"pw-secret\"}}",
	    "{\"digest_auth\": {\"password\": \"pw-secret\"}}",
	    "{\"digest_auth\": {\"username\": 5, \"password\": \"secret\"}}",
	    "{\"digest_auth\": \"u:secret\"}",
	    "{\"digest_auth\": {\"username\": \"u\", \"password\": 5}}",
	    "{\"digest_auth\": {\"username\": \"u\", \"password\": "
	    "{\"env\": \"T_APICFG_UNSET\"}}}",
	    "{\"basic_auth\": {\"username\": \"u\", \"password\": \"secret\"}, "
	    "\"digest_auth\": {\"username\": \"u\", \"password\": \"secret\"}}",
	    "{\"timeout\": 0}",
	    "{\"timeout\": 301}",
	    "{\"timeout\": \"soon\"}",
	    "{\"verify_tls\": \"no\"}",
	    "{\"verify_tls\": 0}",
	    "{\"ca_file\": \"\"}",
	    "{\"ca_file\": 5}",
	};
	struct apicred c;
	char err[256];
	size_t i;

	unsetenv("T_APICFG_UNSET");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = t_json(bad[i]);

		err[0] = '\0';
		T_EQ_INT(apicfg_cred_parse(o, &c, err, sizeof(err)), -1);
		T_ASSERT(err[0] != '\0');
		T_ASSERT(strstr(err, "secret") == NULL);
		json_object_put(o);
	}
}

T_TEST(apicfg_base_url_and_join)
{
	struct json_object *o;
	char err[256], show[APICFG_SHOWLEN];
	char *u;

	o = t_json("{\"url\": \"https://user:pw@h.example:8443/base/\"}");
	u = apicfg_base_url(o, err, sizeof(err));
	T_EQ_STR(u, "https://user:pw@h.example:8443/base/");
	json_object_put(o);
	free(u);
	o = t_json("{\"ipv6\": \"::1\"}");
	u = apicfg_base_url(o, err, sizeof(err));
	T_EQ_STR(u, "http://[::1]/");
	json_object_put(o);
	free(u);
	o = t_json("{\"host\": \"router.lan:8080\"}");
	u = apicfg_base_url(o, err, sizeof(err));
	T_EQ_STR(u, "http://router.lan:8080/");
	json_object_put(o);
	free(u);
	o = t_json("{\"ipv4\": \"192.168.1.1:81\"}");
	u = apicfg_base_url(o, err, sizeof(err));
	T_EQ_STR(u, "http://192.168.1.1:81/");
	json_object_put(o);
	free(u);
	o = t_json("{\"ipv6\": \"2001:db8::5\"}");
	u = apicfg_base_url(o, err, sizeof(err));
	T_EQ_STR(u, "http://[2001:db8::5]/");
	json_object_put(o);
	free(u);
	o = t_json("{\"host\": \"api.local\"}");
	u = apicfg_base_url(o, err, sizeof(err));
	T_EQ_STR(u, "http://api.local/");
	json_object_put(o);
	free(u);
	o = t_json("{\"url\": \"file:///etc/passwd\"}");
	T_ASSERT(apicfg_base_url(o, err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "not http or https") != NULL);
	json_object_put(o);
	o = t_json("{\"host\": \"a/b\"}");
	T_ASSERT(apicfg_base_url(o, err, sizeof(err)) == NULL);
	json_object_put(o);
	o = t_json("{}");
	T_ASSERT(apicfg_base_url(o, err, sizeof(err)) == NULL);
	json_object_put(o);

	u = apicfg_join_url("https://u:p@h:1/base/", "/stats?key=s", show,
	    sizeof(show), err, sizeof(err));
	T_EQ_STR(u, "https://u:p@h:1/base/stats?key=s");
	/* Shown without userinfo and query. */
	T_EQ_STR(show, "https://h:1/base/stats");
	free(u);
	u = apicfg_join_url(
	    "http://h/base", "x/y", show, sizeof(show), err, sizeof(err));
	T_EQ_STR(u, "http://h/base/x/y");
	free(u);
	u = apicfg_join_url("http://h/base", "https://other/z", show,
	    sizeof(show), err, sizeof(err));
	T_EQ_STR(u, "https://other/z");
	free(u);
	T_ASSERT(apicfg_join_url("http://h/", "gopher://h/x", show,
	             sizeof(show), err, sizeof(err)) == NULL);
	T_ASSERT(apicfg_join_url("http://h/", "ftp://h/x", show, sizeof(show),
	             err, sizeof(err)) == NULL);
}

T_TEST(apicfg_join_url_as_real_apis_need)
{
	char err[256], show[APICFG_SHOWLEN];
	char *u;

	/* A "://" inside the query is no scheme (Prometheus, redirectors). */
	u = apicfg_join_url("http://h/base/", "/check?target=http://x/y", show,
	    sizeof(show), err, sizeof(err));
	T_EQ_STR(u, "http://h/base/check?target=http://x/y");
	free(u);
	u = apicfg_join_url("http://h/base", "q?u=https%3A%2F%2Fx&a=%C3%A9",
	    show, sizeof(show), err, sizeof(err));
	T_EQ_STR(u, "http://h/base/q?u=https%3A%2F%2Fx&a=%C3%A9");
	free(u);
	/* A query on the entity's URL (an API key) stays after the path. */
	u = apicfg_join_url("http://h/base/?key=k1", "/stats", show,
	    sizeof(show), err, sizeof(err));
	T_EQ_STR(u, "http://h/base/stats?key=k1");
	free(u);
	u = apicfg_join_url("http://h/base?key=k1", "stats?x=1", show,
	    sizeof(show), err, sizeof(err));
	T_EQ_STR(u, "http://h/base/stats?x=1&key=k1");
	free(u);
	u = apicfg_join_url(
	    "http://[::1]:8080/v1", "/s", show, sizeof(show), err, sizeof(err));
	T_EQ_STR(u, "http://[::1]:8080/v1/s");
	free(u);
	/* A path that is only a query keeps the base's path as it is. */
	u = apicfg_join_url("http://h/api", "?format=json", show, sizeof(show),
	    err, sizeof(err));
	T_EQ_STR(u, "http://h/api?format=json");
	free(u);
	u = apicfg_join_url("http://h/api/?key=k1", "?format=json", show,
	    sizeof(show), err, sizeof(err));
	T_EQ_STR(u, "http://h/api/?format=json&key=k1");
	free(u);
	/* Scheme names are case-insensitive. */
	u = apicfg_join_url("http://h/base", "HTTPS://other/z", show,
	    sizeof(show), err, sizeof(err));
	T_EQ_STR(u, "HTTPS://other/z");
	free(u);
}

T_TEST(apicfg_sensor_details)
{
	struct apisensor s, t2;
	struct json_object *o;

	o = t_json("{\"path\": \"/q\", \"method\": \"post\", \"body\": {\"a\": "
	           "[1, \"/\"]}, \"extract\": [{\"jq\": \".a\", \"path\": "
	           "\"x.y\", \"mode\": \"rate\"}, {\"jq\": \".b\", \"path\": "
	           "\"z\"}]}");
	T_EQ_INT(apicfg_sensor_parse(o, 7, "http://h:8/api", &s), 0);
	T_EQ_INT(s.id, 7);
	T_EQ_STR(s.url, "http://h:8/api/q");
	T_EQ_INT(s.post, 1);
	T_EQ_STR(s.body, "{\"a\":[1,\"/\"]}");
	T_EQ_INT(s.n_ex, 2);
	T_EQ_STR(s.ex[0].path, "x.y");
	T_EQ_INT(s.ex[0].mode, APIMODE_RATE);
	T_EQ_INT(s.ex[1].mode, APIMODE_VALUE);
	json_object_put(o);
	/* The same request from another sensor has the same key. */
	o = t_json("{\"path\": \"q\", \"method\": \"POST\", \"body\": {\"a\": "
	           "[1, \"/\"]}}");
	T_EQ_INT(apicfg_sensor_parse(o, 8, "http://h:8/api/", &t2), 0);
	T_EQ_STR(s.request_key, t2.request_key);
	T_EQ_STR(s.origin, "http://h:8");
	T_EQ_INT(t2.n_ex, 0);
	apicfg_sensor_release(&t2);
	apicfg_sensor_release(&s);
	json_object_put(o);

	o = t_json("{}");
	T_EQ_INT(apicfg_sensor_parse(o, 9, "http://h/", &s), 0);
	T_EQ_STR(s.url, "http://h/");
	T_EQ_INT(s.post, 0);
	/* The per-host cap counts by origin, default port made explicit. */
	T_EQ_STR(s.origin, "http://h:80");
	apicfg_sensor_release(&s);
	json_object_put(o);
}

T_TEST(apicfg_sensor_errors_skip_the_sensor)
{
	static const char *bad[] = {
	    "[]",
	    "{\"path\": 5}",
	    "{\"method\": \"DELETE\"}",
	    "{\"body\": {\"a\": 1}}",
	    "{\"extract\": {}}",
	    "{\"extract\": [{\"jq\": \".a\"}]}",
	    "{\"extract\": [{\"jq\": \".a\", \"path\": \"bad path\"}]}",
	    "{\"extract\": [{\"jq\": \".a\", \"path\": \"system.x\"}]}",
	    "{\"extract\": [{\"jq\": \".a\", \"path\": \"a\", \"mode\": "
	    "\"avg\"}]}",
	    "{\"extract\": [{\"jq\": \".a |\", \"path\": \"a\"}]}",
	    "{\"extract\": [{\"jq\": \"env\", \"path\": \"a\"}]}",
	    "{\"path\": \"file:///etc/passwd\"}",
	    /* Wrong types are errors, not the default (jsonx_opt_str). */
	    "{\"method\": 1}",
	    "{\"extract\": [{\"jq\": \".a\", \"path\": \"a\", \"mode\": "
	    "7}]}",
	};
	struct apisensor s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = t_json(bad[i]);

		T_EQ_INT(apicfg_sensor_parse(o, 3, "http://h/", &s), -1);
		T_ASSERT(s.error != NULL);
		T_EQ_INT(s.id, 3);
		T_EQ_INT(s.n_ex, 0);
		apicfg_sensor_release(&s);
		json_object_put(o);
	}
	T_EQ_INT(apifilter_count(), 0);
}

T_TEST(apicfg_same_origin_rules)
{
	T_EQ_INT(apicfg_same_origin("http://h/a", "http://h:80/b"), 1);
	T_EQ_INT(apicfg_same_origin("http://h:8/a", "http://h:9/a"), 0);
	T_EQ_INT(apicfg_same_origin("http://h/a", "https://h/a"), 0);
	T_EQ_INT(apicfg_same_origin("http://h/a", "http://g/a"), 0);
	T_EQ_INT(apicfg_same_origin("http://h/a", "file:///etc/passwd"), 0);
	T_EQ_INT(apicfg_same_origin("http://h/a", "not a url"), 0);
}
