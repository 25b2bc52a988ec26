/*
 * A small non-blocking SNMPv2c responder for benchmarks and tests: many
 * agents, one UDP socket each on 127.0.0.1 (ephemeral ports, written to a
 * file), served by one poll loop.  Each agent holds sysUpTime.0 and a
 * 48-row ifTable slice: ifDescr (.2) and ifInOctets (.10, a Counter32
 * that starts near 2^32 and grows 1,000,000 per second, so it wraps).
 * Answers GET, GETNEXT and GETBULK after a per-agent delay, drops a given
 * share of requests, and with -r S "reboots" every agent every S seconds
 * (sysUpTime and the counters start over); with -L K a walk never gets
 * past the K-th object (the agent answers it again: a non-increasing
 * OID, as broken agents do); with -E S every GETNEXT and GETBULK gets
 * error-status S at varbind 1; with -T N a request whose answer would
 * hold more than N varbinds gets tooBig (as agents with a small message
 * size do); with -B GETBULK is never answered (agents without it).
 * Only what a poller needs:
 * community is not checked, no SETs, no v1/v3.
 *
 *   snmpagent -n AGENTS [-d DELAY_MS] [-l LOSS_PERCENT] [-r REBOOT_S]
 *             [-R ROWS] [-L K] [-E STATUS] [-T N] [-B] -o PORTFILE
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define AG_MAX_OID   32
#define AG_MAX_ROWS  1000
#define AG_BUF       65507
#define AG_MAX_VB    1500
#define AG_QUEUE_CAP 65536

struct ag_oid {
	uint32_t v[AG_MAX_OID];
	size_t n;
};

/* A delayed answer. */
struct ag_pending {
	int64_t due_ms;
	int fd;
	struct sockaddr_in to;
	size_t len;
	unsigned char *data;
};

static int ag_rows = 48;
static int ag_delay_ms;
static int ag_loss_pct;
static int ag_reboot_s;
static int ag_loop_at;
static int ag_errstat;
static int ag_toobig;
static int ag_nobulk;
static int64_t ag_start_ms;
static volatile sig_atomic_t ag_stop;
static struct ag_pending *ag_queue;
static size_t ag_qhead, ag_qlen;

static int64_t
ag_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
ag_on_signal(int sig)
{
	(void)sig;
	ag_stop = 1;
}

/* ---- BER reading ---- */

struct ag_rd {
	const unsigned char *p;
	size_t n;
};

/* Reads a tag and length; *body points at the contents. */
static int
ag_tlv(struct ag_rd *r, int *tag, struct ag_rd *body)
{
	size_t len = 0, k, nb;

	if (r->n < 2)
		return -1;
	*tag = r->p[0];
	len = r->p[1];
	k = 2;
	if (len & 0x80) {
		nb = len & 0x7f;
		if (nb == 0 || nb > 3 || r->n < 2 + nb)
			return -1;
		len = 0;
		for (k = 0; k < nb; k++)
			len = (len << 8) | r->p[2 + k];
		k = 2 + nb;
	}
	if (r->n - k < len)
		return -1;
	body->p = r->p + k;
	body->n = len;
	r->p += k + len;
	r->n -= k + len;
	return 0;
}

static int
ag_int(struct ag_rd *r, long *v)
{
	struct ag_rd b;
	int tag;
	size_t i;

	if (ag_tlv(r, &tag, &b) != 0 || tag != 0x02 || b.n == 0 || b.n > 8)
		return -1;
	*v = (b.p[0] & 0x80) ? -1 : 0;
	for (i = 0; i < b.n; i++)
		*v = (long)(((unsigned long)*v << 8) | b.p[i]);
	return 0;
}

static int
ag_read_oid(struct ag_rd *b, struct ag_oid *o)
{
	size_t i = 0;
	uint32_t v = 0;

	o->n = 0;
	if (b->n == 0)
		return -1;
	o->v[o->n++] = b->p[0] / 40;
	o->v[o->n++] = b->p[0] % 40;
	for (i = 1; i < b->n; i++) {
		v = (v << 7) | (b->p[i] & 0x7f);
		if (!(b->p[i] & 0x80)) {
			if (o->n == AG_MAX_OID)
				return -1;
			o->v[o->n++] = v;
			v = 0;
		}
	}
	return 0;
}

/* ---- BER writing (constructed lengths always in 3 bytes) ---- */

struct ag_wr {
	unsigned char *p;
	size_t n, cap;
	int full;
};

static void
ag_put(struct ag_wr *w, const void *d, size_t n)
{
	if (w->n + n > w->cap) {
		w->full = 1;
		return;
	}
	memcpy(w->p + w->n, d, n);
	w->n += n;
}

static size_t
ag_open(struct ag_wr *w, int tag)
{
	unsigned char h[4] = {(unsigned char)tag, 0x82, 0, 0};

	ag_put(w, h, 4);
	return w->n;
}

static void
ag_close(struct ag_wr *w, size_t start)
{
	size_t len = w->n - start;

	if (w->full)
		return;
	w->p[start - 2] = (unsigned char)(len >> 8);
	w->p[start - 1] = (unsigned char)len;
}

static void
ag_prim(struct ag_wr *w, int tag, const unsigned char *d, size_t n)
{
	unsigned char h[2] = {(unsigned char)tag, (unsigned char)n};

	ag_put(w, h, 2);
	ag_put(w, d, n);
}

static void
ag_uint(struct ag_wr *w, int tag, uint64_t v)
{
	unsigned char b[9];
	size_t n = 0, i;

	b[0] = 0;
	for (i = 0; i < 8; i++) {
		unsigned char c = (unsigned char)(v >> (56 - 8 * i));

		if (n == 0 && c == 0)
			continue;
		if (n == 0 && (c & 0x80))
			b[n++] = 0;
		b[n++] = c;
	}
	if (n == 0)
		n = 1;
	ag_prim(w, tag, b, n);
}

static void
ag_oid_put(struct ag_wr *w, const struct ag_oid *o)
{
	unsigned char b[AG_MAX_OID * 5 + 2];
	size_t n = 0, i;

	b[n++] = (unsigned char)(o->v[0] * 40 + o->v[1]);
	for (i = 2; i < o->n; i++) {
		uint32_t v = o->v[i];
		unsigned char t[5];
		int k = 0;

		do {
			t[k++] = (unsigned char)(v & 0x7f);
			v >>= 7;
		} while (v != 0);
		while (k > 0) {
			k--;
			b[n++] = (unsigned char)(t[k] | (k ? 0x80 : 0));
		}
	}
	ag_prim(w, 0x06, b, n);
}

/* ---- the agent's MIB ---- */

static const uint32_t ag_uptime[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
static const uint32_t ag_iftable[] = {1, 3, 6, 1, 2, 1, 2, 2, 1};

static int
ag_cmp(const struct ag_oid *a, const uint32_t *b, size_t bn)
{
	size_t i, n = a->n < bn ? a->n : bn;

	for (i = 0; i < n; i++)
		if (a->v[i] != b[i])
			return a->v[i] < b[i] ? -1 : 1;
	return a->n < bn ? -1 : a->n > bn;
}

/* The k-th object in OID order: 0 sysUpTime, then ifDescr rows, then
 * ifInOctets rows. */
static void
ag_object(int k, struct ag_oid *o)
{
	if (k == 0) {
		memcpy(o->v, ag_uptime, sizeof(ag_uptime));
		o->n = 9;
		return;
	}
	memcpy(o->v, ag_iftable, sizeof(ag_iftable));
	o->v[9] = k <= ag_rows ? 2 : 10;
	o->v[10] = (uint32_t)(k <= ag_rows ? k : k - ag_rows);
	o->n = 11;
}

static int
ag_n_objects(void)
{
	return 1 + 2 * ag_rows;
}

/* Index of the first object > o (next) or == o (exact), or -1. */
static int
ag_find(const struct ag_oid *o, int next)
{
	int lo = 0, hi = ag_n_objects();

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		struct ag_oid m;
		int c;

		ag_object(mid, &m);
		c = ag_cmp(o, m.v, m.n);
		if (c == 0)
			return next ? (mid + 1 < ag_n_objects() ? mid + 1 : -1)
			            : mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return next && lo < ag_n_objects() ? lo : -1;
}

/* The object a GETNEXT from o answers: with -L, never past the K-th. */
static int
ag_next(const struct ag_oid *o)
{
	int k = ag_find(o, 1);

	if (ag_loop_at > 0 && (k < 0 || k > ag_loop_at))
		k = ag_loop_at;
	return k;
}

static void
ag_value(struct ag_wr *w, int agent, int k)
{
	double up_s = (double)(ag_now_ms() - ag_start_ms) / 1000.0;
	char s[32];

	if (ag_reboot_s > 0)
		up_s -= (double)ag_reboot_s * (int)(up_s / ag_reboot_s);
	if (k == 0) {
		ag_uint(w, 0x43, (uint64_t)(up_s * 100));
	} else if (k <= ag_rows) {
		int n = snprintf(s, sizeof(s), "eth%d/%d", agent, k);

		ag_prim(w, 0x04, (const unsigned char *)s, (size_t)n);
	} else {
		uint64_t c = UINT64_C(4294967295) - 5000000u +
		    (uint64_t)(up_s * 1000000.0) + (uint64_t)k;

		ag_uint(w, 0x41, c & 0xffffffffu);
	}
}

static void
ag_varbind(struct ag_wr *w, int agent, const struct ag_oid *name, int k)
{
	size_t vb = ag_open(w, 0x30);
	struct ag_oid o;

	if (k < 0) {
		ag_oid_put(w, name);
		ag_prim(w, 0x82, NULL, 0); /* endOfMibView */
	} else {
		ag_object(k, &o);
		ag_oid_put(w, &o);
		ag_value(w, agent, k);
	}
	ag_close(w, vb);
}

/* Builds the answer to one request; 0 and *len, or -1 to ignore it. */
static int
ag_answer(int agent, const unsigned char *req, size_t reqlen,
    unsigned char *out, size_t *len)
{
	struct ag_rd r = {req, reqlen}, msg, pdu, vbl, vb, name;
	struct ag_oid oids[AG_MAX_VB];
	struct ag_wr w = {out, 0, AG_BUF, 0};
	long version, reqid, nonrep, maxrep;
	int tag, ptag;
	size_t n = 0, i, m, seq, p, l, es;
	const unsigned char *community;
	size_t community_len;

	if (ag_tlv(&r, &tag, &msg) != 0 || tag != 0x30 ||
	    ag_int(&msg, &version) != 0 || (version != 0 && version != 1))
		return -1;
	if (ag_tlv(&msg, &tag, &name) != 0 || tag != 0x04)
		return -1;
	community = name.p;
	community_len = name.n;
	if (ag_tlv(&msg, &ptag, &pdu) != 0 ||
	    (ptag != 0xa0 && ptag != 0xa1 && ptag != 0xa5))
		return -1;
	if (ag_int(&pdu, &reqid) != 0 || ag_int(&pdu, &nonrep) != 0 ||
	    ag_int(&pdu, &maxrep) != 0 || ag_tlv(&pdu, &tag, &vbl) != 0)
		return -1;
	while (vbl.n > 0 && n < AG_MAX_VB) {
		if (ag_tlv(&vbl, &tag, &vb) != 0 ||
		    ag_tlv(&vb, &tag, &name) != 0 || tag != 0x06 ||
		    ag_read_oid(&name, &oids[n]) != 0)
			return -1;
		n++;
	}
	if (ptag == 0xa5 && (version == 0 || ag_nobulk))
		return -1; /* no GETBULK in v1 (nor with -B) */
	if (ptag != 0xa5) {
		nonrep = (long)n;
		maxrep = 0;
	}
	if (nonrep < 0)
		nonrep = 0;
	if ((size_t)nonrep > n)
		nonrep = (long)n;
	if (maxrep < 0)
		maxrep = 0;
	if (ag_toobig > 0 &&
	    (size_t)nonrep + (size_t)maxrep * (n - (size_t)nonrep) >
	        (size_t)ag_toobig) {
		/* tooBig (1), error-index 0 and no varbinds. */
		seq = ag_open(&w, 0x30);
		ag_uint(&w, 0x02, (uint64_t)version);
		ag_prim(&w, 0x04, community, community_len);
		p = ag_open(&w, 0xa2);
		ag_uint(&w, 0x02, (uint64_t)reqid & 0x7fffffff);
		ag_uint(&w, 0x02, 1);
		ag_uint(&w, 0x02, 0);
		l = ag_open(&w, 0x30);
		ag_close(&w, l);
		ag_close(&w, p);
		ag_close(&w, seq);
		if (w.full)
			return -1;
		*len = w.n;
		return 0;
	}

	seq = ag_open(&w, 0x30);
	ag_uint(&w, 0x02, (uint64_t)version);
	ag_prim(&w, 0x04, community, community_len);
	p = ag_open(&w, 0xa2);
	ag_uint(&w, 0x02, (uint64_t)reqid & 0x7fffffff);
	es = w.n + 2;
	ag_uint(&w, 0x02, 0);
	ag_uint(&w, 0x02, 0);
	l = ag_open(&w, 0x30);
	for (i = 0; i < (size_t)nonrep; i++) {
		int k = ptag != 0xa0 ? ag_next(&oids[i]) : ag_find(&oids[i], 0);

		/* v1 has no endOfMibView: noSuchName at that varbind. */
		if (k < 0 && version == 0 && !w.full && out[es] == 0 &&
		    i < 127) {
			out[es] = 2;
			out[es + 3] = (unsigned char)(i + 1);
		}
		ag_varbind(&w, agent, &oids[i], k);
	}
	for (m = 0; m < (size_t)maxrep && n > (size_t)nonrep; m++) {
		for (i = (size_t)nonrep; i < n; i++) {
			int k = ag_next(&oids[i]);
			size_t before = w.n;

			ag_varbind(&w, agent, &oids[i], k);
			if (w.full || w.n > 1400 * 40) {
				w.n = before; /* the answer is long enough */
				w.full = 0;
				m = (size_t)maxrep;
				break;
			}
			if (k >= 0)
				ag_object(k, &oids[i]);
		}
	}
	if (ag_errstat > 0 && ptag != 0xa0 && !w.full) {
		out[es] = (unsigned char)ag_errstat;
		out[es + 3] = 1;
	}
	ag_close(&w, l);
	ag_close(&w, p);
	ag_close(&w, seq);
	if (w.full)
		return -1;
	*len = w.n;
	return 0;
}

static void
ag_send_due(int64_t now)
{
	while (ag_qlen > 0 && ag_queue[ag_qhead].due_ms <= now) {
		struct ag_pending *q = &ag_queue[ag_qhead];
		ssize_t s = sendto(q->fd, q->data, q->len, 0,
		    (struct sockaddr *)&q->to, sizeof(q->to));

		(void)s;
		free(q->data);
		ag_qhead = (ag_qhead + 1) % AG_QUEUE_CAP;
		ag_qlen--;
	}
}

int
main(int argc, char **argv)
{
	struct pollfd *pfd;
	const char *portfile = NULL;
	static unsigned char in[AG_BUF], out[AG_BUF];
	int n_agents = 0, opt, i;
	FILE *f;

	while ((opt = getopt(argc, argv, "n:d:l:r:R:L:E:T:Bo:")) != -1) {
		switch (opt) {
		case 'n':
			n_agents = (int)strtol(optarg, NULL, 10);
			break;
		case 'd':
			ag_delay_ms = (int)strtol(optarg, NULL, 10);
			break;
		case 'l':
			ag_loss_pct = (int)strtol(optarg, NULL, 10);
			break;
		case 'r':
			ag_reboot_s = (int)strtol(optarg, NULL, 10);
			break;
		case 'R':
			ag_rows = (int)strtol(optarg, NULL, 10);
			break;
		case 'L':
			ag_loop_at = (int)strtol(optarg, NULL, 10);
			break;
		case 'E':
			ag_errstat = (int)strtol(optarg, NULL, 10) & 0x7f;
			break;
		case 'B':
			ag_nobulk = 1;
			break;
		case 'T':
			ag_toobig = (int)strtol(optarg, NULL, 10);
			break;
		case 'o':
			portfile = optarg;
			break;
		default:
			return 2;
		}
	}
	if (n_agents < 1 || portfile == NULL || ag_rows < 1 ||
	    ag_rows > AG_MAX_ROWS) {
		fprintf(stderr,
		    "usage: snmpagent -n AGENTS [-d DELAY_MS] "
		    "[-l LOSS_PERCENT] [-r REBOOT_S] [-R ROWS] [-L K] "
		    "[-E STATUS] [-T N] [-B] -o PORTFILE\n");
		return 2;
	}
	signal(SIGTERM, ag_on_signal);
	signal(SIGINT, ag_on_signal);
	ag_queue = calloc(AG_QUEUE_CAP, sizeof(*ag_queue));
	pfd = calloc((size_t)n_agents, sizeof(*pfd));
	f = fopen(portfile, "w");
	if (ag_queue == NULL || pfd == NULL || f == NULL) {
		perror("snmpagent");
		return 1;
	}
	for (i = 0; i < n_agents; i++) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
		    getsockname(fd, (struct sockaddr *)&sin, &sl)) {
			perror("snmpagent: socket");
			return 1;
		}
		pfd[i].fd = fd;
		pfd[i].events = POLLIN;
		fprintf(f, "%d\n", ntohs(sin.sin_port));
	}
	fclose(f);
	ag_start_ms = ag_now_ms();
	srand(1);
	while (!ag_stop) {
		int64_t now = ag_now_ms();
		int timeout = -1, r;

		ag_send_due(now);
		if (ag_qlen > 0)
			timeout = (int)(ag_queue[ag_qhead].due_ms - now);
		r = poll(pfd, (nfds_t)n_agents, timeout < 0 ? 1000 : timeout);
		if (r < 0 && errno != EINTR)
			break;
		for (i = 0; r > 0 && i < n_agents; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			for (;;) {
				struct sockaddr_in from;
				socklen_t fl = sizeof(from);
				ssize_t got =
				    recvfrom(pfd[i].fd, in, sizeof(in), 0,
				        (struct sockaddr *)&from, &fl);
				size_t len;

				if (got <= 0)
					break;
				if (ag_loss_pct > 0 &&
				    rand() % 100 < ag_loss_pct)
					continue;
				if (ag_answer(i, in, (size_t)got, out, &len) !=
				    0)
					continue;
				if (ag_delay_ms == 0 ||
				    ag_qlen == AG_QUEUE_CAP) {
					ssize_t s = sendto(pfd[i].fd, out, len,
					    0, (struct sockaddr *)&from, fl);

					(void)s;
				} else {
					struct ag_pending *q =
					    &ag_queue[(ag_qhead + ag_qlen) %
					        AG_QUEUE_CAP];

					q->due_ms = ag_now_ms() + ag_delay_ms;
					q->fd = pfd[i].fd;
					q->to = from;
					q->len = len;
					q->data = malloc(len);
					if (q->data == NULL)
						continue;
					memcpy(q->data, out, len);
					ag_qlen++;
				}
			}
		}
	}
	return 0;
}
