/*
 * Unit tests for the checkpoint: open windows and waiting values survive
 * a save and load; truncated, altered and foreign files are refused with
 * a reason; a missing file is not an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../netflowbot/nfagg.h"
#include "../../../netflowbot/nfstate.h"
#include "../t.h"

static void
t_fill(struct nfagg *a, int64_t now)
{
	struct nfflow f;
	int i;

	for (i = 0; i < 30; i++) {
		memset(&f, 0, sizeof(f));
		f.af = 4;
		f.src[0] = 10;
		f.src[3] = (uint8_t)i;
		f.dst[0] = 192;
		f.proto = (uint8_t)(i % 2 ? 6 : 17);
		f.dport = (uint16_t)(1000 + i % 5);
		f.in_if = (uint32_t)(i % 3);
		f.bytes = (uint64_t)(100 * (i + 1));
		nfagg_add(a, 7, &f, now);
	}
}

static int
t_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* All values of a after closing every window, as sorted "path v t"
 * lines (the order within a window follows hash buckets). */
static char *
t_render(struct nfagg *a)
{
	struct nfagg_value *v;
	size_t n, i, len = 0, pos = 0;
	char **lines;
	char *out;

	nfagg_flush(a);
	n = nfagg_take(a, &v);
	lines = calloc(n + 1, sizeof(*lines));
	for (i = 0; i < n; i++) {
		char line[512];

		snprintf(line, sizeof(line), "%s %.0f %.0f\n", v[i].path,
		    v[i].v, v[i].t);
		lines[i] = strdup(line);
		len += strlen(line);
		free(v[i].path);
	}
	free(v);
	qsort(lines, n, sizeof(*lines), t_cmp);
	out = calloc(1, len + 1);
	for (i = 0; i < n; i++) {
		size_t l = strlen(lines[i]);

		memcpy(out + pos, lines[i], l);
		pos += l;
		free(lines[i]);
	}
	free(lines);
	return out;
}

static size_t
t_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void
t_write(const char *path, const uint8_t *buf, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f != NULL) {
		fwrite(buf, 1, n, f);
		fclose(f);
	}
}

T_TEST(nfstate_roundtrip)
{
	static uint8_t buf[1 << 20];
	struct nfagg_limits lim;
	struct nfagg *a[2], **back;
	char path[512], err[256];
	char *want0, *want1, *got0, *got1;
	size_t n;

	snprintf(path, sizeof(path), "%s/nf.state", t_tmpdir());
	nfagg_limits_defaults(&lim);
	a[0] = nfagg_new(11, &lim);
	a[1] = nfagg_new(12, &lim);
	t_fill(a[0], 1700000000);
	t_fill(a[1], 1700000000);
	t_fill(a[1], 1700000070); /* closes a 1min window: values wait */
	T_EQ_INT(nfstate_save(path, a, 2, err, sizeof(err)), 0);
	T_EQ_INT(nfstate_load(path, &lim, &back, &n, err, sizeof(err)), 0);
	T_EQ_INT(n, 2);
	T_EQ_INT(nfagg_account(back[1]), 12);
	want0 = t_render(a[0]);
	want1 = t_render(a[1]);
	got0 = t_render(back[0]);
	got1 = t_render(back[1]);
	T_ASSERT(strlen(want1) > 1000);
	T_EQ_STR(got0, want0);
	T_EQ_STR(got1, want1);
	free(want0);
	free(want1);
	free(got0);
	free(got1);
	nfagg_free(a[0]);
	nfagg_free(a[1]);
	nfagg_free(back[0]);
	nfagg_free(back[1]);
	free(back);

	/* truncated, altered, foreign: refused with a reason */
	n = t_file(path, buf, sizeof(buf));
	T_ASSERT(n > 100);
	err[0] = '\0';
	T_EQ_INT(
	    nfstate_parse(buf, n - 3, &lim, &back, &n, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "checksum") != NULL);
	n = t_file(path, buf, sizeof(buf));
	buf[n / 2] ^= 0x40;
	t_write(path, buf, n);
	T_EQ_INT(nfstate_load(path, &lim, &back, &n, err, sizeof(err)), -1);
	T_ASSERT(back == NULL);
	T_EQ_INT(nfstate_parse((const uint8_t *)"hello world, not a state", 24,
	             &lim, &back, &n, err, sizeof(err)),
	    -1);
	T_ASSERT(strstr(err, "not a netflowbot checkpoint") != NULL);
	snprintf(path, sizeof(path), "%s/none.state", t_tmpdir());
	T_EQ_INT(nfstate_load(path, &lim, &back, &n, err, sizeof(err)), 1);
}

static void
t_rehash(uint8_t *buf, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	size_t i;

	for (i = 0; i + 8 < n; i++)
		h = (h ^ buf[i]) * UINT64_C(1099511628211);
	memcpy(buf + n - 8, &h, 8);
}

/* The header states the writer's byte order: a file from a host of the
 * other order is refused by name (whatever its checksum), and a version 1
 * file (no mark, this host's order) still loads. */
T_TEST(nfstate_byte_order)
{
	static uint8_t buf[1 << 20], v1[1 << 20];
	struct nfagg_limits lim;
	struct nfagg *a, **back;
	char path[512], err[256];
	char *want, *got;
	uint8_t t;
	size_t n, m;

	snprintf(path, sizeof(path), "%s/bo.state", t_tmpdir());
	nfagg_limits_defaults(&lim);
	a = nfagg_new(21, &lim);
	t_fill(a, 1700000000);
	T_EQ_INT(nfstate_save(path, &a, 1, err, sizeof(err)), 0);
	want = t_render(a);
	n = t_file(path, buf, sizeof(buf));
	T_ASSERT(n > 100);
	T_ASSERT(memcmp(buf, "NFBOTST2", 8) == 0);

	/* version 1: magic, count, records, hash */
	memcpy(v1, "NFBOTST1", 8);
	memcpy(v1 + 8, buf + 12, n - 12);
	m = n - 4;
	t_rehash(v1, m);
	T_EQ_INT(nfstate_parse(v1, m, &lim, &back, &m, err, sizeof(err)), 0);
	T_EQ_INT(m, 1);
	got = t_render(back[0]);
	T_EQ_STR(got, want);
	free(got);
	nfagg_free(back[0]);
	free(back);

	/* the other byte order: the mark reversed (checksum valid or not) */
	t = buf[8], buf[8] = buf[11], buf[11] = t;
	t = buf[9], buf[9] = buf[10], buf[10] = t;
	err[0] = '\0';
	T_EQ_INT(nfstate_parse(buf, n, &lim, &back, &m, err, sizeof(err)), -1);
	T_ASSERT(back == NULL);
	T_ASSERT(strstr(err, "other byte order") != NULL);
	t_rehash(buf, n);
	t_write(path, buf, n);
	err[0] = '\0';
	T_EQ_INT(nfstate_load(path, &lim, &back, &m, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "other byte order") != NULL);

	/* neither order */
	buf[8] = 9;
	t_rehash(buf, n);
	T_EQ_INT(nfstate_parse(buf, n, &lim, &back, &m, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "byte-order mark") != NULL);
	free(want);
	nfagg_free(a);
}
