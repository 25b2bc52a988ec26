/*
 * The disk spool: segment files "seg-<id>.spool" in one directory, each a
 * sequence of text records "<account> <t> <v> <path>\n" appended with a
 * single write(2) per batch of values.  Replaying segments in id order
 * (ids wrap from 2^32 - 1 to 1; the oldest follows the widest gap) replays
 * values in the order they were queued.  Each segment counts the records
 * still pending in memory; when that count reaches zero the segment is
 * deleted, or truncated if it is the one being written, so in steady
 * state (backend up) the spool stays near empty.  Records finished while
 * others of their segment are pending are listed, as ranges of record
 * indexes "<first> <count>\n", in "done-<id>", so a restart loads only
 * what is pending.  A process killed mid-write can leave a record without
 * its newline at the end of the last segment; loading skips it with a
 * warning, and new records always go to a new segment, never after such a
 * tail.  Every file is opened relative to the directory, without following
 * symbolic links and without blocking on a FIFO, and must be a regular
 * file.
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
#define SPOOL_CHUNK       (64 * 1024) /* read size; longer lines are bad */
#define SPOOL_DONE_MAX    (4 * 1024 * 1024) /* a bigger done file: unused */
#define SPOOL_ID_TRIES    64
#define SPOOL_NAME_LEN    32

struct spool_seg {
	uint32_t id;
	uint32_t n_recs; /* records in the file: the next one's index */
	uint64_t bytes;
	uint64_t pending;
	struct buf done;           /* finished ranges not yet on disk */
	uint32_t run_first, run_n; /* the range being extended */
	int done_torn;             /* its done file ends in a cut line */
};

struct spool {
	char *dir;
	int dir_fd;
	int lock_fd;
	int fd;             /* the active segment, -1 when none */
	uint32_t active_id; /* 0 when none */
	uint32_t next_id;
	uint32_t commit_rec;
	struct spool_seg *segs;
	size_t n_segs, cap_segs;
	uint32_t *load_ids; /* found by spool_open, oldest first */
	size_t n_load;
	int loading;
	uint64_t bytes, max_bytes, pending;
	struct buf staged;
	size_t n_staged;
	struct log_limit full_limit, io_limit;
};

/* --- names and files ------------------------------------------------- */

static void
spool_name(char *out, const char *prefix, uint32_t id, const char *suffix)
{
	snprintf(out, SPOOL_NAME_LEN, "%s%010u%s", prefix, id, suffix);
}

/* The id of a name that is exactly prefix, ten digits, suffix (the only
 * form written), 1 .. 2^32 - 1; 0 for any other name. */
static uint32_t
spool_name_id(const char *name, const char *prefix, const char *suffix)
{
	size_t lp = strlen(prefix), i;
	uint64_t x = 0;

	if (strncmp(name, prefix, lp) != 0)
		return 0;
	for (i = lp; i < lp + 10; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		x = x * 10 + (uint64_t)(name[i] - '0');
	}
	if (strcmp(name + i, suffix) != 0 || x > UINT32_MAX)
		return 0;
	return (uint32_t)x;
}

static uint32_t
spool_id_after(uint32_t id)
{
	return id == UINT32_MAX ? 1 : id + 1;
}

/* Why a spool file could not be used. */
static const char *
spool_why(int e)
{
	if (e == ELOOP)
		return "not a regular file (a symbolic link, FIFO or device)";
	return strerror(e);
}

/* Opens name in the spool directory without following a symbolic link
 * or blocking on a FIFO; -1 with errno (ELOOP: not a regular file). */
static int
spool_open_file(struct spool *sp, const char *name, int flags, mode_t mode)
{
	struct stat st;
	int fd, e;

	fd = openat(sp->dir_fd, name,
	    flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		e = errno;
		if (fstat(fd, &st) == 0)
			e = ELOOP;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
spool_unlink(struct spool *sp, const char *name)
{
	if (unlinkat(sp->dir_fd, name, 0) == -1 && errno != ENOENT)
		log_warn("spool %s: cannot remove %s", sp->dir, name);
}

/* --- segments -------------------------------------------------------- */

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
	memset(g, 0, sizeof(*g));
	g->id = id;
	buf_init(&g->done, SIZE_MAX / 2);
	return g;
}

/* Deletes segment g's files and forgets it. */
static void
spool_seg_remove(struct spool *sp, struct spool_seg *g)
{
	char name[SPOOL_NAME_LEN];
	size_t i = (size_t)(g - sp->segs);

	spool_name(name, "seg-", g->id, ".spool");
	spool_unlink(sp, name);
	spool_name(name, "done-", g->id, "");
	spool_unlink(sp, name);
	buf_release(&g->done);
	sp->bytes -= g->bytes;
	memmove(&sp->segs[i], &sp->segs[i + 1],
	    (sp->n_segs - i - 1) * sizeof(*sp->segs));
	sp->n_segs--;
}

/* --- progress -------------------------------------------------------- */

static void
spool_flush_run(struct spool_seg *g)
{
	if (g->run_n == 0)
		return;
	if (buf_printf(&g->done, "%u %u\n", g->run_first, g->run_n) == -1)
		log_warnx("spool: progress of segment %u lost", g->id);
	g->run_n = 0;
}

/* Appends g's finished ranges to its done file. */
static void
spool_sync_seg(struct spool *sp, struct spool_seg *g)
{
	char name[SPOOL_NAME_LEN];
	size_t off = 0;
	ssize_t w;
	int fd;

	spool_flush_run(g);
	if (g->done.len == 0)
		return;
	if (g->done_torn) {
		/* Spoil and end the cut line, which was not used, or the
		 * next range would join it. */
		if (buf_append(&g->done, "#\n", 2) == -1)
			return;
		memmove(g->done.data + 2, g->done.data, g->done.len - 2);
		memcpy(g->done.data, "#\n", 2);
		g->done_torn = 0;
	}
	spool_name(name, "done-", g->id, "");
	fd = spool_open_file(sp, name, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd == -1) {
		log_warnx_limited(&sp->io_limit, 60000,
		    "spool %s: cannot write %s: %s; delivered values may be "
		    "sent again after a restart",
		    sp->dir, name, spool_why(errno));
		buf_reset(&g->done);
		return;
	}
	while (off < g->done.len) {
		w = write(fd, g->done.data + off, g->done.len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warnx_limited(&sp->io_limit, 60000,
			    "spool %s: cannot write %s: %s; delivered values "
			    "may be sent again after a restart",
			    sp->dir, name, w == -1 ? strerror(errno) : "full");
			break;
		}
		off += (size_t)w;
	}
	close(fd);
	buf_reset(&g->done);
}

static void
spool_sync(struct spool *sp)
{
	size_t i;

	for (i = 0; i < sp->n_segs; i++)
		spool_sync_seg(sp, &sp->segs[i]);
}

/* Notes records rec .. rec + n - 1 of g as finished. */
static void
spool_mark(struct spool *sp, struct spool_seg *g, uint32_t rec, size_t n)
{
	if (g->run_n > 0 && rec == g->run_first + g->run_n &&
	    n <= UINT32_MAX - g->run_n) {
		g->run_n += (uint32_t)n;
		return;
	}
	spool_flush_run(g);
	g->run_first = rec;
	g->run_n = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	if (g->done.len >= SPOOL_CHUNK)
		spool_sync_seg(sp, g);
}

/* One range of finished records from a done file: first .. end - 1. */
struct spool_range {
	uint32_t first, end;
};

static int
spool_cmp_range(const void *a, const void *b)
{
	uint32_t x = ((const struct spool_range *)a)->first;
	uint32_t y = ((const struct spool_range *)b)->first;

	return x < y ? -1 : x > y;
}

/* The ranges of records of segment id already finished (its done file),
 * sorted by their first record; NULL when there are none. */
static struct spool_range *
spool_read_done(struct spool *sp, uint32_t id, size_t *n_ranges, int *torn)
{
	char name[SPOOL_NAME_LEN], *data, *line, *nl, *end;
	unsigned long long first, n;
	struct spool_range *rg = NULL;
	struct stat st;
	size_t len = 0, bad = 0, cap = 0;
	ssize_t r;
	int fd;

	*n_ranges = 0;
	spool_name(name, "done-", id, "");
	fd = spool_open_file(sp, name, O_RDONLY, 0);
	if (fd == -1) {
		if (errno != ENOENT)
			log_warnx("spool %s: cannot read %s: %s; its segment "
			          "is loaded whole",
			    sp->dir, name, spool_why(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || st.st_size > SPOOL_DONE_MAX) {
		log_warnx("spool %s: %s is too big; its segment is loaded "
		          "whole",
		    sp->dir, name);
		close(fd);
		return NULL;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		r = read(fd, data + len, (size_t)st.st_size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	data[len] = '\0';
	*torn = len > 0 && data[len - 1] != '\n';
	for (line = data;
	     (nl = memchr(line, '\n', len - (size_t)(line - data))) != NULL;
	     line = nl + 1) {
		*nl = '\0';
		if (line[0] < '0' || line[0] > '9' ||
		    strlen(line) != (size_t)(nl - line))
			goto bad;
		errno = 0;
		first = strtoull(line, &end, 10);
		if (*end != ' ' || end[1] < '0' || end[1] > '9' ||
		    errno == ERANGE)
			goto bad;
		n = strtoull(end + 1, &end, 10);
		if (*end != '\0' || errno == ERANGE || n == 0 ||
		    first >= UINT32_MAX || n > UINT32_MAX - first)
			goto bad;
		if (*n_ranges == cap) {
			cap = cap ? cap * 2 : 64;
			rg = xreallocarray(rg, cap, sizeof(*rg));
		}
		rg[*n_ranges].first = (uint32_t)first;
		rg[*n_ranges].end = (uint32_t)(first + n);
		(*n_ranges)++;
		continue;
	bad:
		bad++;
	}
	if (bad > 0)
		log_warnx("spool %s: %s: %zu unreadable lines skipped", sp->dir,
		    name, bad);
	free(data);
	if (*n_ranges > 0)
		qsort(rg, *n_ranges, sizeof(*rg), spool_cmp_range);
	return rg;
}

/* 1 if record rec is in one of the ranges; *ri walks them as rec grows. */
static int
spool_in_ranges(
    const struct spool_range *rg, size_t n, size_t *ri, uint32_t rec)
{
	while (*ri < n && rg[*ri].end <= rec)
		(*ri)++;
	return *ri < n && rg[*ri].first <= rec;
}

/* --- loading --------------------------------------------------------- */

/* Parses one record line (NUL-terminated, without its newline). */
static int
spool_parse(char *line, struct spool_record *r)
{
	char *p = line, *end;
	long long acc;
	size_t i;

	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	acc = strtoll(p, &end, 10);
	if (end == p || *end != ' ' || errno == ERANGE || acc <= 0)
		return -1;
	p = end + 1;
	r->t = strtod(p, &end);
	if (end == p || *end != ' ' || !values_time_valid(r->t))
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

/* Replays segment id from the start, reading SPOOL_CHUNK bytes at a
 * time; returns how many records it delivered to cb, adds the records
 * skipped as finished to *n_done. */
static uint64_t
spool_load_seg(struct spool *sp, uint32_t id, spool_load_cb *cb, void *arg,
    uint64_t *n_done)
{
	char name[SPOOL_NAME_LEN], *data, *line, *nl;
	struct spool_record r;
	struct spool_range *done;
	struct stat st;
	size_t len = 0, start, bad = 0, n_done_rg, ri = 0, gi;
	uint64_t n = 0, bytes = 0;
	uint32_t rec = 0;
	int fd, skipping = 0;
	ssize_t got;

	spool_name(name, "seg-", id, ".spool");
	fd = spool_open_file(sp, name, O_RDONLY, 0);
	if (fd == -1 || fstat(fd, &st) == -1) {
		log_warnx("spool %s: cannot read %s: %s; skipped", sp->dir,
		    name, spool_why(errno));
		if (fd != -1)
			close(fd);
		return 0;
	}
	gi = (size_t)(spool_seg_add(sp, id) - sp->segs);
	done = spool_read_done(sp, id, &n_done_rg, &sp->segs[gi].done_torn);
	data = xmalloc(SPOOL_CHUNK + 1);
	for (;;) {
		got = read(fd, data + len, SPOOL_CHUNK - len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			log_warn("spool %s: reading %s", sp->dir, name);
		if (got <= 0)
			break;
		len += (size_t)got;
		bytes += (uint64_t)got;
		start = 0;
		while ((nl = memchr(data + start, '\n', len - start)) != NULL) {
			line = data + start;
			*nl = '\0';
			start = (size_t)(nl - data) + 1;
			if (skipping) {
				skipping = 0;
				bad++;
			} else if (spool_in_ranges(done, n_done_rg, &ri, rec)) {
				(*n_done)++;
			} else if (strlen(line) == (size_t)(nl - line) &&
			    spool_parse(line, &r) == 0) {
				r.rec = rec;
				sp->segs[gi].pending++;
				sp->pending++;
				n++;
				cb(&r, id, arg);
			} else {
				bad++;
			}
			if (rec == UINT32_MAX - 1)
				goto full;
			rec++;
		}
		memmove(data, data + start, len - start);
		len -= start;
		if (len == SPOOL_CHUNK) {
			/* Longer than any record: skip to its end. */
			skipping = 1;
			len = 0;
		}
	}
	if (len > 0 || skipping)
		log_warnx("spool %s: %s: the last record is truncated; skipped",
		    sp->dir, name);
	goto out;
full:
	log_warnx("spool %s: %s: too many records; the rest is skipped",
	    sp->dir, name);
out:
	if (bad > 0)
		log_warnx("spool %s: %s: %zu unreadable records skipped",
		    sp->dir, name, bad);
	sp->segs[gi].bytes =
	    (uint64_t)st.st_size > bytes ? (uint64_t)st.st_size : bytes;
	sp->segs[gi].n_recs = rec;
	sp->bytes += sp->segs[gi].bytes;
	close(fd);
	free(data);
	free(done);
	return n;
}

void
spool_load(struct spool *sp, spool_load_cb *cb, void *arg)
{
	uint64_t loaded = 0, n_done = 0;
	size_t i;

	sp->loading = 1;
	for (i = 0; i < sp->n_load; i++)
		loaded += spool_load_seg(sp, sp->load_ids[i], cb, arg, &n_done);
	sp->loading = 0;
	/* What was finished while loading, or is empty, goes now. */
	for (i = sp->n_segs; i > 0; i--)
		if (sp->segs[i - 1].id != sp->active_id &&
		    sp->segs[i - 1].pending == 0)
			spool_seg_remove(sp, &sp->segs[i - 1]);
	spool_sync(sp);
	if (sp->n_load > 0 && n_done > 0)
		log_info("spool %s: %llu values loaded from %zu files (%llu "
		         "finished before the restart were skipped)",
		    sp->dir, (unsigned long long)loaded, sp->n_load,
		    (unsigned long long)n_done);
	else if (sp->n_load > 0)
		log_info("spool %s: %llu values loaded from %zu files", sp->dir,
		    (unsigned long long)loaded, sp->n_load);
	free(sp->load_ids);
	sp->load_ids = NULL;
	sp->n_load = 0;
}

/* --- opening --------------------------------------------------------- */

static int
spool_cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted ids into queue order: ids wrap, so the oldest is the one after
 * the widest gap (the wrap-around gap when they have not wrapped). */
static void
spool_queue_order(uint32_t *ids, size_t n)
{
	uint32_t best, gap, *tmp;
	size_t i, start = 0;

	if (n < 2)
		return;
	best = (UINT32_MAX - ids[n - 1]) + (ids[0] - 1);
	for (i = 1; i < n; i++) {
		gap = ids[i] - ids[i - 1] - 1;
		if (gap > best) {
			best = gap;
			start = i;
		}
	}
	if (start == 0)
		return;
	tmp = xreallocarray(NULL, n, sizeof(*tmp));
	memcpy(tmp, ids + start, (n - start) * sizeof(*ids));
	memcpy(tmp + (n - start), ids, start * sizeof(*ids));
	memcpy(ids, tmp, n * sizeof(*ids));
	free(tmp);
}

static void
spool_push_id(uint32_t **ids, size_t *n, size_t *cap, uint32_t id)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*ids = xreallocarray(*ids, *cap, sizeof(**ids));
	}
	(*ids)[(*n)++] = id;
}

/* Finds the segments to load (oldest first) and removes done files
 * without a segment. */
static int
spool_scan(struct spool *sp, char *err, size_t errlen)
{
	uint32_t *ids = NULL, *dones = NULL, id;
	size_t n = 0, cap = 0, n_dones = 0, cap_dones = 0, i;
	struct dirent *de;
	char name[SPOOL_NAME_LEN];
	DIR *d;
	int fd;

	fd = dup(sp->dir_fd);
	d = fd == -1 ? NULL : fdopendir(fd);
	if (d == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", sp->dir,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if ((id = spool_name_id(de->d_name, "seg-", ".spool")) != 0)
			spool_push_id(&ids, &n, &cap, id);
		else if ((id = spool_name_id(de->d_name, "done-", "")) != 0)
			spool_push_id(&dones, &n_dones, &cap_dones, id);
		else if (strncmp(de->d_name, "seg-", 4) == 0 ||
		    strncmp(de->d_name, "done-", 5) == 0)
			log_warnx("spool %s: \"%.80s\" is not a name the spool "
			          "writes; ignored",
			    sp->dir, de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(ids, n, sizeof(*ids), spool_cmp_id);
	for (i = 0; i < n_dones; i++)
		if (n == 0 ||
		    bsearch(&dones[i], ids, n, sizeof(*ids), spool_cmp_id) ==
		        NULL) {
			spool_name(name, "done-", dones[i], "");
			spool_unlink(sp, name);
		}
	free(dones);
	spool_queue_order(ids, n);
	sp->load_ids = ids;
	sp->n_load = n;
	sp->next_id = n > 0 ? spool_id_after(ids[n - 1]) : 1;
	return 0;
}

/* Refuses a directory anyone may write in: others could plant values,
 * links or FIFOs there.  Warns about one a group or another user may
 * write in. */
static int
spool_check_dir(struct spool *sp, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(sp->dir_fd, &st) == -1) {
		snprintf(err, errlen, "cannot stat %s: %s", sp->dir,
		    strerror(errno));
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(err, errlen,
		    "%s is writable by every user (mode %04o): refused; make "
		    "it mode 0700, owned by the bot's user",
		    sp->dir, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (st.st_mode & S_IWGRP)
		log_warnx("spool %s: writable by its group (mode %04o); 0700 "
		          "is safer",
		    sp->dir, (unsigned)(st.st_mode & 07777));
	if (st.st_uid != geteuid())
		log_warnx("spool %s: owned by uid %u, not by this process (uid "
		          "%u)",
		    sp->dir, (unsigned)st.st_uid, (unsigned)geteuid());
	return 0;
}

struct spool *
spool_open(const char *dir, uint64_t max_bytes, spool_load_cb *cb, void *arg,
    char *err, size_t errlen)
{
	struct spool *sp;

	sp = xcalloc(1, sizeof(*sp));
	sp->dir = xstrdup(dir);
	sp->fd = -1;
	sp->lock_fd = -1;
	sp->dir_fd = -1;
	sp->max_bytes = max_bytes;
	buf_init(&sp->staged, SIZE_MAX / 2);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(
		    err, errlen, "cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	sp->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dir_fd == -1) {
		snprintf(
		    err, errlen, "cannot open %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (spool_check_dir(sp, err, errlen) == -1)
		goto fail;
	sp->lock_fd = spool_open_file(sp, "lock", O_RDWR | O_CREAT, 0600);
	if (sp->lock_fd == -1) {
		snprintf(err, errlen, "cannot use %s/lock: %s", dir,
		    spool_why(errno));
		goto fail;
	}
	if (flock(sp->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "%s is in use by another process (%s)",
		    dir, strerror(errno));
		goto fail;
	}
	if (spool_scan(sp, err, errlen) == -1)
		goto fail;
	if (cb != NULL)
		spool_load(sp, cb, arg);
	return sp;
fail:
	spool_close(sp);
	return NULL;
}

/* --- writing --------------------------------------------------------- */

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
	sp->active_id = 0;
	if (g != NULL && g->pending == 0)
		spool_seg_remove(sp, g);
}

void
spool_close(struct spool *sp)
{
	size_t i;

	if (sp == NULL)
		return;
	if (sp->dir_fd != -1)
		spool_sync(sp);
	spool_close_active(sp);
	if (sp->lock_fd != -1)
		close(sp->lock_fd);
	if (sp->dir_fd != -1)
		close(sp->dir_fd);
	for (i = 0; i < sp->n_segs; i++)
		buf_release(&sp->segs[i].done);
	buf_release(&sp->staged);
	free(sp->load_ids);
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
	char name[SPOOL_NAME_LEN];
	uint32_t id;
	int fd, tries;

	spool_close_active(sp);
	for (tries = 0; tries < SPOOL_ID_TRIES; tries++) {
		id = sp->next_id;
		sp->next_id = spool_id_after(id);
		if (spool_find(sp, id) != NULL)
			continue;
		spool_name(name, "seg-", id, ".spool");
		fd = openat(sp->dir_fd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW |
		        O_CLOEXEC,
		    0600);
		if (fd == -1 && errno == EEXIST)
			continue; /* not ours: a file we could not load */
		if (fd == -1)
			break;
		/* No earlier progress may apply to the new records. */
		spool_name(name, "done-", id, "");
		spool_unlink(sp, name);
		sp->fd = fd;
		sp->active_id = id;
		spool_seg_add(sp, id);
		return 0;
	}
	log_warnx_limited(&sp->io_limit, 60000,
	    "spool %s: cannot create a segment: %s; values are kept in "
	    "memory only",
	    sp->dir, tries == SPOOL_ID_TRIES ? "no free id" : strerror(errno));
	return -1;
}

static uint32_t spool_write(struct spool *sp, size_t n);

uint32_t
spool_commit(struct spool *sp)
{
	size_t n = sp->n_staged;
	uint32_t id;

	sp->n_staged = 0;
	spool_sync(sp);
	id = n > 0 ? spool_write(sp, n) : 0;
	buf_reset(&sp->staged);
	return id;
}

uint32_t
spool_commit_rec(const struct spool *sp)
{
	return sp->commit_rec;
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
	if (g == NULL || g->bytes >= SPOOL_SEGMENT_MAX ||
	    n > UINT32_MAX - 1 - g->n_recs) {
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
	sp->commit_rec = g->n_recs;
	g->n_recs += (uint32_t)n;
	g->bytes += len;
	g->pending += n;
	sp->bytes += len;
	sp->pending += n;
	return g->id;
}

/* The active segment has nothing pending: start its file over. */
static void
spool_restart_active(struct spool *sp, struct spool_seg *g)
{
	char name[SPOOL_NAME_LEN];

	buf_reset(&g->done);
	g->run_n = 0;
	spool_name(name, "done-", g->id, "");
	if ((unlinkat(sp->dir_fd, name, 0) == -1 && errno != ENOENT) ||
	    ftruncate(sp->fd, 0) == -1) {
		log_warn(
		    "spool %s: cannot start segment %u over", sp->dir, g->id);
		spool_close_active(sp); /* removes it */
		return;
	}
	sp->bytes -= g->bytes;
	g->bytes = 0;
	g->n_recs = 0;
}

void
spool_release(struct spool *sp, uint32_t seg, uint32_t rec, size_t n)
{
	struct spool_seg *g;

	if (sp == NULL || seg == 0 || n == 0)
		return;
	g = spool_find(sp, seg);
	if (g == NULL)
		return;
	if (n > g->pending)
		n = (size_t)g->pending;
	g->pending -= n;
	sp->pending -= n;
	if (g->pending > 0 || sp->loading) {
		spool_mark(sp, g, rec, n);
		return;
	}
	if (seg != sp->active_id) {
		spool_seg_remove(sp, g);
		return;
	}
	spool_restart_active(sp, g);
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
