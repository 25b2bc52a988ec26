/*
 * libFuzzer target for the capture frame parser (--pcap, --pcap-live):
 * the first input byte picks the link type, the rest is the frame.
 */
// fuzz-sources: netflowbot/nf*.c
// fuzz-libs: -lpcap
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../netflowbot/nfpcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int dlts[] = {
	    DLT_EN10MB, DLT_LINUX_SLL, DLT_RAW, DLT_NULL, DLT_LOOP, 276};
	struct nfpcap_dgram dg;

	if (size < 1)
		return 0;
	if (nfpcap_parse(dlts[data[0] % 6], data + 1, size - 1, &dg) == 0) {
		/* the payload lies inside the frame */
		if (dg.payload < data + 1 || dg.payload + dg.len > data + size)
			abort();
	}
	return 0;
}
