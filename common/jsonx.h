/*
 * Small readers for members of json-c objects that the backend sends,
 * where a missing member and one of the wrong type mean the same: absent.
 */
#ifndef BOT_JSONX_H
#define BOT_JSONX_H

#include <stdint.h>

struct json_object;

/* obj[key] when it is an integer, else -1 (ids are positive). */
int64_t jsonx_int(struct json_object *obj, const char *key);

/* obj[key] when it is a string (borrowed from obj), else NULL. */
const char *jsonx_str(struct json_object *obj, const char *key);

#endif
