/*
 * NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) messages: the header, then
 * template, options template and data sets.  Templates go to the cache in
 * d->cache; data records are decoded with them into flows (sampling
 * applied) or, for options templates, into the source's sampling state.
 */
#ifndef NETFLOWBOT_NFMSG_H
#define NETFLOWBOT_NFMSG_H

#include <stddef.h>
#include <stdint.h>

#include "nfflow.h"

#define NFMSG_V9_HEADER_LEN    20
#define NFMSG_IPFIX_HEADER_LEN 16

/* Decodes one v9 / IPFIX datagram.  Returns the number of flows handed to
 * d->cb, or -1 when the datagram (or one of its sets) is malformed: the
 * sets before the bad one still count, nothing after it is read, and
 * d->err says what was wrong. */
int nfmsg_decode_v9(const uint8_t *b, size_t len, const struct nfdecode *d);
int nfmsg_decode_ipfix(const uint8_t *b, size_t len, const struct nfdecode *d);
/* Dispatches on the version field: 5, 9 or 10 (counted in bad_version
 * otherwise). */
int nfmsg_decode(const uint8_t *b, size_t len, const struct nfdecode *d);

/* An NTP timestamp (seconds since 1900 . 2^-32 fraction) as Unix ms. */
int64_t nfmsg_ntp_to_unix_ms(uint64_t ntp);

#endif
