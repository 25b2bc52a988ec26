/*
 * NetFlow v5: a fixed 24-byte header and up to 30 fixed 48-byte records.
 */
#ifndef NETFLOWBOT_NFV5_H
#define NETFLOWBOT_NFV5_H

#include <stddef.h>
#include <stdint.h>

#include "nfflow.h"

#define NFV5_HEADER_LEN 24
#define NFV5_RECORD_LEN 48
#define NFV5_MAX_COUNT  30

/* Decodes one v5 datagram of len bytes, calling d->cb for each flow with
 * the header's sampling interval (or d->sampling_override) applied.
 * Returns the number of flows, or -1 when the datagram is malformed
 * (nothing is reported then; d->err says why). */
int nfv5_decode(const uint8_t *b, size_t len, const struct nfdecode *d);

/* sysUptime-relative time t_up (ms) to Unix ms, given the header's uptime
 * and export time.  Times after the uptime (a wrap or a bad clock) are
 * taken as the export time. */
int64_t nfv5_uptime_to_unix(uint32_t t_up, uint32_t sys_up, int64_t export_ms);

#endif
