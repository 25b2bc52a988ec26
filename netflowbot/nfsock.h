/*
 * The UDP listener for exports: one socket (IPv6 with IPv4-mapped
 * addresses when the bind address allows, else IPv4), a large receive
 * buffer, kernel drop counting (SO_RXQ_OVFL) and batched reads
 * (recvmmsg).
 */
#ifndef NETFLOWBOT_NFSOCK_H
#define NETFLOWBOT_NFSOCK_H

#include <stddef.h>
#include <stdint.h>

#define NFSOCK_BATCH 64
/* Receive-buffer bytes a queued datagram is taken to use when pacing:
 * the kernel's skb truesize, 2-4 KiB for an MTU-sized datagram, about
 * 2.7 times the length for one reassembled from MTU-sized fragments. */
#define NFSOCK_DGRAM_COST(len) ((len)*3 > 4096 ? (len)*3 : 4096)

struct nfsock;

/* One datagram of a batch: its sender (IPv4 mapped) and its bytes,
 * valid until the callback returns. */
struct nfsock_dgram {
	uint8_t src[16];
	const uint8_t *data;
	size_t len;
};

/* Gets the n (>= 1) datagrams one recvmmsg call returned, in order. */
typedef void nfsock_cb(const struct nfsock_dgram *dg, size_t n, void *arg);

/* Binds bind_addr (NULL or "": all addresses, IPv6 and IPv4) port (0:
 * any) with a receive buffer of rcvbuf bytes (SO_RCVBUFFORCE when allowed,
 * else SO_RCVBUF up to the system limit).  NULL with err on failure. */
struct nfsock *nfsock_open(
    const char *bind_addr, int port, int rcvbuf, char *err, size_t errlen);
/* The socket, for the loop to watch. */
int nfsock_fd(const struct nfsock *s);
/* The bound port and the receive buffer the kernel granted. */
int nfsock_port(const struct nfsock *s);
int nfsock_rcvbuf(const struct nfsock *s);
/* Reads what is queued (up to max_batches recvmmsg calls of up to
 * NFSOCK_BATCH datagrams) and hands each call's datagrams to cb at once,
 * so per-batch work (clock reads, sender lookups) is done once per call.
 * Truncated datagrams are counted, not handed over.  Returns the number
 * of datagrams read. */
size_t nfsock_drain(
    struct nfsock *s, int max_batches, nfsock_cb *cb, void *arg);
/* Busy-ness adaptive reading: how long (ms, 0 to max_ms) the caller may
 * leave the socket unread after a drain, so the next drain finds a large
 * batch, given that datagrams costing cost bytes of receive buffer
 * (NFSOCK_DGRAM_COST each) arrived over the last elapsed_ms: at that
 * rate they must fill at most a quarter of rcvbuf.  0 when rcvbuf is
 * below 4 MiB (no room for a burst) or max_ms is 0. */
int64_t nfsock_pace_ms(
    int rcvbuf, uint64_t cost, int64_t elapsed_ms, int64_t max_ms);
/* Datagrams read so far (truncated ones included), and their cost in
 * receive-buffer bytes (NFSOCK_DGRAM_COST). */
uint64_t nfsock_received(const struct nfsock *s);
uint64_t nfsock_cost(const struct nfsock *s);
/* Datagrams the kernel dropped (SO_RXQ_OVFL) and datagrams cut short
 * (MSG_TRUNC) so far. */
uint64_t nfsock_drops(const struct nfsock *s);
uint64_t nfsock_truncated(const struct nfsock *s);
/* Closes the socket and frees s; NULL is ignored. */
void nfsock_close(struct nfsock *s);

#endif
