/*
 * NetFlow v5 decoding (Cisco's fixed format).  The record count must be
 * 1..30 and the datagram must hold that many records; extra trailing
 * bytes are ignored.
 */
#include "nfv5.h"

#include <string.h>

int64_t
nfv5_uptime_to_unix(uint32_t t_up, uint32_t sys_up, int64_t export_ms)
{
	uint32_t ago = sys_up - t_up; /* modulo 2^32: survives the wrap */

	if (ago > UINT32_C(0x7fffffff))
		return export_ms; /* in the future: clamp */
	return export_ms - (int64_t)ago;
}

int
nfv5_decode(const uint8_t *b, size_t len, const struct nfdecode *d)
{
	uint32_t count, sys_up, i;
	uint64_t rate;
	int64_t export_ms;

	if (len < NFV5_HEADER_LEN) {
		nfflow_err(d,
		    "v5: datagram of %zu bytes is shorter than "
		    "the header",
		    len);
		return -1;
	}
	if (nfflow_be(b, 2) != 5) {
		nfflow_err(d, "v5: version %u", (unsigned)nfflow_be(b, 2));
		return -1;
	}
	count = (uint32_t)nfflow_be(b + 2, 2);
	if (count == 0 || count > NFV5_MAX_COUNT) {
		nfflow_err(d, "v5: record count %u is not 1..30", count);
		return -1;
	}
	if (len < NFV5_HEADER_LEN + (size_t)count * NFV5_RECORD_LEN) {
		nfflow_err(
		    d, "v5: %u records do not fit in %zu bytes", count, len);
		return -1;
	}
	sys_up = (uint32_t)nfflow_be(b + 4, 4);
	export_ms = (int64_t)nfflow_be(b + 8, 4) * 1000 +
	    (int64_t)(nfflow_be(b + 12, 4) / 1000000);
	rate = nfflow_be(b + 22, 2) & 0x3fff;
	if (rate == 0)
		rate = 1;
	if (d->sampling_override > 0)
		rate = d->sampling_override;
	for (i = 0; i < count; i++) {
		const uint8_t *r = b + NFV5_HEADER_LEN + i * NFV5_RECORD_LEN;
		struct nfflow f;

		memset(&f, 0, sizeof(f));
		f.af = 4;
		memcpy(f.src, r, 4);
		memcpy(f.dst, r + 4, 4);
		f.in_if = (uint32_t)nfflow_be(r + 12, 2);
		f.out_if = (uint32_t)nfflow_be(r + 14, 2);
		f.packets = nfflow_be(r + 16, 4) * rate;
		f.bytes = nfflow_be(r + 20, 4) * rate;
		f.first_ms = nfv5_uptime_to_unix(
		    (uint32_t)nfflow_be(r + 24, 4), sys_up, export_ms);
		f.last_ms = nfv5_uptime_to_unix(
		    (uint32_t)nfflow_be(r + 28, 4), sys_up, export_ms);
		f.sport = (uint16_t)nfflow_be(r + 32, 2);
		f.dport = (uint16_t)nfflow_be(r + 34, 2);
		f.proto = r[38];
		f.dir = NFFLOW_INGRESS;
		f.sampling = rate;
		if (d->st != NULL)
			d->st->flows++;
		d->cb(&f, d->arg);
	}
	return (int)count;
}
