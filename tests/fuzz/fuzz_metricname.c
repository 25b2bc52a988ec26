/*
 * libFuzzer target for the path -> Prometheus series mapping: paths come
 * from job configs (SNMP output paths, API extraction keys) and from the
 * network (NetFlow addresses), so any text must map safely, and a mapped
 * series must be a valid exposition-format series name.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metricname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_name(const char *n)
{
	if (!isalpha((unsigned char)n[0]) && n[0] != '_')
		abort();
	for (; *n != '\0'; n++)
		if (!islower((unsigned char)*n) &&
		    !isdigit((unsigned char)*n) && *n != '_')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512], out[4096];
	struct metric m;
	size_t i;
	int n;

	if (size >= sizeof(path))
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';
	if (metricname_map(path, &m) == -1)
		return 0;
	check_name(m.name);
	for (i = 0; i < m.n_labels; i++)
		check_name(m.labels[i].name);
	n = metricname_series(&m, out, sizeof(out));
	if (n < 0 || (size_t)n != strlen(out) || strchr(out, '\n') != NULL)
		abort();
	return 0;
}
