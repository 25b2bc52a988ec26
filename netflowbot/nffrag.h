/*
 * IP fragment reassembly for the capture inputs (--pcap, --pcap-live):
 * exporters send IPFIX datagrams larger than the path MTU, which arrive
 * as IPv4 or IPv6 fragments.  Bounded: NFFRAG_MAX datagrams in progress
 * (the oldest is given up for a new one), each at most 65535 bytes of
 * payload, given up NFFRAG_TIMEOUT_S after its first fragment.  Overlaps
 * and inconsistent lengths give the datagram up (RFC 5722).
 */
#ifndef NETFLOWBOT_NFFRAG_H
#define NETFLOWBOT_NFFRAG_H

#include <stddef.h>
#include <stdint.h>

#define NFFRAG_MAX       64
#define NFFRAG_TIMEOUT_S 10.0

/* One fragment: the datagram it belongs to (addresses as 16 bytes, IPv4
 * mapped; the IP identification; the upper-layer protocol), where its
 * bytes go and whether more follow. */
struct nffrag_piece {
	uint8_t src[16], dst[16];
	uint32_t id;
	uint8_t proto;
	uint32_t offset; /* bytes into the upper-layer payload */
	int more;        /* more fragments follow */
	const uint8_t *data;
	size_t len;
};

struct nffrag_stats {
	uint64_t fragments, reassembled, timed_out, evicted, bad;
};

struct nffrag;

/* A new, empty table; freed with nffrag_free. */
struct nffrag *nffrag_new(void);
/* Frees t and every datagram in progress; NULL is ignored. */
void nffrag_free(struct nffrag *t);
/* Adds fragment p seen at time now (seconds).  1 when it completes its
 * datagram: *out (valid until the next call) holds the upper-layer
 * payload of *outlen bytes; 0 when it is kept; -1 when it is refused
 * (bad offset or length, overlap: its datagram is given up). */
int nffrag_add(struct nffrag *t, const struct nffrag_piece *p, double now,
    const uint8_t **out, size_t *outlen);
/* Counters since nffrag_new. */
const struct nffrag_stats *nffrag_stats(const struct nffrag *t);

#endif
