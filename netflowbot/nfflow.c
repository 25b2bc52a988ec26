/*
 * Small helpers shared by the flow decoders.
 */
#include "nfflow.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

uint64_t
nfflow_be(const uint8_t *p, size_t len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len && i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void
nfflow_map4(const uint8_t *v4, uint8_t out[16])
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

void
nfflow_err(const struct nfdecode *d, const char *fmt, ...)
{
	va_list ap;

	if (d->err == NULL || d->errlen == 0 || d->err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(d->err, d->errlen, fmt, ap);
	va_end(ap);
}
