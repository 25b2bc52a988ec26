/*
 * libFuzzer target for the IPFIX decoder: one input is one datagram,
 * decoded with a fresh template cache and then aggregated, so every flow
 * the decoder accepts also goes through the window code and the path
 * renderer (nf_fuzz_one.h).
 */
// fuzz-sources: netflowbot/nf*.c
// fuzz-libs: -lpcap
#include <stddef.h>
#include <stdint.h>

#include "../../netflowbot/nfmsg.h"
#include "nf_fuzz_one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return nf_fuzz_one(data, size, nfmsg_decode_ipfix);
}
