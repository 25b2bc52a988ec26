/*
 * libFuzzer target for the checkpoint reader: a corrupt checkpoint must
 * be refused, never crash.  The input is the file's body; the target adds
 * the magic, this host's byte-order mark and a valid checksum so the
 * fuzzer reaches the parser behind them.
 */
// fuzz-sources: netflowbot/nf*.c
// fuzz-libs: -lpcap
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../netflowbot/nfagg.h"
#include "../../netflowbot/nfstate.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nfagg_limits lim;
	struct nfagg **aggs;
	uint64_t h = UINT64_C(14695981039346656037);
	uint32_t bom = UINT32_C(0x01020304);
	uint8_t *p;
	size_t n, i;
	char err[256];

	log_init("fuzz", LOG_LEVEL_NONE);
	p = malloc(size + 20);
	if (p == NULL)
		return 0;
	memcpy(p, "NFBOTST2", 8);
	memcpy(p + 8, &bom, 4);
	memcpy(p + 12, data, size);
	for (i = 0; i < size + 12; i++)
		h = (h ^ p[i]) * UINT64_C(1099511628211);
	memcpy(p + size + 12, &h, 8);
	nfagg_limits_defaults(&lim);
	lim.top_keys = 16;
	if (nfstate_parse(p, size + 20, &lim, &aggs, &n, err, sizeof(err)) ==
	    0) {
		for (i = 0; i < n; i++) {
			struct nfagg_value *v;
			size_t k, nv;

			nfagg_flush(aggs[i]);
			nv = nfagg_take(aggs[i], &v);
			for (k = 0; k < nv; k++)
				free(v[k].path);
			free(v);
			nfagg_free(aggs[i]);
		}
		free(aggs);
	} else if (err[0] == '\0') {
		abort();
	}
	free(p);
	return 0;
}
