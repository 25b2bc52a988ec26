/*
 * One decoded flow record, as every decoder (NetFlow v5, v9, IPFIX) hands
 * it to the aggregation, and the per-datagram context the decoders share:
 * the exporter's address, the clock, the flow callback and the counters.
 */
#ifndef NETFLOWBOT_NFFLOW_H
#define NETFLOWBOT_NFFLOW_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum nfflow_dir {
	NFFLOW_INGRESS = 0,
	NFFLOW_EGRESS = 1,
};

struct nfflow {
	uint8_t af;      /* 4 or 6; 0 when the record had no addresses */
	uint8_t proto;   /* IP protocol number */
	uint8_t dir;     /* enum nfflow_dir (ingress unless the record says) */
	uint8_t src[16]; /* IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint16_t sport, dport;
	uint32_t in_if, out_if;
	uint64_t bytes, packets;   /* sampling already applied */
	uint64_t sampling;         /* the rate that was applied (>= 1) */
	int64_t first_ms, last_ms; /* Unix ms; 0 when unknown */
};

/* Counters of what the decoders saw; every field only grows. */
struct nfstats {
	uint64_t datagrams, flows;
	uint64_t malformed;       /* datagrams or sets rejected as malformed */
	uint64_t bad_version;     /* not 5, 9 or 10 */
	uint64_t no_template;     /* data sets whose template is unknown */
	uint64_t templates_added; /* new or redefined templates */
	uint64_t templates_bad;   /* refused templates */
	uint64_t templates_evicted; /* dropped for memory or expiry */
	uint64_t templates_withdrawn;
	uint64_t sources_refused;  /* (exporter, domain) beyond the cap */
	uint64_t options_records;  /* options data records read */
	uint64_t pending_kept;     /* data sets kept for a later template */
	uint64_t pending_replayed; /* ... and decoded when it came */
};

struct nftpl_cache;

typedef void nfflow_cb(const struct nfflow *f, void *arg);

/* What one datagram is decoded with.  exporter is the sender's address as
 * 16 bytes (IPv4 mapped to ::ffff:a.b.c.d); now_s is the collector's clock
 * (template expiry); sampling_override > 0 replaces every sampling rate. */
struct nfdecode {
	const uint8_t *exporter;
	int64_t now_s;
	struct nftpl_cache *cache; /* v9/IPFIX only */
	uint64_t sampling_override;
	nfflow_cb *cb;
	void *arg;
	struct nfstats *st;
	char *err; /* the first error of the datagram, if errlen > 0 */
	size_t errlen;
};

/* Reads an unsigned big-endian integer of 1 to 8 bytes (the first 8 of
 * a longer field).  Inline, with the common widths as single loads: it
 * is on the per-field path and most template widths are only known at
 * run time. */
static inline uint64_t
nfflow_be(const uint8_t *p, size_t len)
{
	uint64_t v = 0;
	uint32_t v4;
	uint16_t v2;
	size_t i;

	switch (len) {
	case 1:
		return p[0];
	case 2:
		memcpy(&v2, p, 2);
		return be16toh(v2);
	case 4:
		memcpy(&v4, p, 4);
		return be32toh(v4);
	case 8:
		memcpy(&v, p, 8);
		return be64toh(v);
	default:
		break;
	}
	for (i = 0; i < len && i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}
/* Maps a 4-byte IPv4 address to the 16-byte form used as exporter key. */
void nfflow_map4(const uint8_t *v4, uint8_t out[16]);
/* Records the first error of a datagram in d->err (printf-style). */
void nfflow_err(const struct nfdecode *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
