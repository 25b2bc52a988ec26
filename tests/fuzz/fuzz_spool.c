/*
 * libFuzzer target for the disk spool reader: a crash or a partly written
 * disk can leave any bytes in a segment and in its progress file, and
 * replay must skip what it cannot read without crashing.  The input is a
 * segment file, optionally followed by "\n#done\n" and its done file.
 * Every other record loaded is released at once (as the sender does to
 * stay within its buffer bound); a second start must then load exactly
 * what the first one left pending.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attrs.h"
#include "log.h"
#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_state {
	struct spool *sp;
	size_t n;
	int release;
};

static void
fuzz_record(const struct spool_record *r, uint32_t seg, void *arg)
{
	struct fuzz_state *st = arg;

	if (r->path == NULL || strlen(r->path) > 65536 || r->account_id <= 0)
		abort();
	if (st->release && st->n % 2 == 0)
		spool_release(st->sp, seg, r->rec, 1);
	st->n++;
}

static void
fuzz_write(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

/* Where sep (len bytes) first occurs in data; NULL if nowhere. */
static const uint8_t *
fuzz_find(const uint8_t *data, size_t size, const char *sep, size_t len)
{
	size_t i;

	for (i = 0; i + len <= size; i++)
		if (memcmp(data + i, sep, len) == 0)
			return data + i;
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n#done\n";
	static char dir[64];
	char seg[128], done[128], err[BOT_ERRLEN];
	struct fuzz_state st = {0};
	const uint8_t *cut;
	uint64_t pending;

	log_init("fuzz", LOG_LEVEL_NONE);
	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/fuzz-spool-XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
	}
	snprintf(seg, sizeof(seg), "%s/seg-0000000001.spool", dir);
	snprintf(done, sizeof(done), "%s/done-0000000001", dir);
	cut = fuzz_find(data, size, sep, sizeof(sep) - 1);
	if (cut != NULL) {
		fuzz_write(seg, data, (size_t)(cut - data) + 1);
		cut += sizeof(sep) - 1;
		fuzz_write(done, cut, size - (size_t)(cut - data));
	} else {
		fuzz_write(seg, data, size);
	}
	st.sp = spool_open(dir, 1 << 20, NULL, NULL, err, sizeof(err));
	if (st.sp == NULL)
		abort();
	st.release = 1;
	spool_load(st.sp, fuzz_record, &st);
	pending = spool_pending(st.sp);
	spool_close(st.sp);
	/* The progress reached the disk: the next start agrees. */
	memset(&st, 0, sizeof(st));
	st.sp = spool_open(dir, 1 << 20, NULL, NULL, err, sizeof(err));
	if (st.sp == NULL)
		abort();
	spool_load(st.sp, fuzz_record, &st);
	if (st.n != pending || spool_pending(st.sp) != pending)
		abort();
	spool_close(st.sp);
	unlink(seg);
	unlink(done);
	return 0;
}
