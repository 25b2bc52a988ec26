/*
 * The body shared by the one-datagram NetFlow fuzz targets (fuzz_nf5,
 * fuzz_nf9, fuzz_ipfix): each passes its decoder to nf_fuzz_one.
 */
#ifndef BOT_NF_FUZZ_ONE_H
#define BOT_NF_FUZZ_ONE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../netflowbot/nfagg.h"
#include "../../netflowbot/nfflow.h"
#include "../../netflowbot/nftpl.h"
#include "log.h"
#include "path.h"

static void
fuzz_flow(const struct nfflow *f, void *arg)
{
	nfagg_add(arg, 1, f, 1700000000);
}

/* Decodes data (one datagram) with decode, a fresh template cache and an
 * aggregator, then checks every value path the flows produced. */
static int
nf_fuzz_one(const uint8_t *data, size_t size,
    int (*decode)(const uint8_t *, size_t, const struct nfdecode *))
{
	static const uint8_t exporter[16] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
	struct nftpl_limits tl;
	struct nfagg_limits al;
	struct nfstats st;
	struct nfdecode d;
	struct nfagg_value *v;
	struct nfagg *agg;
	char err[128];
	size_t n, i;

	log_init("fuzz", LOG_LEVEL_NONE);
	nftpl_limits_defaults(&tl);
	nfagg_limits_defaults(&al);
	al.top_keys = 16;
	agg = nfagg_new(1, &al);
	memset(&st, 0, sizeof(st));
	memset(&d, 0, sizeof(d));
	err[0] = '\0';
	d.exporter = exporter;
	d.now_s = 1700000000;
	d.cache = nftpl_cache_new(&tl);
	d.cb = fuzz_flow;
	d.arg = agg;
	d.st = &st;
	d.err = err;
	d.errlen = sizeof(err);
	if (decode(data, size, &d) < 0 && err[0] == '\0')
		abort(); /* a refusal always says why */
	nfagg_flush(agg);
	n = nfagg_take(agg, &v);
	for (i = 0; i < n; i++) {
		if (!path_valid(v[i].path))
			abort();
		free(v[i].path);
	}
	free(v);
	nfagg_free(agg);
	nftpl_cache_free(d.cache);
	return 0;
}

#endif
