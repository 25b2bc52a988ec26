/*
 * libFuzzer target for the Retry-After header parser: the value comes
 * straight from the backend (or anything in front of it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "retry_after.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	int64_t ms, epoch;

	if (size > 512)
		return 0; /* http.c keeps only header values under 256 bytes */
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (retry_after_parse(s, 1795400000.5, &ms) == 0 && ms < 0)
		abort();
	if (retry_after_date(s, &epoch) == 0 && epoch < 0 && s[0] != '\0')
		epoch = 0;
	free(s);
	return 0;
}
