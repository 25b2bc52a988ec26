/*
 * IP protocol numbers as IANA keywords, made safe for a value path
 * segment ("TP++" -> "TP--", "AX.25" -> "AX%2e25", "ISIS over IPv4" ->
 * "ISIS-over-IPv4"); numbers without a keyword become "proto<N>".
 */
#ifndef NETFLOWBOT_NFPROTO_H
#define NETFLOWBOT_NFPROTO_H

#include <stddef.h>
#include <stdint.h>

/* Writes the path-safe name of protocol p into out (at least 32 bytes
 * suffice); returns out. */
const char *nfproto_name(uint8_t p, char *out, size_t outlen);

#endif
