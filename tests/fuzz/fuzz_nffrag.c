/*
 * libFuzzer target for fragment reassembly (--pcap, --pcap-live): the
 * input is a sequence of raw IP frames, each [u8 time step][u16 length,
 * big-endian][frame]; every fragment goes through nfpcap_parse_frag and
 * nffrag_add, every completed datagram is read whole.
 */
// fuzz-sources: netflowbot/nf*.c
// fuzz-libs: -lpcap
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../netflowbot/nffrag.h"
#include "../../netflowbot/nfpcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nffrag *t = nffrag_new();
	size_t pos = 0;
	double now = 0;
	volatile uint8_t sink = 0;

	while (size - pos >= 3) {
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		const uint8_t *f = data + pos + 3;
		struct nfpcap_dgram dg;
		struct nffrag_piece fr;
		const uint8_t *out;
		size_t outlen, i;

		now += data[pos] / 16.0;
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		pos += len;
		if (nfpcap_parse_frag(DLT_RAW, f, len, &dg, &fr) != 1)
			continue;
		/* the fragment lies inside the frame */
		if (fr.data < f || fr.data + fr.len > f + len)
			abort();
		if (nffrag_add(t, &fr, now, &out, &outlen) == 1) {
			if (outlen > 65535)
				abort();
			for (i = 0; i < outlen; i++)
				sink ^= out[i];
		}
	}
	(void)sink;
	nffrag_free(t);
	return 0;
}
