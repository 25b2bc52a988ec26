/*
 * Unit tests for jsonx.c: a member of the wrong type reads as absent; the
 * number rule (number or numeric string, blank means default, ranges);
 * ids, objects, blanks; whole-text parsing with a depth bound.
 */
#include <json-c/json.h>
#include <string.h>

#include "attrs.h"
#include "jsonx.h"
#include "t.h"

T_TEST(jsonx_members_of_the_wrong_type_are_absent)
{
	struct json_object *o = json_tokener_parse(
	    "{\"id\": 42, \"big\": 4294967296, \"s\": \"x\", \"f\": 1.5, "
	    "\"n\": null, \"str_id\": \"42\"}");

	T_ASSERT(o != NULL);
	T_EQ_INT(jsonx_int(o, "id"), 42);
	T_EQ_INT(jsonx_int(o, "big"), 4294967296LL);
	T_EQ_INT(jsonx_int(o, "f"), -1);
	T_EQ_INT(jsonx_int(o, "n"), -1);
	T_EQ_INT(jsonx_int(o, "str_id"), -1);
	T_EQ_INT(jsonx_int(o, "missing"), -1);
	T_EQ_STR(jsonx_str(o, "s"), "x");
	T_ASSERT(jsonx_str(o, "id") == NULL);
	T_ASSERT(jsonx_str(o, "n") == NULL);
	T_ASSERT(jsonx_str(o, "missing") == NULL);
	T_EQ_INT(jsonx_int(NULL, "id"), -1);
	json_object_put(o);
}

T_TEST(jsonx_number_rule)
{
	struct json_object *o;
	char err[BOT_ERRLEN];
	double d;

	o = json_tokener_parse(
	    "{\"s\": \"3\", \"i\": 3, \"f\": 3.5, \"x\": \"x\", \"n\": null, "
	    "\"big\": \"1e400\", \"e\": \"\", \"bl\": \" \\t\", \"sp\": \"3 "
	    "\", "
	    "\"neg\": \"-1.5\", \"nan\": \"nan\", \"inf\": \"inf\", \"b\": "
	    "true, \"a\": [3], \"o\": {}, \"fs\": \"1.0\"}");
	T_ASSERT(o != NULL);
	/* A number, or a string holding exactly one. */
	T_EQ_INT(
	    jsonx_number(o, "s", 9, -1e9, 1e9, 0, &d, err, sizeof(err)), 0);
	T_EQ_DBL(d, 3, 0);
	T_EQ_INT(
	    jsonx_number(o, "i", 9, -1e9, 1e9, 0, &d, err, sizeof(err)), 0);
	T_EQ_DBL(d, 3, 0);
	T_EQ_INT(
	    jsonx_number(o, "f", 9, -1e9, 1e9, 0, &d, err, sizeof(err)), 0);
	T_EQ_DBL(d, 3.5, 0);
	T_EQ_INT(
	    jsonx_number(o, "neg", 9, -1e9, 1e9, 0, &d, err, sizeof(err)), 0);
	T_EQ_DBL(d, -1.5, 0);
	T_EQ_INT(jsonx_number(
	             o, "fs", 9, -1e9, 1e9, JSONX_WHOLE, &d, err, sizeof(err)),
	    0);
	T_EQ_DBL(d, 1.0, 0);
	/* Absent, null and blank give the default (unchecked). */
	T_EQ_INT(jsonx_number(o, "n", 9, 0, 1, 0, &d, err, sizeof(err)), 0);
	T_EQ_DBL(d, 9, 0);
	T_EQ_INT(
	    jsonx_number(o, "absent", 2.5, 0, 1, 0, &d, err, sizeof(err)), 0);
	T_EQ_DBL(d, 2.5, 0);
	T_EQ_INT(jsonx_number(NULL, "s", 4, 0, 1, 0, &d, err, sizeof(err)), 0);
	T_EQ_DBL(d, 4, 0);
	T_EQ_INT(jsonx_number(o, "e", 5, 0, 1, 0, &d, err, sizeof(err)), 0);
	T_EQ_DBL(d, 5, 0);
	T_EQ_INT(jsonx_number(o, "bl", 6, 0, 1, 0, &d, err, sizeof(err)), 0);
	T_EQ_DBL(d, 6, 0);
	/* Present but not a finite number: one wording, *out untouched. */
	d = 77;
	T_EQ_INT(jsonx_number(o, "x", 9, 0, 1e9, 0, &d, err, sizeof(err)), -1);
	T_EQ_STR(err, "x must be a number, got \"x\"");
	T_EQ_INT(
	    jsonx_number(o, "big", 9, 0, 1e9, 0, &d, err, sizeof(err)), -1);
	T_EQ_INT(jsonx_number(o, "sp", 9, 0, 1e9, 0, &d, err, sizeof(err)), -1);
	T_EQ_INT(
	    jsonx_number(o, "nan", 9, 0, 1e9, 0, &d, err, sizeof(err)), -1);
	T_EQ_INT(
	    jsonx_number(o, "inf", 9, 0, 1e9, 0, &d, err, sizeof(err)), -1);
	T_EQ_INT(jsonx_number(o, "b", 9, 0, 1e9, 0, &d, err, sizeof(err)), -1);
	T_EQ_INT(jsonx_number(o, "a", 9, 0, 1e9, 0, &d, err, sizeof(err)), -1);
	T_EQ_STR(err, "a must be a number, got [3]");
	T_EQ_INT(jsonx_number(o, "o", 9, 0, 1e9, 0, &d, err, sizeof(err)), -1);
	T_EQ_DBL(d, 77, 0);
	/* Ranges and wholeness. */
	T_EQ_INT(jsonx_number(o, "i", 9, 4, 10, 0, &d, err, sizeof(err)), -1);
	T_EQ_STR(err, "i must be a number from 4 to 10, got 3");
	T_EQ_INT(jsonx_number(
	             o, "f", 9, 0, 2678400, JSONX_WHOLE, &d, err, sizeof(err)),
	    -1);
	T_EQ_STR(err, "f must be a whole number from 0 to 2678400, got 3.5");
	/* JSON numbers only: a string is wrong, even a blank one. */
	T_EQ_INT(jsonx_number(
	             o, "s", 9, 0, 10, JSONX_JSON_ONLY, &d, err, sizeof(err)),
	    -1);
	T_EQ_INT(jsonx_number(
	             o, "e", 9, 0, 10, JSONX_JSON_ONLY, &d, err, sizeof(err)),
	    -1);
	T_EQ_INT(jsonx_number(
	             o, "n", 9, 0, 10, JSONX_JSON_ONLY, &d, err, sizeof(err)),
	    0);
	T_EQ_DBL(d, 9, 0);
	json_object_put(o);
}

T_TEST(jsonx_ids_objects_and_blanks)
{
	struct json_object *o, *v;
	int64_t id = 5;

	o = json_tokener_parse("{\"id\": 42, \"zero\": 0, \"huge\": "
	                       "9007199254740993, \"s\": \"42\", \"obj\": "
	                       "{\"a\": 1}, \"n\": null, \"arr\": [], \"bl\": "
	                       "\"  \"}");
	T_ASSERT(o != NULL);
	T_EQ_INT(jsonx_id(o, "id", &id), 0);
	T_EQ_INT(id, 42);
	T_EQ_INT(jsonx_id(o, "zero", &id), -1);
	T_EQ_INT(jsonx_id(o, "huge", &id), -1);
	T_EQ_INT(jsonx_id(o, "s", &id), -1);
	T_EQ_INT(jsonx_id(o, "missing", &id), -1);
	T_EQ_INT(id, 42);
	v = jsonx_object(o, "obj");
	T_ASSERT(v != NULL && json_object_object_length(v) == 1);
	json_object_put(v);
	v = jsonx_object(o, "n");
	T_ASSERT(v != NULL && json_object_object_length(v) == 0);
	json_object_put(v);
	v = jsonx_object(o, "missing");
	T_ASSERT(v != NULL && json_object_object_length(v) == 0);
	json_object_put(v);
	T_ASSERT(jsonx_object(o, "arr") == NULL);
	T_EQ_INT(jsonx_blank(NULL), 1);
	json_object_object_get_ex(o, "bl", &v);
	T_EQ_INT(jsonx_blank(v), 1);
	json_object_object_get_ex(o, "s", &v);
	T_EQ_INT(jsonx_blank(v), 0);
	json_object_object_get_ex(o, "id", &v);
	T_EQ_INT(jsonx_blank(v), 0);
	json_object_put(o);
}

T_TEST(jsonx_parse_whole_text)
{
	struct json_object *o;
	char err[BOT_ERRLEN];

	T_EQ_INT(jsonx_parse("[1, 2]", 6, 8, &o, err, sizeof(err)), 0);
	T_EQ_INT(json_object_array_length(o), 2);
	json_object_put(o);
	T_EQ_INT(jsonx_parse("42", 2, 8, &o, err, sizeof(err)), 0);
	T_EQ_INT(json_object_get_int(o), 42);
	json_object_put(o);
	T_EQ_INT(jsonx_parse("null", 4, 8, &o, err, sizeof(err)), 0);
	T_ASSERT(o == NULL);
	T_EQ_INT(jsonx_parse("[1] x", 5, 8, &o, err, sizeof(err)), -1);
	T_EQ_STR(err, "not valid JSON: trailing data at byte 4");
	T_EQ_INT(jsonx_parse("[1", 2, 8, &o, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "not valid JSON") != NULL);
	T_EQ_INT(jsonx_parse("", 0, 8, &o, err, sizeof(err)), -1);
	/* The depth bound: 3 levels pass with 3, fail with 2. */
	T_EQ_INT(jsonx_parse("[[[]]]", 6, 3, &o, err, sizeof(err)), 0);
	json_object_put(o);
	T_EQ_INT(jsonx_parse("[[[]]]", 6, 2, &o, err, sizeof(err)), -1);
	T_ASSERT(o == NULL);
}

/* "A string or missing": absent and null read as NULL, another type is
 * an error naming the key. */
T_TEST(jsonx_opt_str_string_or_missing)
{
	struct json_object *o = json_tokener_parse(
	    "{\"s\": \"text\", \"e\": \"\", \"n\": null, \"i\": 5, "
	    "\"o\": {}}");
	char err[BOT_ERRLEN];
	const char *s;

	T_ASSERT(o != NULL);
	s = NULL;
	T_EQ_INT(jsonx_opt_str(o, "s", &s, err, sizeof(err)), 0);
	T_EQ_STR(s, "text");
	T_EQ_INT(jsonx_opt_str(o, "e", &s, err, sizeof(err)), 0);
	T_EQ_STR(s, "");
	s = "left over";
	T_EQ_INT(jsonx_opt_str(o, "n", &s, err, sizeof(err)), 0);
	T_ASSERT(s == NULL);
	s = "left over";
	T_EQ_INT(jsonx_opt_str(o, "missing", &s, err, sizeof(err)), 0);
	T_ASSERT(s == NULL);
	s = "left over";
	T_EQ_INT(jsonx_opt_str(NULL, "s", &s, err, sizeof(err)), 0);
	T_ASSERT(s == NULL);
	T_EQ_INT(jsonx_opt_str(o, "i", &s, err, sizeof(err)), -1);
	T_ASSERT(s == NULL);
	T_EQ_STR(err, "i must be a string");
	T_EQ_INT(jsonx_opt_str(o, "o", &s, err, sizeof(err)), -1);
	T_EQ_STR(err, "o must be a string");
	json_object_put(o);
}

/* Booleans: null (and absence, unless required) give the default; any
 * other type, "true" as a string included, is an error. */
T_TEST(jsonx_bool_rule)
{
	struct json_object *o = json_tokener_parse(
	    "{\"t\": true, \"f\": false, \"n\": null, \"s\": \"true\", "
	    "\"i\": 1}");
	char err[BOT_ERRLEN];
	int b;

	T_ASSERT(o != NULL);
	b = -7;
	T_EQ_INT(jsonx_bool(o, "t", 0, 0, &b, err, sizeof(err)), 0);
	T_EQ_INT(b, 1);
	T_EQ_INT(
	    jsonx_bool(o, "f", 1, JSONX_REQUIRED, &b, err, sizeof(err)), 0);
	T_EQ_INT(b, 0);
	T_EQ_INT(
	    jsonx_bool(o, "n", 1, JSONX_REQUIRED, &b, err, sizeof(err)), 0);
	T_EQ_INT(b, 1);
	T_EQ_INT(jsonx_bool(o, "n", 0, 0, &b, err, sizeof(err)), 0);
	T_EQ_INT(b, 0);
	T_EQ_INT(jsonx_bool(o, "missing", 1, 0, &b, err, sizeof(err)), 0);
	T_EQ_INT(b, 1);
	T_EQ_INT(jsonx_bool(NULL, "t", 1, 0, &b, err, sizeof(err)), 0);
	T_EQ_INT(b, 1);

	b = -7;
	T_EQ_INT(
	    jsonx_bool(o, "missing", 1, JSONX_REQUIRED, &b, err, sizeof(err)),
	    -1);
	T_EQ_STR(err, "missing is missing");
	T_EQ_INT(b, -7);
	T_EQ_INT(jsonx_bool(o, "s", 0, 0, &b, err, sizeof(err)), -1);
	T_EQ_STR(err, "s must be true or false, got \"true\"");
	T_EQ_INT(jsonx_bool(o, "i", 0, 0, &b, err, sizeof(err)), -1);
	T_EQ_STR(err, "i must be true or false, got 1");
	T_EQ_INT(b, -7);
	json_object_put(o);
}
