/*
 * Unit tests for apibot's extraction: jq filters compiled once and shared,
 * outputs flattened to (key, number) items, path-safe keys, numeric
 * strings, skipped types, compile errors and forbidden builtins; bodies
 * parsed with the depth and trailing-data limits; delta and rate modes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../../apibot/apibody.h"
#include "../../../apibot/apifilter.h"
#include "../../../apibot/apimode.h"
#include "../t.h"

/* Runs filter text on JSON text; r zeroed and filled. */
static int
t_run(const char *filter, const char *json, struct apifilter_result *r)
{
	struct apifilter *f;
	char err[256];
	jv in;

	memset(r, 0, sizeof(*r));
	f = apifilter_get(filter, err, sizeof(err));
	if (f == NULL) {
		t_fail(__FILE__, __LINE__, "compile %s: %s", filter, err);
		return -1;
	}
	if (apibody_parse(json, strlen(json), &in, err, sizeof(err)) == -1) {
		t_fail(__FILE__, __LINE__, "parse %s: %s", json, err);
		apifilter_put(f);
		return -1;
	}
	apifilter_run(f, in, r);
	jv_free(in);
	apifilter_put(f);
	return 0;
}

T_TEST(apifilter_number_and_table)
{
	struct apifilter_result r;

	T_EQ_INT(t_run(".queue.depth", "{\"queue\": {\"depth\": 42}}", &r), 0);
	T_EQ_INT(r.n, 1);
	T_EQ_STR(r.items[0].key, "");
	T_EQ_DBL(r.items[0].v, 42, 0);
	apifilter_result_release(&r);

	T_EQ_INT(t_run(".workers[] | {(.name): .busy}",
	             "{\"workers\": [{\"name\": \"w 1\", \"busy\": 3}, "
	             "{\"name\": \"w/2.x\", \"busy\": true}, "
	             "{\"name\": \"\", \"busy\": \"7.5\"}]}",
	             &r),
	    0);
	T_EQ_INT(r.n, 3);
	T_EQ_STR(r.items[0].key, ".w-1");
	T_EQ_DBL(r.items[0].v, 3, 0);
	T_EQ_STR(r.items[1].key, ".w-2-x");
	T_EQ_DBL(r.items[1].v, 1, 0);
	T_EQ_STR(r.items[2].key, ".-");
	T_EQ_DBL(r.items[2].v, 7.5, 0);
	T_EQ_INT(r.skipped, 0);
	T_EQ_INT(r.error, 0);
	apifilter_result_release(&r);
}

T_TEST(apifilter_nested_objects_and_skips)
{
	struct apifilter_result r;

	T_EQ_INT(t_run(".",
	             "{\"a\": {\"b\": 1, \"c\": false}, \"s\": \"up\", "
	             "\"n\": null, \"l\": [1]}",
	             &r),
	    0);
	T_EQ_INT(r.n, 2);
	T_EQ_STR(r.items[0].key, ".a.b");
	T_EQ_STR(r.items[1].key, ".a.c");
	T_EQ_DBL(r.items[1].v, 0, 0);
	T_EQ_INT(r.skipped, 3);
	T_EQ_STR(r.skipped_kind, "text");
	apifilter_result_release(&r);

	T_EQ_INT(
	    t_run(".[]", "[null, [1], \"0x10\", \"nan\", \"1e3\"]", &r), 0);
	T_EQ_INT(r.n, 1);
	T_EQ_DBL(r.items[0].v, 1000, 0);
	T_EQ_INT(r.skipped, 4);
	T_EQ_STR(r.skipped_kind, "null");
	apifilter_result_release(&r);
}

T_TEST(apifilter_runtime_error_and_runaway_by_count)
{
	struct apifilter_result r;

	T_EQ_INT(t_run(".a.b", "{\"a\": \"x\"}", &r), 0);
	T_EQ_INT(r.error, 1);
	T_ASSERT(strstr(r.msg, "Cannot index") != NULL);
	apifilter_result_release(&r);

	/* repeat(.) never ends: the item cap stops it. */
	T_EQ_INT(t_run("repeat(.)", "1", &r), 0);
	T_EQ_INT(r.runaway, 1);
	T_EQ_INT(r.n, APIFILTER_MAX_ITEMS);
	apifilter_result_release(&r);
}

T_TEST(apifilter_compile_errors_and_forbidden)
{
	char err[256];
	struct apifilter *f;

	T_ASSERT(apifilter_get(".a | ", err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "does not compile") != NULL);
	T_ASSERT(apifilter_get("nosuchfn(1)", err, sizeof(err)) == NULL);
	T_ASSERT(apifilter_get("env.BOT_TOKEN", err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "\"env\"") != NULL);
	T_ASSERT(apifilter_get("$ENV.X", err, sizeof(err)) == NULL);
	T_ASSERT(apifilter_get(". | stderr", err, sizeof(err)) == NULL);
	T_ASSERT(apifilter_get("\"\\(input)\"", err, sizeof(err)) == NULL);
	T_ASSERT(apifilter_get("[inputs]", err, sizeof(err)) == NULL);
	T_ASSERT(apifilter_get("halt_error", err, sizeof(err)) == NULL);
	T_EQ_INT(apifilter_count(), 0);
	/* Field names and string contents are not calls. */
	f = apifilter_get(
	    ".input.env + (\"stderr\" | length)", err, sizeof(err));
	T_ASSERT(f != NULL);
	T_EQ_INT(apifilter_check_text("# env\n.a", err, sizeof(err)), 0);
	apifilter_put(f);
	T_EQ_INT(apifilter_count(), 0);
}

T_TEST(apifilter_shared_by_text)
{
	char err[256];
	struct apifilter *a, *b, *c;

	a = apifilter_get(".x", err, sizeof(err));
	b = apifilter_get(".x", err, sizeof(err));
	c = apifilter_get(".y", err, sizeof(err));
	T_ASSERT(a != NULL && c != NULL);
	T_ASSERT(a == b);
	T_ASSERT(a != c);
	T_EQ_INT(apifilter_count(), 2);
	apifilter_put(a);
	T_EQ_INT(apifilter_count(), 2);
	apifilter_put(b);
	apifilter_put(c);
	T_EQ_INT(apifilter_count(), 0);
}

T_TEST(apifilter_key_append_rules)
{
	char k[16] = "";

	T_EQ_INT(apifilter_key_append(k, sizeof(k), "a..b  c", 7), 0);
	T_EQ_STR(k, ".a-b-c");
	T_EQ_INT(apifilter_key_append(k, sizeof(k), "\0x", 2), 0);
	T_EQ_STR(k, ".a-b-c.-x");
	T_EQ_INT(apifilter_key_append(k, sizeof(k), "toolong", 7), -1);
	T_EQ_STR(k, ".a-b-c.-x");
}

T_TEST(apifilter_numeric_strings)
{
	double v = 0;

	T_EQ_INT(apifilter_number(" -1.5e2 ", 8, &v), 0);
	T_EQ_DBL(v, -150, 0);
	T_EQ_INT(apifilter_number("12abc", 5, &v), -1);
	T_EQ_INT(apifilter_number("inf", 3, &v), -1);
	T_EQ_INT(apifilter_number("1e400", 5, &v), -1);
	T_EQ_INT(apifilter_number("", 0, &v), -1);
	T_EQ_INT(apifilter_number("-", 1, &v), -1);
	T_EQ_INT(apifilter_number("0x1p3", 5, &v), -1);
}

/* tonumber is our own (APIFILTER_PRELUDE): libjq 1.6's leaks what it
 * parses when that is valid JSON but no number ("[]"): ASan's and
 * valgrind's runs of this test fail on the builtin. */
T_TEST(apifilter_tonumber_as_jq_without_its_leak)
{
	struct apifilter_result r;

	T_EQ_INT(t_run(".[] | {(.k): (.v | tonumber? // -1)}",
	             "[{\"k\": \"a\", \"v\": \" 12 \"}, "
	             "{\"k\": \"b\", \"v\": \".5\"}, "
	             "{\"k\": \"c\", \"v\": \"-2.5e1\"}, "
	             "{\"k\": \"d\", \"v\": 7}, "
	             "{\"k\": \"e\", \"v\": \"[]\"}, "
	             "{\"k\": \"f\", \"v\": \"{\\\"a\\\": 1}\"}, "
	             "{\"k\": \"g\", \"v\": \"[1 \\\"x\\\"]\"}, "
	             "{\"k\": \"h\", \"v\": \"abc\"}, "
	             "{\"k\": \"i\", \"v\": null}]",
	             &r),
	    0);
	T_EQ_INT(r.n, 9);
	T_EQ_DBL(r.items[0].v, 12, 0);
	T_EQ_DBL(r.items[1].v, 0.5, 0);
	T_EQ_DBL(r.items[2].v, -25, 0);
	T_EQ_DBL(r.items[3].v, 7, 0);
	T_EQ_DBL(r.items[4].v, -1, 0);
	T_EQ_DBL(r.items[5].v, -1, 0);
	T_EQ_DBL(r.items[6].v, -1, 0);
	T_EQ_DBL(r.items[7].v, -1, 0);
	T_EQ_DBL(r.items[8].v, -1, 0);
	apifilter_result_release(&r);
	/* a filter of the user's own may still define it */
	T_EQ_INT(t_run("def tonumber: 5; \"x\" | tonumber", "null", &r), 0);
	T_EQ_INT(r.n, 1);
	T_EQ_DBL(r.items[0].v, 5, 0);
	apifilter_result_release(&r);
}

T_TEST(apibody_limits)
{
	char err[128], deep[200];
	jv v;
	int i;

	T_EQ_INT(apibody_parse("", 0, &v, err, sizeof(err)), -1);
	T_EQ_INT(apibody_parse("{\"a\":1", 6, &v, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "truncated") != NULL);
	T_EQ_INT(apibody_parse("{} x", 4, &v, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "trailing") != NULL);
	T_EQ_INT(apibody_parse("<html>", 6, &v, err, sizeof(err)), -1);
	for (i = 0; i < 33; i++)
		deep[i] = '[';
	for (i = 33; i < 66; i++)
		deep[i] = ']';
	T_EQ_INT(apibody_parse(deep, 66, &v, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "deeper") != NULL);
	/* 32 levels pass. */
	T_EQ_INT(apibody_parse(deep + 1, 64, &v, err, sizeof(err)), 0);
	jv_free(v);
	T_EQ_INT(apibody_parse("12", 2, &v, err, sizeof(err)), 0);
	T_EQ_DBL(jv_number_value(v), 12, 0);
	jv_free(v);
	T_EQ_INT(apibody_parse("null \n", 6, &v, err, sizeof(err)), 0);
	T_EQ_INT(jv_get_kind(v), JV_KIND_NULL);
	jv_free(v);
	T_EQ_INT(
	    apibody_parse("{\"k\": \"a\\u0000b\"}", 17, &v, err, sizeof(err)),
	    0);
	T_EQ_INT(jv_string_length_bytes(jv_object_get(v, jv_string("k"))), 3);
}

T_TEST(apibody_real_api_bodies)
{
	char err[128];
	jv v;

	/* A UTF-8 byte order mark before the JSON (Windows/.NET servers). */
	T_EQ_INT(
	    apibody_parse("\xef\xbb\xbf{\"a\": 2}", 11, &v, err, sizeof(err)),
	    0);
	T_EQ_DBL(jv_number_value(jv_object_get(v, jv_string("a"))), 2, 0);
	T_EQ_INT(apibody_parse("\xef\xbb\xbf", 3, &v, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "empty") != NULL);
	/* Big numbers, negative zero. */
	T_EQ_INT(apibody_parse("[9223372036854775808, 1e308, -0.0, "
	                       "-9223372036854775809]",
	             56, &v, err, sizeof(err)),
	    0);
	T_EQ_DBL(jv_number_value(jv_array_get(jv_copy(v), 0)),
	    9223372036854775808.0, 1e4);
	T_EQ_DBL(jv_number_value(jv_array_get(jv_copy(v), 1)), 1e308, 1e293);
	T_EQ_DBL(jv_number_value(jv_array_get(jv_copy(v), 2)), 0, 0);
	T_EQ_DBL(jv_number_value(jv_array_get(jv_copy(v), 3)),
	    -9223372036854775809.0, 1e4);
	jv_free(v);
	/* Python's json module writes NaN and Infinity: the rest of the
	 * document still parses. */
	T_EQ_INT(apibody_parse("{\"a\": NaN, \"b\": Infinity, \"c\": 3}", 33,
	             &v, err, sizeof(err)),
	    0);
	T_EQ_DBL(jv_number_value(jv_object_get(v, jv_string("c"))), 3, 0);
}

struct t_emit {
	char keys[8][32];
	double v[8];
	int n;
};

static void
t_emit_cb(void *arg, const char *key, double v)
{
	struct t_emit *e = arg;

	snprintf(e->keys[e->n], sizeof(e->keys[0]), "%s", key);
	e->v[e->n++] = v;
}

T_TEST(apimode_delta_rate_and_reset)
{
	struct apimode_state st;
	struct apifilter_item it[3];
	struct t_emit e;

	memset(&st, 0, sizeof(st));
	memset(&e, 0, sizeof(e));
	memset(it, 0, sizeof(it));
	snprintf(it[0].key, sizeof(it[0].key), ".b");
	it[0].v = 100;
	snprintf(it[1].key, sizeof(it[1].key), ".a");
	it[1].v = 10;
	/* First poll: nothing. */
	T_EQ_INT(
	    apimode_apply(&st, APIMODE_RATE, it, 2, 1000, t_emit_cb, &e), 0);
	snprintf(it[0].key, sizeof(it[0].key), ".a");
	it[0].v = 30;
	snprintf(it[1].key, sizeof(it[1].key), ".b");
	it[1].v = 50; /* went down: a reset, nothing */
	snprintf(it[2].key, sizeof(it[2].key), ".c");
	it[2].v = 1; /* new: nothing */
	T_EQ_INT(
	    apimode_apply(&st, APIMODE_RATE, it, 3, 1004, t_emit_cb, &e), 1);
	T_EQ_STR(e.keys[0], ".a");
	T_EQ_DBL(e.v[0], 5, 1e-9);
	/* .b continues from its reset value. */
	it[0].v = 30;
	it[1].v = 70;
	T_EQ_INT(
	    apimode_apply(&st, APIMODE_DELTA, it, 2, 1005, t_emit_cb, &e), 2);
	T_EQ_DBL(e.v[1], 0, 0);
	T_EQ_STR(e.keys[2], ".b");
	T_EQ_DBL(e.v[2], 20, 0);
	/* .c vanished and is forgotten. */
	T_EQ_INT(st.n, 2);
	apimode_state_release(&st);

	/* Value mode: a repeated key keeps its last value. */
	memset(&e, 0, sizeof(e));
	snprintf(it[0].key, sizeof(it[0].key), ".x");
	it[0].v = 1;
	snprintf(it[1].key, sizeof(it[1].key), ".x");
	it[1].v = 2;
	T_EQ_INT(apimode_apply(&st, APIMODE_VALUE, it, 2, 1, t_emit_cb, &e), 1);
	T_EQ_DBL(e.v[0], 2, 0);
}
