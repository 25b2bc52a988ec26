/*
 * libjq's own parser builds the jv directly (no intermediate tree).  Its
 * depth limit (256) is far above ours, so a pre-scan counts brackets
 * outside strings first and refuses a body whose values nest deeper than
 * APIBODY_MAX_DEPTH, counting as json-c did: a container opened inside
 * k others is at depth k + 1, and so is a scalar inside k containers.
 */
#include "apibody.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* 0 when no value of text nests deeper than APIBODY_MAX_DEPTH, else -1;
 * -2 for a string right after a value inside a container ("[1 \"a\"]"),
 * which jq 1.6's parser refuses but leaks the string of.  Only brackets
 * outside strings count; the rest of the syntax is left to the parser.
 * Sets *nul when a string holds an escaped NUL (\u0000). */
static int
apibody_prescan(const char *text, size_t len, int *nul)
{
	size_t i;
	int depth = 0, in_str = 0, after_value = 0;

	for (i = 0; i < len; i++) {
		char c = text[i];

		if (in_str) {
			if (c == '\\') {
				if (len - i > 5 &&
				    memcmp(text + i + 1, "u0000", 5) == 0)
					*nul = 1;
				i++;
			} else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"' && after_value && depth > 0)
			return -2;
		switch (c) {
		case '[':
		case '{':
			if (++depth > APIBODY_MAX_DEPTH)
				return -1;
			after_value = 0;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			after_value = 1;
			break;
		case ',':
		case ':':
			after_value = 0;
			break;
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			break;
		default:
			/* Anything else inside the deepest allowed container
			 * starts a value (or an object key needing one) one
			 * level deeper. */
			if (depth == APIBODY_MAX_DEPTH)
				return -1;
			if (c == '"')
				in_str = 1;
			after_value = 1; /* the string or literal ends one */
			break;
		}
	}
	return 0;
}

/* Object keys cut at their first NUL, as json-c kept them (it stored keys
 * as C strings): {"n\u0000k": 1} answers at key "n", so output paths stay
 * what they were.  Values keep their NULs.  Consumes v. */
static jv
apibody_cut_nul_keys(jv v)
{
	jv_kind kind = jv_get_kind(v);

	if (kind == JV_KIND_ARRAY) {
		int i, n = jv_array_length(jv_copy(v));

		for (i = 0; i < n; i++)
			v = jv_array_set(v, i,
			    apibody_cut_nul_keys(jv_array_get(jv_copy(v), i)));
		return v;
	}
	if (kind == JV_KIND_OBJECT) {
		jv obj = jv_object();
		int it;

		for (it = jv_object_iter(v); jv_object_iter_valid(v, it);
		     it = jv_object_iter_next(v, it)) {
			jv k = jv_object_iter_key(v, it);

			obj = jv_object_set(obj, jv_string(jv_string_value(k)),
			    apibody_cut_nul_keys(jv_object_iter_value(v, it)));
			jv_free(k);
		}
		jv_free(v);
		return obj;
	}
	return v;
}

int
apibody_parse(const char *text, size_t len, jv *out, char *err, size_t errlen)
{
	struct jv_parser *p;
	jv v, rest;
	int rc = -1, nul = 0;

	if (len == 0) {
		snprintf(err, errlen, "empty body, not JSON");
		return -1;
	}
	if (len > INT32_MAX) {
		snprintf(err, errlen, "body too large to parse");
		return -1;
	}
	switch (apibody_prescan(text, len, &nul)) {
	case -1:
		snprintf(err, errlen, "JSON nested deeper than %d",
		    APIBODY_MAX_DEPTH);
		return -1;
	case -2:
		snprintf(err, errlen,
		    "body is not JSON: Expected separator between values");
		return -1;
	}
	p = jv_parser_new(0);
	jv_parser_set_buf(p, text, (int)len, 0);
	v = jv_parser_next(p);
	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);

		if (jv_get_kind(msg) != JV_KIND_STRING ||
		    strncmp(jv_string_value(msg), "Unfinished ", 11) == 0)
			snprintf(err, errlen, "body is truncated JSON");
		else
			snprintf(err, errlen, "body is not JSON: %s",
			    jv_string_value(msg));
		jv_free(msg);
		goto out;
	}
	/* Nothing but blanks may follow: the next call must find no value
	 * and no error. */
	rest = jv_parser_next(p);
	if (jv_is_valid(rest) || jv_invalid_has_msg(jv_copy(rest))) {
		jv_free(rest);
		jv_free(v);
		snprintf(err, errlen, "trailing data after the JSON value");
		goto out;
	}
	jv_free(rest);
	*out = nul ? apibody_cut_nul_keys(v) : v;
	rc = 0;
out:
	jv_parser_free(p);
	return rc;
}
