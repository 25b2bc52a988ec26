/*
 * recvmmsg over NFSOCK_BATCH buffers of 65535 bytes each.  The kernel's
 * drop counter arrives as an SO_RXQ_OVFL control message (a running
 * uint32 total) with each datagram.
 */
#define _GNU_SOURCE
#include "nfsock.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfflow.h"
#include "xmalloc.h"

#define NFSOCK_BUF 65535

struct nfsock {
	int fd;
	int port;
	int rcvbuf;
	uint32_t ovfl_last;
	uint64_t drops, truncated, received, cost;
	struct mmsghdr msgs[NFSOCK_BATCH];
	struct iovec iov[NFSOCK_BATCH];
	struct sockaddr_storage from[NFSOCK_BATCH];
	char ctl[NFSOCK_BATCH][64];
	struct nfsock_dgram dg[NFSOCK_BATCH];
	uint8_t *bufs;
};

struct nfsock *
nfsock_open(
    const char *bind_addr, int port, int rcvbuf, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	socklen_t sl;
	struct nfsock *s;
	int fd = -1, on = 1, off = 0, v;
	size_t i;

	memset(&ss, 0, sizeof(ss));
	if (bind_addr == NULL || bind_addr[0] == '\0' ||
	    inet_pton(AF_INET6, bind_addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*s6);
	} else if (inet_pton(AF_INET, bind_addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		sl = sizeof(*s4);
	} else {
		snprintf(err, errlen, "\"%s\" is not an IP address", bind_addr);
		return NULL;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 && ss.ss_family == AF_INET6 &&
	    (bind_addr == NULL || bind_addr[0] == '\0')) {
		/* no IPv6 on this host: IPv4 only */
		memset(&ss, 0, sizeof(ss));
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		sl = sizeof(*s4);
		fd = socket(
		    AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(
		    fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (setsockopt(
	        fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) == -1)
		(void)setsockopt(
		    fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1) {
		snprintf(
		    err, errlen, "bind port %d: %s", port, strerror(errno));
		close(fd);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->fd = fd;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		s->port = ntohs(
		    ss.ss_family == AF_INET6 ? s6->sin6_port : s4->sin_port);
	sl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &sl) == 0)
		s->rcvbuf = v / 2; /* Linux reports twice the setting */
	s->bufs = xmalloc((size_t)NFSOCK_BATCH * NFSOCK_BUF);
	for (i = 0; i < NFSOCK_BATCH; i++) {
		struct msghdr *mh = &s->msgs[i].msg_hdr;

		s->iov[i].iov_base = s->bufs + i * NFSOCK_BUF;
		s->iov[i].iov_len = NFSOCK_BUF;
		/* set once: each read resets only what the kernel changes */
		mh->msg_name = &s->from[i];
		mh->msg_iov = &s->iov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = s->ctl[i];
	}
	return s;
}

int
nfsock_fd(const struct nfsock *s)
{
	return s->fd;
}

int
nfsock_port(const struct nfsock *s)
{
	return s->port;
}

int
nfsock_rcvbuf(const struct nfsock *s)
{
	return s->rcvbuf;
}

static void
nfsock_addr(const struct sockaddr_storage *ss, uint8_t out[16])
{
	if (ss->ss_family == AF_INET6)
		memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	else
		nfflow_map4((const uint8_t *)&((const struct sockaddr_in *)ss)
		                ->sin_addr,
		    out);
}

static void
nfsock_ovfl(struct nfsock *s, struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SO_RXQ_OVFL &&
		    c->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
			uint32_t v;

			memcpy(&v, CMSG_DATA(c), sizeof(v));
			s->drops += (uint32_t)(v - s->ovfl_last);
			s->ovfl_last = v;
		}
	}
}

size_t
nfsock_drain(struct nfsock *s, int max_batches, nfsock_cb *cb, void *arg)
{
	size_t total = 0, k;
	int b, n, i;

	for (b = 0; b < max_batches; b++) {
		for (i = 0; i < NFSOCK_BATCH; i++) {
			struct msghdr *mh = &s->msgs[i].msg_hdr;

			mh->msg_namelen = sizeof(s->from[i]);
			mh->msg_controllen = sizeof(s->ctl[i]);
		}
		n = recvmmsg(s->fd, s->msgs, NFSOCK_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (i = 0, k = 0; i < n; i++) {
			struct msghdr *mh = &s->msgs[i].msg_hdr;

			nfsock_ovfl(s, mh);
			s->cost +=
			    NFSOCK_DGRAM_COST((uint64_t)s->msgs[i].msg_len);
			if (mh->msg_flags & MSG_TRUNC) {
				s->truncated++;
				continue;
			}
			nfsock_addr(&s->from[i], s->dg[k].src);
			s->dg[k].data = s->iov[i].iov_base;
			s->dg[k].len = s->msgs[i].msg_len;
			k++;
		}
		if (k > 0)
			cb(s->dg, k, arg);
		total += (size_t)n;
		s->received += (uint64_t)n;
		if (n < NFSOCK_BATCH)
			break;
	}
	return total;
}

int64_t
nfsock_pace_ms(int rcvbuf, uint64_t cost, int64_t elapsed_ms, int64_t max_ms)
{
	uint64_t room;

	if (max_ms <= 0 || rcvbuf < (4 << 20))
		return 0;
	room = (uint64_t)rcvbuf / 4;
	if (elapsed_ms < 1)
		elapsed_ms = 1;
	/* wait w ms where cost * w / elapsed_ms <= room */
	if (cost == 0 || room * (uint64_t)elapsed_ms / cost >= (uint64_t)max_ms)
		return max_ms;
	return (int64_t)(room * (uint64_t)elapsed_ms / cost);
}

uint64_t
nfsock_received(const struct nfsock *s)
{
	return s->received;
}

uint64_t
nfsock_cost(const struct nfsock *s)
{
	return s->cost;
}

uint64_t
nfsock_drops(const struct nfsock *s)
{
	return s->drops;
}

uint64_t
nfsock_truncated(const struct nfsock *s)
{
	return s->truncated;
}

void
nfsock_close(struct nfsock *s)
{
	if (s == NULL)
		return;
	close(s->fd);
	free(s->bufs);
	free(s);
}
