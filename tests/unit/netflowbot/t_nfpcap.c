/*
 * Unit tests for the frame parser of the capture inputs: Ethernet with
 * VLAN tags, Linux cooked, raw IPv4 and IPv6 with extension headers,
 * fragments and truncated frames.
 */
#include <pcap/pcap.h>
#include <string.h>

#include "../../../netflowbot/nfpcap.h"
#include "../t.h"

static size_t
t_ip4_udp(uint8_t *b, const uint8_t *payload, size_t n, uint16_t frag)
{
	memset(b, 0, 28);
	b[0] = 0x45;
	b[2] = (uint8_t)((28 + n) >> 8);
	b[3] = (uint8_t)(28 + n);
	b[6] = (uint8_t)(frag >> 8);
	b[7] = (uint8_t)frag;
	b[9] = 17;
	b[12] = 192;
	b[13] = 0;
	b[14] = 2;
	b[15] = 7;
	b[20] = 0x9c; /* sport 40000 */
	b[21] = 0x40;
	b[22] = 0x08; /* dport 2055 */
	b[23] = 0x07;
	b[24] = (uint8_t)((8 + n) >> 8);
	b[25] = (uint8_t)(8 + n);
	memcpy(b + 28, payload, n);
	return 28 + n;
}

T_TEST(nfpcap_parse_frames)
{
	static const uint8_t pl[5] = {0, 9, 1, 2, 3};
	uint8_t f[256], ip[128];
	struct nfpcap_dgram dg;
	size_t n = t_ip4_udp(ip, pl, sizeof(pl), 0);

	/* raw IPv4 */
	T_EQ_INT(nfpcap_parse(DLT_RAW, ip, n, &dg), 0);
	T_EQ_INT(dg.len, 5);
	T_EQ_INT(dg.dport, 2055);
	T_EQ_INT(dg.src[10], 0xff);
	T_EQ_INT(dg.src[15], 7);
	T_EQ_MEM(dg.payload, pl, 5);
	/* Ethernet with two VLAN tags, and padding after the datagram */
	memset(f, 0, sizeof(f));
	f[12] = 0x88;
	f[13] = 0xa8;
	f[16] = 0x81;
	f[17] = 0x00;
	f[20] = 0x08;
	f[21] = 0x00;
	memcpy(f + 22, ip, n);
	T_EQ_INT(nfpcap_parse(DLT_EN10MB, f, 22 + n + 10, &dg), 0);
	T_EQ_INT(dg.len, 5);
	/* truncated capture, non-first fragment, not UDP */
	T_EQ_INT(nfpcap_parse(DLT_RAW, ip, n - 1, &dg), -1);
	n = t_ip4_udp(ip, pl, sizeof(pl), 0x0010);
	T_EQ_INT(nfpcap_parse(DLT_RAW, ip, n, &dg), -1);
	n = t_ip4_udp(ip, pl, sizeof(pl), 0);
	ip[9] = 6;
	T_EQ_INT(nfpcap_parse(DLT_RAW, ip, n, &dg), -1);
	/* IHL below 5 */
	ip[9] = 17;
	ip[0] = 0x44;
	T_EQ_INT(nfpcap_parse(DLT_RAW, ip, n, &dg), -1);
}

T_TEST(nfpcap_parse_ipv6_extension_headers)
{
	uint8_t f[256];
	struct nfpcap_dgram dg;
	size_t plen = 8 + 8 + 8 + 3;

	memset(f, 0, sizeof(f));
	f[0] = 0x60;
	f[4] = 0;
	f[5] = (uint8_t)plen;
	f[6] = 0; /* hop-by-hop */
	f[8] = 0x20;
	f[9] = 0x01;
	f[23] = 5;
	f[40] = 44; /* next: fragment */
	f[41] = 0;  /* 8 bytes */
	f[48] = 17; /* next: UDP */
	f[50] = 0;  /* offset 0: first fragment */
	f[51] = 1;  /* more fragments */
	f[56 + 5] = 11;
	f[56 + 3] = 0x07;
	f[56 + 2] = 0x08;
	T_EQ_INT(nfpcap_parse(DLT_RAW, f, 40 + plen, &dg), 0);
	T_EQ_INT(dg.len, 3);
	T_EQ_INT(dg.src[0], 0x20);
	T_EQ_INT(dg.dport, 2055);
	/* a hop-by-hop length running past the end */
	f[41] = 200;
	T_EQ_INT(nfpcap_parse(DLT_RAW, f, 40 + plen, &dg), -1);
	/* a later fragment */
	f[41] = 0;
	f[50] = 0x01;
	T_EQ_INT(nfpcap_parse(DLT_RAW, f, 40 + plen, &dg), -1);
	/* Linux cooked v1 carrying it (first fragment again) */
	{
		uint8_t c[300];

		f[50] = 0;
		memset(c, 0, 16);
		c[14] = 0x86;
		c[15] = 0xdd;
		memcpy(c + 16, f, 40 + plen);
		T_EQ_INT(
		    nfpcap_parse(DLT_LINUX_SLL, c, 16 + 40 + plen, &dg), 0);
		T_EQ_INT(nfpcap_parse(DLT_LINUX_SLL, c, 10, &dg), -1);
	}
}
