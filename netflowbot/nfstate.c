/*
 * Layout: "NFBOTST2", u32 byte-order mark (0x01020304), u32 count, count
 * x nfagg_save records, then the FNV-1a 64 hash of everything before it.
 * Values are in the writer's byte order; the mark tells a reader of the
 * other order, which refuses the file by name instead of misreading it.
 * Version 1 ("NFBOTST1", no mark: written by earlier builds on this
 * host) is still read.
 */
#include "nfstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "nfagg.h"
#include "xmalloc.h"

#define NFSTATE_MAGIC    "NFBOTST2"
#define NFSTATE_MAGIC_V1 "NFBOTST1"
#define NFSTATE_BOM      UINT32_C(0x01020304)
#define NFSTATE_BOM_SWAP UINT32_C(0x04030201)
#define NFSTATE_MAX      (INT64_C(1) << 30)

static uint64_t
nfstate_hash(const uint8_t *p, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * UINT64_C(1099511628211);
	return h;
}

int
nfstate_save(const char *path, struct nfagg *const *aggs, size_t n, char *err,
    size_t errlen)
{
	struct buf b;
	char *tmp = NULL;
	uint32_t cnt = (uint32_t)n, bom = NFSTATE_BOM;
	uint64_t h;
	size_t i;
	FILE *f = NULL;
	int rc = -1;

	buf_init(&b, (size_t)NFSTATE_MAX);
	if (buf_append(&b, NFSTATE_MAGIC, 8) == -1 ||
	    buf_append(&b, &bom, sizeof(bom)) == -1 ||
	    buf_append(&b, &cnt, sizeof(cnt)) == -1)
		goto toobig;
	for (i = 0; i < n; i++)
		if (nfagg_save(aggs[i], &b) == -1)
			goto toobig;
	h = nfstate_hash((const uint8_t *)b.data, b.len);
	if (buf_append(&b, &h, sizeof(h)) == -1)
		goto toobig;
	tmp = xasprintf("%s.tmp", path);
	f = fopen(tmp, "wb");
	if (f == NULL || fwrite(b.data, 1, b.len, f) != b.len ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0) {
		snprintf(
		    err, errlen, "rename to %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
toobig:
	snprintf(err, errlen, "checkpoint larger than %lld bytes",
	    (long long)NFSTATE_MAX);
out:
	if (f != NULL)
		fclose(f);
	if (rc == -1 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	buf_release(&b);
	return rc;
}

int
nfstate_parse(const uint8_t *p, size_t len, const struct nfagg_limits *lim,
    struct nfagg ***out, size_t *n, char *err, size_t errlen)
{
	struct nfagg **aggs = NULL;
	uint32_t cnt, i, bom;
	uint64_t h;
	size_t pos, body;

	*out = NULL;
	*n = 0;
	if (len >= 24 && memcmp(p, NFSTATE_MAGIC, 8) == 0) {
		memcpy(&bom, p + 8, 4);
		if (bom == NFSTATE_BOM_SWAP) {
			snprintf(err, errlen,
			    "written on a host of the other byte order");
			return -1;
		}
		if (bom != NFSTATE_BOM) {
			snprintf(err, errlen, "bad byte-order mark 0x%08x",
			    (unsigned)bom);
			return -1;
		}
		pos = 16;
	} else if (len >= 20 && memcmp(p, NFSTATE_MAGIC_V1, 8) == 0) {
		pos = 12; /* version 1: this host's byte order, no mark */
	} else {
		snprintf(err, errlen,
		    "not a netflowbot checkpoint (version 1 or 2)");
		return -1;
	}
	body = len - 8;
	memcpy(&h, p + body, 8);
	if (h != nfstate_hash(p, body)) {
		snprintf(
		    err, errlen, "checksum mismatch (truncated or altered)");
		return -1;
	}
	memcpy(&cnt, p + pos - 4, 4);
	if (cnt > (body - pos) / 12) {
		snprintf(err, errlen, "%u accounts in %zu bytes", cnt, len);
		return -1;
	}
	aggs = xreallocarray(NULL, cnt ? cnt : 1, sizeof(*aggs));
	for (i = 0; i < cnt; i++) {
		size_t used = 0;

		aggs[i] =
		    nfagg_load(p + pos, body - pos, &used, lim, err, errlen);
		if (aggs[i] == NULL) {
			while (i > 0)
				nfagg_free(aggs[--i]);
			free(aggs);
			return -1;
		}
		pos += used;
	}
	if (pos != body) {
		snprintf(err, errlen, "%zu bytes after the last account",
		    body - pos);
		for (i = 0; i < cnt; i++)
			nfagg_free(aggs[i]);
		free(aggs);
		return -1;
	}
	*out = aggs;
	*n = cnt;
	return 0;
}

int
nfstate_load(const char *path, const struct nfagg_limits *lim,
    struct nfagg ***out, size_t *n, char *err, size_t errlen)
{
	struct buf b;
	char chunk[65536];
	size_t got;
	FILE *f = fopen(path, "rb");
	int rc;

	*out = NULL;
	*n = 0;
	if (f == NULL) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&b, (size_t)NFSTATE_MAX);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, got) == -1) {
			snprintf(err, errlen, "%s: larger than %lld bytes",
			    path, (long long)NFSTATE_MAX);
			fclose(f);
			buf_release(&b);
			return -1;
		}
	}
	fclose(f);
	rc = nfstate_parse(
	    (const uint8_t *)b.data, b.len, lim, out, n, err, errlen);
	buf_release(&b);
	return rc;
}
