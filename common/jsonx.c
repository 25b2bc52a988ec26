/*
 * Readers for members of json-c objects, and a whole-text parser, with
 * the rules written once (see jsonx.h).
 */
#include "jsonx.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

int64_t
jsonx_int(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

const char *
jsonx_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
jsonx_opt_str(struct json_object *obj, const char *key, const char **out,
    char *err, size_t errlen)
{
	struct json_object *v = NULL;

	*out = NULL;
	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) ||
	    v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "%s must be a string", key);
		return -1;
	}
	*out = json_object_get_string(v);
	return 0;
}

int
jsonx_bool(struct json_object *obj, const char *key, int def, unsigned flags,
    int *out, char *err, size_t errlen)
{
	struct json_object *v = NULL;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v)) {
		if (flags & JSONX_REQUIRED) {
			snprintf(err, errlen, "%s is missing", key);
			return -1;
		}
		*out = def;
		return 0;
	}
	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_boolean)) {
		snprintf(err, errlen, "%s must be true or false, got %.64s",
		    key,
		    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		return -1;
	}
	*out = json_object_get_boolean(v) ? 1 : 0;
	return 0;
}

int
jsonx_id(struct json_object *obj, const char *key, int64_t *out)
{
	int64_t id = jsonx_int(obj, key);

	if (id <= 0 || id > JSONX_MAX_ID)
		return -1;
	*out = id;
	return 0;
}

int
jsonx_blank(struct json_object *v)
{
	const char *s;

	if (v == NULL)
		return 1;
	if (!json_object_is_type(v, json_type_string))
		return 0;
	for (s = json_object_get_string(v); *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

int
jsonx_number(struct json_object *obj, const char *key, double def, double min,
    double max, unsigned flags, double *out, char *err, size_t errlen)
{
	struct json_object *v = NULL;
	const char *s;
	char *end;
	double d;

	if (obj != NULL)
		json_object_object_get_ex(obj, key, &v);
	if (v == NULL || (!(flags & JSONX_JSON_ONLY) && jsonx_blank(v))) {
		*out = def;
		return 0;
	}
	switch (json_object_get_type(v)) {
	case json_type_int:
	case json_type_double:
		d = json_object_get_double(v);
		break;
	case json_type_string:
		if (flags & JSONX_JSON_ONLY)
			goto bad;
		s = json_object_get_string(v);
		errno = 0;
		d = strtod(s, &end);
		if (end == s || *end != '\0' || errno == ERANGE)
			goto bad;
		break;
	default:
		goto bad;
	}
	if (!isfinite(d))
		goto bad;
	if (d < min || d > max || ((flags & JSONX_WHOLE) && d != floor(d))) {
		snprintf(err, errlen,
		    "%s must be %s from %.15g to %.15g, got %.15g", key,
		    (flags & JSONX_WHOLE) ? "a whole number" : "a number", min,
		    max, d);
		return -1;
	}
	*out = d;
	return 0;
bad:
	snprintf(err, errlen, "%s must be a number, got %.64s", key,
	    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	return -1;
}

struct json_object *
jsonx_object(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return json_object_new_object();
	if (!json_object_is_type(v, json_type_object))
		return NULL;
	return json_object_get(v);
}

int
jsonx_parse(const char *text, size_t len, int max_depth,
    struct json_object **out, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	size_t end;
	int rc = -1;

	*out = NULL;
	tok = json_tokener_new_ex(max_depth);
	if (tok == NULL)
		fatalx("json_tokener_new_ex failed");
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		/* A bare number or literal at the very end of the text is
		 * only complete once the parser sees the end of input. */
		root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
	if (jerr != json_tokener_success) {
		snprintf(err, errlen, "not valid JSON: %s",
		    jerr == json_tokener_continue
		        ? "unexpected end of input"
		        : json_tokener_error_desc(jerr));
		json_object_put(root);
		goto out;
	}
	if (end < len) {
		snprintf(err, errlen,
		    "not valid JSON: trailing data at byte %zu", end);
		json_object_put(root);
		goto out;
	}
	*out = root;
	rc = 0;
out:
	json_tokener_free(tok);
	return rc;
}
