/*
 * The disk spool: segment files "seg-<id>.spool" in one directory, each a
 * sequence of text records "<account> <t> <v> <path>\n" appended with a
 * single write(2) per batch of values.  Ids grow, so replaying segments in
 * id order replays values in the order they were queued.  Each segment
 * counts the records still pending in memory; when that count reaches
 * zero the segment is deleted, or truncated if it is the one being
 * written, so in steady state (backend up) the spool stays near empty.  A
 * process killed mid-write can leave a record without its newline at the
 * end of the last segment; loading skips it with a warning, and new
 * records always go to a new segment, never after such a tail.
 */
#include "spool.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "values.h"
#include "xmalloc.h"

#define SPOOL_SEGMENT_MAX (4 * 1024 * 1024)
#define SPOOL_PATH_MAX    1024
#define SPOOL_FILE_MAX    (64 * 1024 * 1024)

struct spool_seg {
	uint32_t id;
	uint64_t bytes;
	uint64_t pending;
};

struct spool {
	char *dir;
	int lock_fd;
	int fd;             /* the active segment, -1 when none */
	uint32_t active_id; /* 0 when none */
	uint32_t next_id;
	struct spool_seg *segs;
	size_t n_segs, cap_segs;
	uint64_t bytes, max_bytes, pending;
	struct buf staged;
	size_t n_staged;
	struct log_limit full_limit, io_limit;
};

static char *
spool_seg_path(const struct spool *sp, uint32_t id)
{
	return xasprintf("%s/seg-%010u.spool", sp->dir, id);
}

static struct spool_seg *
spool_find(struct spool *sp, uint32_t id)
{
	size_t i;

	for (i = 0; i < sp->n_segs; i++)
		if (sp->segs[i].id == id)
			return &sp->segs[i];
	return NULL;
}

static struct spool_seg *
spool_seg_add(struct spool *sp, uint32_t id)
{
	struct spool_seg *g;

	if (sp->n_segs == sp->cap_segs) {
		sp->cap_segs = sp->cap_segs ? sp->cap_segs * 2 : 16;
		sp->segs =
		    xreallocarray(sp->segs, sp->cap_segs, sizeof(*sp->segs));
	}
	g = &sp->segs[sp->n_segs++];
	g->id = id;
	g->bytes = 0;
	g->pending = 0;
	return g;
}

/* Deletes segment g's file and forgets it. */
static void
spool_seg_remove(struct spool *sp, struct spool_seg *g)
{
	char *path = spool_seg_path(sp, g->id);
	size_t i = (size_t)(g - sp->segs);

	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("spool: cannot remove %s", path);
	free(path);
	sp->bytes -= g->bytes;
	memmove(&sp->segs[i], &sp->segs[i + 1],
	    (sp->n_segs - i - 1) * sizeof(*sp->segs));
	sp->n_segs--;
}

/* Parses one record line (NUL-terminated, without its newline). */
static int
spool_parse(char *line, struct spool_record *r)
{
	char *p = line, *end;
	long long acc;
	size_t i;

	errno = 0;
	acc = strtoll(p, &end, 10);
	if (end == p || *end != ' ' || errno == ERANGE || acc <= 0)
		return -1;
	p = end + 1;
	r->t = strtod(p, &end);
	if (end == p || *end != ' ' || !isfinite(r->t) || r->t <= 0)
		return -1;
	p = end + 1;
	r->v = strtod(p, &end);
	if (end == p || *end != ' ' || !isfinite(r->v))
		return -1;
	p = end + 1;
	for (i = 0; p[i] != '\0'; i++)
		if ((unsigned char)p[i] <= ' ' || p[i] == 127)
			return -1;
	if (i == 0 || i > SPOOL_PATH_MAX)
		return -1;
	r->account_id = acc;
	r->path = p;
	return 0;
}

/* Reads a whole segment file; NULL (logged) when it cannot. */
static char *
spool_read_file(const char *path, size_t *len)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		log_warn("spool: cannot open %s", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || st.st_size < 0 ||
	    st.st_size > SPOOL_FILE_MAX) {
		log_warnx("spool: %s: not a readable segment (size %lld); "
		          "skipped",
		    path, (long long)st.st_size);
		close(fd);
		return NULL;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, data + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	data[got] = '\0';
	*len = got;
	return data;
}

/* Replays one segment; returns how many records it delivered to cb. */
static uint64_t
spool_load_seg(struct spool *sp, uint32_t id, spool_load_cb *cb, void *arg,
    uint64_t *bytes)
{
	struct spool_record r;
	char *path = spool_seg_path(sp, id), *data, *line, *nl;
	size_t len = 0, bad = 0;
	uint64_t n = 0;

	*bytes = 0;
	data = spool_read_file(path, &len);
	if (data == NULL) {
		free(path);
		return 0;
	}
	*bytes = len;
	line = data;
	while (line < data + len) {
		nl = memchr(line, '\n', (size_t)(data + len - line));
		if (nl == NULL) {
			log_warnx("spool: %s: the last record is truncated "
			          "(%zu bytes); skipped",
			    path, (size_t)(data + len - line));
			break;
		}
		*nl = '\0';
		if (spool_parse(line, &r) == 0) {
			cb(&r, id, arg);
			n++;
		} else {
			bad++;
		}
		line = nl + 1;
	}
	if (bad > 0)
		log_warnx(
		    "spool: %s: %zu unreadable records skipped", path, bad);
	free(data);
	free(path);
	return n;
}

static int
spool_cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Collects the ids of the segment files in the directory, ascending. */
static int
spool_list(
    struct spool *sp, uint32_t **ids, size_t *n, char *err, size_t errlen)
{
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	*ids = NULL;
	*n = 0;
	d = opendir(sp->dir);
	if (d == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", sp->dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long id;

		if (strncmp(de->d_name, "seg-", 4) != 0)
			continue;
		errno = 0;
		id = strtoul(de->d_name + 4, &end, 10);
		if (end == de->d_name + 4 || strcmp(end, ".spool") != 0 ||
		    errno == ERANGE || id == 0 || id >= UINT32_MAX)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*ids = xreallocarray(*ids, cap, sizeof(**ids));
		}
		(*ids)[(*n)++] = (uint32_t)id;
	}
	closedir(d);
	if (*n > 0)
		qsort(*ids, *n, sizeof(**ids), spool_cmp_id);
	return 0;
}

struct spool *
spool_open(const char *dir, uint64_t max_bytes, spool_load_cb *cb, void *arg,
    char *err, size_t errlen)
{
	struct spool *sp;
	uint32_t *ids = NULL;
	size_t n_ids = 0, i;
	uint64_t loaded = 0;
	char *lock;

	sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(dir);
	sp->fd = -1;
	sp->lock_fd = -1;
	sp->max_bytes = max_bytes;
	buf_init(&sp->staged, SIZE_MAX / 2);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(
		    err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	lock = xasprintf("%s/lock", dir);
	sp->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lock);
	if (sp->lock_fd == -1) {
		snprintf(err, errlen, "cannot write in %s: %s", dir,
		    strerror(errno));
		goto fail;
	}
	if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "%s is in use by another process (%s)",
		    dir, strerror(errno));
		goto fail;
	}
	if (spool_list(sp, &ids, &n_ids, err, errlen) == -1)
		goto fail;
	for (i = 0; i < n_ids; i++) {
		struct spool_seg *g;
		uint64_t bytes, n;

		n = spool_load_seg(sp, ids[i], cb, arg, &bytes);
		g = spool_seg_add(sp, ids[i]);
		g->bytes = bytes;
		g->pending = n;
		sp->bytes += bytes;
		sp->pending += n;
		loaded += n;
		if (n == 0)
			spool_seg_remove(sp, g);
	}
	sp->next_id = n_ids > 0 ? ids[n_ids - 1] + 1 : 1;
	if (n_ids > 0)
		log_info("spool %s: %llu values loaded from %zu files", dir,
		    (unsigned long long)loaded, n_ids);
	free(ids);
	return sp;
fail:
	free(ids);
	spool_close(sp);
	return NULL;
}

/* Closes the active segment, removing it when nothing in it is pending. */
static void
spool_close_active(struct spool *sp)
{
	struct spool_seg *g;

	if (sp->fd == -1)
		return;
	close(sp->fd);
	sp->fd = -1;
	g = spool_find(sp, sp->active_id);
	if (g != NULL && g->pending == 0)
		spool_seg_remove(sp, g);
	sp->active_id = 0;
}

void
spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	spool_close_active(sp);
	if (sp->lock_fd != -1)
		close(sp->lock_fd);
	buf_release(&sp->staged);
	free(sp->segs);
	free(sp->dir);
	free(sp);
}

void
spool_add(
    struct spool *sp, int64_t account_id, const char *path, double v, double t)
{
	char num[40], when[40];

	values_format_number(v, num, sizeof(num));
	values_format_time(t, when, sizeof(when));
	if (buf_printf(&sp->staged, "%lld %s %s %s\n", (long long)account_id,
	        when, num, path) == 0)
		sp->n_staged++;
}

/* Starts a new active segment; the old one stays until it drains. */
static int
spool_rotate(struct spool *sp)
{
	char *path;
	int fd;

	spool_close_active(sp);
	path = spool_seg_path(sp, sp->next_id);
	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_warnx_limited(&sp->io_limit, 60000,
		    "spool: cannot create %s: %s; values are kept in memory "
		    "only",
		    path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	sp->fd = fd;
	sp->active_id = sp->next_id++;
	spool_seg_add(sp, sp->active_id);
	return 0;
}

static uint32_t spool_write(struct spool *sp, size_t n);

uint32_t
spool_commit(struct spool *sp)
{
	size_t n = sp->n_staged;
	uint32_t id;

	sp->n_staged = 0;
	id = n > 0 ? spool_write(sp, n) : 0;
	buf_reset(&sp->staged);
	return id;
}

/* Writes the n staged records; the segment id or 0. */
static uint32_t
spool_write(struct spool *sp, size_t n)
{
	struct spool_seg *g;
	size_t off = 0, len = sp->staged.len;
	ssize_t w;

	if (sp->max_bytes > 0 && sp->bytes + len > sp->max_bytes) {
		log_warnx_limited(&sp->full_limit, 60000,
		    "spool %s: full (%llu bytes); new values are kept in "
		    "memory only",
		    sp->dir, (unsigned long long)sp->bytes);
		return 0;
	}
	g = sp->fd != -1 ? spool_find(sp, sp->active_id) : NULL;
	if (g == NULL || g->bytes >= SPOOL_SEGMENT_MAX) {
		if (spool_rotate(sp) == -1)
			return 0;
		g = spool_find(sp, sp->active_id);
	}
	while (off < len) {
		w = write(sp->fd, sp->staged.data + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warnx_limited(&sp->io_limit, 60000,
			    "spool %s: write failed: %s; values are kept in "
			    "memory only",
			    sp->dir, w == -1 ? strerror(errno) : "no space");
			/* Cut off the partial record so the file stays a
			 * clean sequence of lines. */
			if (ftruncate(sp->fd, (off_t)g->bytes) == -1)
				log_warn("spool %s: ftruncate", sp->dir);
			return 0;
		}
		off += (size_t)w;
	}
	g->bytes += len;
	g->pending += n;
	sp->bytes += len;
	sp->pending += n;
	return g->id;
}

void
spool_release(struct spool *sp, uint32_t seg, size_t n)
{
	struct spool_seg *g;

	if (sp == NULL || seg == 0)
		return;
	g = spool_find(sp, seg);
	if (g == NULL)
		return;
	if (n > g->pending)
		n = (size_t)g->pending;
	g->pending -= n;
	sp->pending -= n;
	if (g->pending > 0)
		return;
	if (seg != sp->active_id) {
		spool_seg_remove(sp, g);
		return;
	}
	/* Everything written so far is done: start the file over. */
	if (ftruncate(sp->fd, 0) == -1) {
		log_warn("spool %s: ftruncate", sp->dir);
		return;
	}
	sp->bytes -= g->bytes;
	g->bytes = 0;
}

uint64_t
spool_bytes(const struct spool *sp)
{
	return sp->bytes;
}

uint64_t
spool_pending(const struct spool *sp)
{
	return sp->pending;
}

const char *
spool_dir(const struct spool *sp)
{
	return sp->dir;
}
