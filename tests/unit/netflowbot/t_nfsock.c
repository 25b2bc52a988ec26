/*
 * Unit tests for the UDP listener: datagrams sent on loopback come back
 * in recvmmsg batches with their sender and bytes, and the pacing of
 * busy-ness adaptive reads stays within its bounds.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>
#include <unistd.h>

#include "../../../netflowbot/nfsock.h"
#include "../t.h"

struct t_seen {
	size_t dgrams, calls, max_batch, bytes_ok;
	int src_ok;
};

static void
t_on_batch(const struct nfsock_dgram *dg, size_t n, void *arg)
{
	static const uint8_t lo[16] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
	struct t_seen *s = arg;
	size_t i;

	s->calls++;
	if (n > s->max_batch)
		s->max_batch = n;
	for (i = 0; i < n; i++) {
		size_t want = 10 + (s->dgrams % 50);

		if (memcmp(dg[i].src, lo, 16) != 0)
			s->src_ok = 0;
		if (dg[i].len == want && dg[i].data[0] == (uint8_t)s->dgrams)
			s->bytes_ok++;
		s->dgrams++;
	}
}

T_TEST(nfsock_batches_from_loopback)
{
	char err[128];
	struct nfsock *s =
	    nfsock_open("127.0.0.1", 0, 1 << 20, err, sizeof(err));
	struct sockaddr_in to;
	struct t_seen seen;
	uint8_t buf[64];
	size_t i, total = 0;
	int fd, tries;

	T_ASSERT(s != NULL);
	T_ASSERT(nfsock_port(s) > 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	T_ASSERT(fd >= 0);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons((uint16_t)nfsock_port(s));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 3 * NFSOCK_BATCH + 5; i++) {
		memset(buf, 0, sizeof(buf));
		buf[0] = (uint8_t)i;
		T_ASSERT(sendto(fd, buf, 10 + i % 50, 0, (struct sockaddr *)&to,
		             sizeof(to)) == (ssize_t)(10 + i % 50));
	}
	memset(&seen, 0, sizeof(seen));
	seen.src_ok = 1;
	/* loopback delivers at once; a few tries in case it does not */
	for (tries = 0; tries < 100 && total < i; tries++) {
		total += nfsock_drain(s, 64, t_on_batch, &seen);
		if (total < i)
			usleep(10000);
	}
	T_EQ_INT(total, i);
	T_EQ_INT(seen.dgrams, i);
	T_EQ_INT(seen.bytes_ok, i);
	T_ASSERT(seen.src_ok);
	T_ASSERT(seen.max_batch <= NFSOCK_BATCH);
	T_ASSERT(seen.calls >= 4); /* more than a batch takes several */
	T_EQ_INT(nfsock_received(s), i);
	T_EQ_INT(nfsock_cost(s), i * NFSOCK_DGRAM_COST(60));
	T_EQ_INT(nfsock_drops(s), 0);
	T_EQ_INT(nfsock_drain(s, 64, t_on_batch, &seen), 0); /* empty */
	close(fd);
	nfsock_close(s);
}

T_TEST(nfsock_pace_bounds)
{
	int big = 32 << 20; /* a quarter: 8 MiB, 2048 datagrams of 4 KiB */
	uint64_t d = NFSOCK_DGRAM_COST(1300);

	T_EQ_INT(d, 4096);
	T_EQ_INT(NFSOCK_DGRAM_COST(60000), 180000);
	T_EQ_INT(NFSOCK_DGRAM_COST(1400), 4200);
	/* off, or a buffer too small for a burst: read at once */
	T_EQ_INT(nfsock_pace_ms(big, 100 * d, 10, 0), 0);
	T_EQ_INT(nfsock_pace_ms((4 << 20) - 1, d, 1000, 100), 0);
	/* few datagrams: the longest wait */
	T_EQ_INT(nfsock_pace_ms(big, 0, 10, 100), 100);
	T_EQ_INT(nfsock_pace_ms(big, 10 * d, 10, 100), 100);
	/* 4096 datagrams in 100 ms: 2048 fit in 50 ms */
	T_EQ_INT(nfsock_pace_ms(big, 4096 * d, 100, 100), 50);
	/* 40960 in 100 ms (400k/s): 5 ms */
	T_EQ_INT(nfsock_pace_ms(big, 40960 * d, 100, 100), 5);
	/* large datagrams cost more: 4096 of 60,000 bytes in 100 ms */
	T_EQ_INT(
	    nfsock_pace_ms(big, 4096 * NFSOCK_DGRAM_COST(60000), 100, 100), 1);
	/* faster than a quarter of the buffer per ms: no wait */
	T_EQ_INT(nfsock_pace_ms(big, 1000000 * d, 100, 100), 0);
	/* an elapsed time of 0 counts as 1 ms */
	T_EQ_INT(nfsock_pace_ms(big, 1024 * d, 0, 100), 2);
}
