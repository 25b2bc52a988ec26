/*
 * libFuzzer target for log_sanitize, which every logged body, header and
 * name from the network passes through: whatever the input and wherever
 * the cut, the output is one line of printable bytes, NUL-terminated
 * inside the buffer, never holds the registered secret, and is a prefix
 * of the uncut output (the text is redacted before it is cut, so a cut
 * never shows part of a secret).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "fedcba98-7654-4321-8765-0123456789ab"

/* 1 when text holds the secret less its first one or two characters. */
static int
log_fuzz_tail(const char *text, size_t len)
{
	size_t k, i, n;

	for (k = 1; k <= 2; k++) {
		n = sizeof(SECRET) - 1 - k;
		for (i = 0; i + n <= len; i++)
			if (memcmp(text + i, &SECRET[k], n) == 0)
				return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[200], *in, *full;
	size_t outlen, shown, i;

	if (size < 1 || size > 4096)
		return 0;
	log_set_secret(SECRET);
	/* The first byte picks the cut; the rest is the text, with the
	 * secret spliced in where the text says "@@". */
	outlen = (size_t)data[0] % sizeof(out) + 1;
	in = malloc(size * sizeof(SECRET) + 1);
	if (in == NULL)
		return 0;
	for (i = 1, shown = 0; i < size; i++) {
		if (data[i] == '@' && i + 1 < size && data[i + 1] == '@') {
			memcpy(in + shown, SECRET, sizeof(SECRET) - 1);
			shown += sizeof(SECRET) - 1;
			i++;
		} else {
			in[shown++] = (char)data[i];
		}
	}
	(void)log_sanitize(in, shown, out, outlen);
	if (strlen(out) >= outlen)
		abort();
	/* At most 6 bytes out per byte in ("b=" becomes "b=<redacted>"). */
	full = malloc(shown * 6 + 16);
	if (full == NULL)
		abort();
	if (log_sanitize(in, shown, full, shown * 6 + 16) != shown ||
	    strncmp(full, out, strlen(out)) != 0)
		abort();
	free(full);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			abort();
	/* The secret never shows, except where the text itself held all of
	 * it but its first one or two characters right after a control
	 * character, whose escape ("\x7f") supplies them: partial tokens are
	 * not redacted (the README says so), escaping adds nothing to them. */
	if (strstr(out, SECRET) != NULL && !log_fuzz_tail(in, shown))
		abort();
	free(in);
	return 0;
}
