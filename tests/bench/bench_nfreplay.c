/*
 * A sendmmsg replayer for NetFlow/IPFIX benchmarks: sends the datagrams of
 * a file (records of [u16 length][u16 flows][bytes], big-endian, cycled)
 * to HOST:PORT at a set rate in flows per second (0 = as fast as
 * possible) until COUNT flows are sent.  Pacing is per batch of 32
 * datagrams against CLOCK_MONOTONIC.  Prints "sent D datagrams F flows in
 * S s (R flows/s)".
 * Usage: bench_nfreplay FILE HOST PORT RATE FLOWS
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xmalloc.h"

#define BATCH 32

struct dgram {
	uint8_t *data;
	size_t len;
	unsigned flows;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct dgram *
load(const char *path, size_t *n)
{
	struct dgram *d = NULL;
	uint8_t h[4];
	FILE *f = fopen(path, "rb");

	*n = 0;
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	while (fread(h, 1, 4, f) == 4) {
		size_t len = (size_t)h[0] << 8 | h[1];

		d = xreallocarray(d, *n + 1, sizeof(*d));
		d[*n].len = len;
		d[*n].flows = (unsigned)h[2] << 8 | h[3];
		d[*n].data = xmalloc(len ? len : 1);
		if (fread(d[*n].data, 1, len, f) != len) {
			fprintf(stderr, "%s: truncated\n", path);
			exit(1);
		}
		(*n)++;
	}
	fclose(f);
	if (*n == 0) {
		fprintf(stderr, "%s: no datagrams\n", path);
		exit(1);
	}
	return d;
}

static unsigned long long
arg_num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		fprintf(stderr, "not a number: %s\n", s);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in sa;
	struct dgram *d;
	unsigned long long rate, want, flows = 0, dgs = 0;
	size_t n, next = 0;
	double t0, t;
	int fd, i;

	if (argc != 6) {
		fprintf(
		    stderr, "usage: %s FILE HOST PORT RATE FLOWS\n", argv[0]);
		return 2;
	}
	d = load(argv[1], &n);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)arg_num(argv[3]));
	if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
		fprintf(stderr, "bad host %s\n", argv[2]);
		return 2;
	}
	rate = arg_num(argv[4]);
	want = arg_num(argv[5]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		perror("socket");
		return 1;
	}
	t0 = now_s();
	while (flows < want) {
		int k = 0, sent;
		unsigned long long bf = 0;

		for (i = 0; i < BATCH && flows + bf < want; i++) {
			struct dgram *g = &d[(next + (size_t)i) % n];

			iov[i].iov_base = g->data;
			iov[i].iov_len = g->len;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			bf += g->flows;
			k++;
		}
		sent = sendmmsg(fd, msgs, (unsigned)k, 0);
		if (sent <= 0) {
			if (errno == EINTR || errno == ENOBUFS ||
			    errno == ECONNREFUSED)
				continue;
			perror("sendmmsg");
			return 1;
		}
		for (i = 0; i < sent; i++)
			flows += d[(next + (size_t)i) % n].flows;
		dgs += (unsigned long long)sent;
		next = (next + (size_t)sent) % n;
		if (rate > 0) {
			double due = t0 + (double)flows / (double)rate;

			t = now_s();
			if (due > t) {
				struct timespec ts;
				double w = due - t;

				ts.tv_sec = (time_t)w;
				ts.tv_nsec =
				    (long)((w - (double)ts.tv_sec) * 1e9);
				nanosleep(&ts, NULL);
			}
		}
	}
	t = now_s() - t0;
	printf("sent %llu datagrams %llu flows in %.3f s (%.0f flows/s)\n", dgs,
	    flows, t, t > 0 ? (double)flows / t : 0.0);
	close(fd);
	for (next = 0; next < n; next++)
		free(d[next].data);
	free(d);
	return 0;
}
