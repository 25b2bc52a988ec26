/*
 * libFuzzer target for a sequence of export datagrams sharing one
 * template cache, as a collector sees them: the input is split into
 * datagrams of [1 byte exporter][2 bytes length][bytes]; the exporter
 * byte picks one of 8 exporter addresses (and thus separate template
 * keys), so templates learned from one datagram are used, refreshed,
 * withdrawn and evicted by the next ones.  The cache has small caps so
 * eviction paths run too.
 */
// fuzz-sources: netflowbot/nf*.c
// fuzz-libs: -lpcap
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../netflowbot/nfflow.h"
#include "../../netflowbot/nfmsg.h"
#include "../../netflowbot/nftpl.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_flow(const struct nfflow *f, void *arg)
{
	uint64_t *sum = arg;

	*sum += f->bytes + f->packets + f->af;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nftpl_limits tl;
	struct nftpl_cache *cache;
	struct nfstats st;
	uint64_t sum = 0;
	size_t pos = 0;
	int64_t now = 1700000000;

	log_init("fuzz", LOG_LEVEL_NONE);
	nftpl_limits_defaults(&tl);
	tl.max_sources = 4;
	tl.max_per_source = 8;
	tl.max_bytes = 16384;
	tl.ttl_s = 5;
	cache = nftpl_cache_new(&tl);
	memset(&st, 0, sizeof(st));
	while (size - pos >= 3) {
		uint8_t exporter[16] = {
		    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0};
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		struct nfdecode d;

		exporter[15] = data[pos] & 7;
		now += data[pos] >> 5; /* time passes: templates expire */
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		memset(&d, 0, sizeof(d));
		d.exporter = exporter;
		d.now_s = now;
		d.cache = cache;
		d.cb = fuzz_flow;
		d.arg = &sum;
		d.st = &st;
		(void)nfmsg_decode(data + pos, len, &d);
		if (nftpl_cache_bytes(cache) > tl.max_bytes + 4096)
			abort(); /* the cap holds (one template may exceed) */
		pos += len;
	}
	nftpl_expire(cache, now + 100, &st);
	if (nftpl_cache_count(cache) != 0)
		abort();
	nftpl_cache_free(cache);
	return 0;
}
