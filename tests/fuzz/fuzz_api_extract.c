/*
 * libFuzzer target for apibot's extraction path: an arbitrary answer body
 * is parsed (json-c, depth 32, strict end), run through a set of compiled
 * jq filters chosen by the first byte, flattened into path-safe keys and
 * applied in value, delta and rate modes, and every resulting value path
 * is built and checked as apibot does.  Nothing may crash, leak or loop.
 */
// fuzz-sources: apibot/apibody.c apibot/apifilter.c apibot/apimode.c
// fuzz-libs: -ljq
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../apibot/apibody.h"
#include "../../apibot/apifilter.h"
#include "../../apibot/apimode.h"
#include "log.h"
#include "path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_filters[] = {
    ".",
    ".[]?",
    ".. | numbers",
    ".workers[]? | {(.name | tostring): .busy}",
    "to_entries? | .[] | {(.key): .value}",
    ".a.b?",
    "[.[]?] | length",
    ".. | objects",
    "paths | tostring",
    ".. | strings | tonumber? // empty",
};
#define FUZZ_N (sizeof(fuzz_filters) / sizeof(fuzz_filters[0]))

static struct apifilter *fuzz_f[FUZZ_N];
static struct apimode_state fuzz_st[3];

/* Frees the filters before LeakSanitizer's exit check: a live jq_state
 * keeps its grown stack only through a pointer to the block's end, which
 * the checker does not count as a reference. */
static void
fuzz_teardown(void)
{
	size_t i;

	for (i = 0; i < FUZZ_N; i++) {
		apifilter_put(fuzz_f[i]);
		fuzz_f[i] = NULL;
	}
	for (i = 0; i < 3; i++)
		apimode_state_release(&fuzz_st[i]);
}

static void
fuzz_emit(void *arg, const char *key, double v)
{
	char path[256];
	int n;

	(void)v;
	n = snprintf(
	    path, sizeof(path), "entity.1.api.%s%s", (const char *)arg, key);
	if (n > 0 && (size_t)n < sizeof(path))
		(void)path_valid(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apifilter **f = fuzz_f;
	struct apimode_state *st = fuzz_st;
	struct apifilter_result r;
	char err[APIFILTER_MSGLEN];
	size_t i, which;
	jv in;
	int m;

	log_init("fuzz", LOG_LEVEL_NONE);
	if (f[0] == NULL) {
		for (i = 0; i < FUZZ_N; i++) {
			f[i] = apifilter_get(fuzz_filters[i], err, sizeof(err));
			if (f[i] == NULL)
				fatalx("%s: %s", fuzz_filters[i], err);
		}
		atexit(fuzz_teardown);
	}
	if (size < 1)
		return 0;
	which = data[0] % FUZZ_N;
	if (apibody_parse(
	        (const char *)data + 1, size - 1, &in, err, sizeof(err)) == -1)
		return 0;
	memset(&r, 0, sizeof(r));
	apifilter_run(f[which], in, &r);
	jv_free(in);
	for (m = 0; m < 3; m++) {
		/* apply sorts in place: each mode sees the same items */
		apimode_apply(&st[m], (enum apimode)m, r.items, r.n,
		    (double)(size % 97), fuzz_emit, "x.y");
	}
	apifilter_result_release(&r);
	/* Keep the delta/rate state from growing across inputs. */
	if (data[0] & 0x80)
		for (m = 0; m < 3; m++)
			apimode_state_release(&st[m]);
	return 0;
}
