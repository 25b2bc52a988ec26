/*
 * libFuzzer target for sensor expressions: arbitrary text is compiled
 * (the first byte picks how many OIDs the sensor has) and, when it
 * compiles, evaluated over values drawn from the input.  Compilation must
 * reject or accept without crashing, and evaluation must stay within its
 * fixed stack and never loop.
 */
// fuzz-sources: snmpbot/expr.c
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../snmpbot/expr.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double picks[] = {0, 1, -1, 0.5, 42.5, -42.5, 1e300,
	    -1e300, 4294967295.0, 1e-300, 3, 1000};
	double vars[8], out;
	char err[256];
	struct expr *e;
	char *text;
	int n_vars, i;

	log_init("fuzz", LOG_LEVEL_NONE);
	if (size < 1 || size > EXPR_MAX_TEXT + 1)
		return 0;
	n_vars = data[0] % 9;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	e = expr_compile(text, n_vars, err, sizeof(err));
	if (e != NULL) {
		for (i = 0; i < 8; i++)
			vars[i] = picks[(size + (size_t)i * 7) %
			    (sizeof(picks) / sizeof(picks[0]))];
		(void)expr_eval(e, vars, &out);
		for (i = 1; i <= n_vars; i++)
			(void)expr_uses(e, i);
		expr_free(e);
	}
	free(text);
	return 0;
}
