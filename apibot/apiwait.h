/*
 * Requests that were asked to wait: an answer 429 or 503 with a
 * Retry-After holds that request (method, URL, body) until then, so a
 * rate-limited API is not polled on schedule into a longer ban, while
 * the other requests to the same host go on (a bad answer costs only its
 * sensors).  Loop thread only.
 */
#ifndef BOT_APIWAIT_H
#define BOT_APIWAIT_H

#include <stdint.h>

/* The longest hold honoured, in milliseconds (one hour). */
#define APIWAIT_MAX_MS INT64_C(3600000)

struct apiwait;

/* An empty table; free with apiwait_free. */
struct apiwait *apiwait_new(void);
void apiwait_free(struct apiwait *w);

/* Holds the request key (copied; compared byte for byte) for delay_ms
 * from now_ms, at most APIWAIT_MAX_MS; a later hold of the same key
 * replaces the earlier one.  Returns the hold kept, in milliseconds. */
int64_t apiwait_hold(
    struct apiwait *w, const char *key, int64_t now_ms, int64_t delay_ms);

/* Milliseconds key must still wait at now_ms; 0 when it may go (an
 * expired hold is forgotten). */
int64_t apiwait_left(struct apiwait *w, const char *key, int64_t now_ms);

#endif
