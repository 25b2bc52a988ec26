/*
 * json-c's tokener does the parsing (with its depth limit and strict
 * end-of-input check); the tree is then copied into jv values, which the
 * depth limit keeps shallow enough to walk recursively.
 */
#include "apibody.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static jv
apibody_to_jv(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return jv_null();
	case json_type_boolean:
		return json_object_get_boolean(o) ? jv_true() : jv_false();
	case json_type_int:
	case json_type_double:
		return jv_number(json_object_get_double(o));
	case json_type_string:
		return jv_string_sized(
		    json_object_get_string(o), json_object_get_string_len(o));
	case json_type_array: {
		size_t n = json_object_array_length(o), i;
		jv a = jv_array_sized((int)(n < 1000000 ? n : 1000000));

		for (i = 0; i < n; i++)
			a = jv_array_append(
			    a, apibody_to_jv(json_object_array_get_idx(o, i)));
		return a;
	}
	case json_type_object: {
		jv obj = jv_object();

		json_object_object_foreach(o, k, v)
		{
			obj =
			    jv_object_set(obj, jv_string(k), apibody_to_jv(v));
		}
		return obj;
	}
	}
	return jv_null();
}

int
apibody_parse(const char *text, size_t len, jv *out, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error je;
	size_t off;
	int rc = -1;

	/* A UTF-8 byte order mark, which some servers put first. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	if (len == 0) {
		snprintf(err, errlen, "empty body, not JSON");
		return -1;
	}
	if (len > INT32_MAX) {
		snprintf(err, errlen, "body too large to parse");
		return -1;
	}
	tok = json_tokener_new_ex(APIBODY_MAX_DEPTH);
	if (tok == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o = json_tokener_parse_ex(tok, text, (int)len);
	je = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (o == NULL && je == json_tokener_continue && off == len) {
		/* A bare number ends only at a delimiter: give it one. */
		o = json_tokener_parse_ex(tok, " ", 1);
		je = json_tokener_get_error(tok);
		if (o != NULL || je == json_tokener_success)
			goto done;
	}
	if (o == NULL) {
		if (je == json_tokener_continue)
			snprintf(err, errlen, "body is truncated JSON");
		else if (je == json_tokener_error_depth)
			snprintf(err, errlen, "JSON nested deeper than %d",
			    APIBODY_MAX_DEPTH);
		else if (je == json_tokener_success) /* a literal null */
			goto null_ok;
		else
			snprintf(err, errlen, "body is not JSON: %s",
			    json_tokener_error_desc(je));
		goto out;
	}
null_ok:
	while (off < len &&
	    (text[off] == ' ' || text[off] == '\t' || text[off] == '\r' ||
	        text[off] == '\n'))
		off++;
	if (off < len) {
		snprintf(err, errlen, "trailing data after the JSON value");
		goto out;
	}
done:
	*out = apibody_to_jv(o);
	rc = 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}
