/*
 * Unit tests for jsonx.c: a member of the wrong type reads as absent.
 */
#include <json-c/json.h>

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
