/*
 * libFuzzer target for the disk spool reader: a crash or a partly written
 * disk can leave any bytes in a segment, and replay must skip what it
 * cannot read without crashing.  Each input becomes one segment file.
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

static void
fuzz_record(const struct spool_record *r, uint32_t seg, void *arg)
{
	size_t *n = arg;

	(void)seg;
	if (r->path == NULL || strlen(r->path) > 65536)
		abort();
	(*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	char path[128], err[BOT_ERRLEN];
	struct spool *sp;
	size_t n = 0;
	int fd;

	log_init("fuzz", LOG_LEVEL_NONE);
	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/fuzz-spool-XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
	}
	snprintf(path, sizeof(path), "%s/seg-0000000001.spool", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	sp = spool_open(dir, 1 << 20, fuzz_record, &n, err, sizeof(err));
	spool_close(sp);
	unlink(path);
	return 0;
}
