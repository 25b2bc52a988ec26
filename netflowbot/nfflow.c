/*
 * Small helpers shared by the flow decoders.
 */
#include "nfflow.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
