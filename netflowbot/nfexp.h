/*
 * The exporters the collector has heard from, bounded: per exporter the
 * counters, its log rate limiter and whether any account knows it.  A new
 * exporter beyond the cap is refused (its datagrams are not parsed).
 */
#ifndef NETFLOWBOT_NFEXP_H
#define NETFLOWBOT_NFEXP_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

struct nfexp {
	struct nfexp *next;
	uint8_t addr[16];
	char text[48]; /* the address as text (IPv4 dotted) */
	int is_v4;
	uint64_t datagrams, flows, malformed, unmatched_flows;
	int64_t last_s;
	int told_unknown; /* "not an entity" was logged */
	double tokens;    /* datagram token bucket (nfexp_allow) */
	int64_t refill_ms;
	uint64_t limited; /* datagrams over the rate, not parsed */
	struct log_limit lim;
};

struct nfexp_table;

/* A new empty table of at most max exporters (nfexp_table_free). */
struct nfexp_table *nfexp_table_new(size_t max);
/* Frees t and its exporters; NULL is ignored. */
void nfexp_table_free(struct nfexp_table *t);
/* Finds or adds the exporter; NULL (counted) beyond the cap. */
struct nfexp *nfexp_get(struct nfexp_table *t, const uint8_t addr[16]);
/* Exporters refused because of the cap; exporters held. */
uint64_t nfexp_refused(const struct nfexp_table *t);
size_t nfexp_count(const struct nfexp_table *t);
/* Calls fn for every exporter. */
void nfexp_each(
    struct nfexp_table *t, void (*fn)(struct nfexp *e, void *arg), void *arg);
/* The exporter's token bucket: 1 when one more datagram may be parsed at
 * now_ms under rate datagrams per second (bursts up to one second's
 * worth), else 0 (counted in e->limited).  rate 0: no limit. */
int nfexp_allow(struct nfexp *e, uint64_t rate, int64_t now_ms);
/* Writes addr (16 bytes, IPv4 mapped) as text; returns 1 for IPv4. */
int nfexp_addr_text(const uint8_t addr[16], char *out, size_t outlen);
/* Parses an IPv4 or IPv6 address into the 16-byte form; -1 if neither. */
int nfexp_addr_parse(const char *text, uint8_t out[16]);

#endif
