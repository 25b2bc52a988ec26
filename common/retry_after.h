/*
 * The HTTP Retry-After header (RFC 9110 10.2.3): either delta-seconds or
 * an HTTP-date in any of the three forms a recipient must accept
 * (IMF-fixdate, obsolete RFC 850, asctime).
 */
#ifndef BOT_RETRY_AFTER_H
#define BOT_RETRY_AFTER_H

#include <stdint.h>

#include "attrs.h"

/* Parses value (borrowed) into the wait in milliseconds from now_s (the
 * wall clock, Unix seconds).  A date in the past gives 0; a huge number of
 * seconds is clamped to a year.  -1 when value is neither form. */
int retry_after_parse(
    const char *value, double now_s, int64_t *delay_ms) BOT_WUR;

/* Parses an HTTP-date into Unix seconds; -1 when it is not one. */
int retry_after_date(const char *s, int64_t *epoch_s) BOT_WUR;

#endif
