/*
 * Export packets from libpcap: the UDP payloads of a capture file (offline
 * replay, as fast as possible) or of a live capture on an interface, with
 * each packet's source address and capture time.  IPv4 and IPv6
 * fragments of UDP datagrams are reassembled (nffrag.h) when the filter
 * lets them through, as the default one ("udp") does.
 */
#ifndef NETFLOWBOT_NFPCAP_H
#define NETFLOWBOT_NFPCAP_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

/* One UDP datagram found in a frame. */
struct nfpcap_dgram {
	uint8_t src[16]; /* IPv4 mapped to ::ffff:a.b.c.d */
	uint16_t dport;
	const uint8_t *payload; /* into the frame */
	size_t len;
	double ts; /* capture time, Unix s */
};

typedef void nfpcap_cb(const struct nfpcap_dgram *dg, void *arg);

/* Finds the UDP datagram in a frame of link type dlt (libpcap DLT_*):
 * Ethernet (with VLAN tags), Linux cooked v1/v2, raw IP, BSD loopback.
 * 0 when found (dg filled, ts left alone), -1 when the frame is no
 * complete IPv4/IPv6 UDP datagram. */
int nfpcap_parse(int dlt, const uint8_t *frame, size_t caplen,
    struct nfpcap_dgram *dg) BOT_WUR;

struct nffrag_piece;
/* As nfpcap_parse, but 1 when the frame holds a fragment of a UDP
 * datagram (IPv4, or IPv6 with UDP after the fragment header), fr then
 * filled (dg->src too), for nffrag_add. */
int nfpcap_parse_frag(int dlt, const uint8_t *frame, size_t caplen,
    struct nfpcap_dgram *dg, struct nffrag_piece *fr) BOT_WUR;

/* Replays file: every UDP datagram matching the BPF filter (NULL or
 * "udp": UDP and IPv6 fragments) goes to cb in file order, fragmented
 * ones once complete.  Returns the number of datagrams, or -1 with
 * err (file unreadable, bad filter). */
long nfpcap_replay(const char *file, const char *filter, nfpcap_cb *cb,
    void *arg, char *err, size_t errlen);

struct nfpcap_live;
/* Opens a live capture on iface (filter as for nfpcap_replay; fragments
 * reassembled), non-blocking; NULL with err on failure. */
struct nfpcap_live *nfpcap_live_open(
    const char *iface, const char *filter, char *err, size_t errlen);
/* The descriptor to poll for input. */
int nfpcap_live_fd(const struct nfpcap_live *lv);
/* Hands the packets waiting now to cb; returns how many (-1 on error). */
int nfpcap_live_drain(struct nfpcap_live *lv, nfpcap_cb *cb, void *arg);
/* Packets the kernel dropped (pcap_stats), or 0. */
uint64_t nfpcap_live_drops(struct nfpcap_live *lv);
/* Ends the capture and frees lv; NULL is ignored. */
void nfpcap_live_close(struct nfpcap_live *lv);

#endif
