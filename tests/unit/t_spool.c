/*
 * Unit tests for spool.c in a scratch directory: records come back in the
 * order written and exactly as written, released segments disappear, a
 * truncated last record and garbage lines are skipped, a second opener is
 * locked out, and the byte bound refuses new records.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"
#include "t.h"

struct got {
	size_t n;
	int64_t account[64];
	char path[64][64];
	double v[64], t[64];
	uint32_t seg[64], rec[64];
};

static void
collect(const struct spool_record *r, uint32_t seg, void *arg)
{
	struct got *g = arg;

	if (g->n < 64) {
		g->account[g->n] = r->account_id;
		snprintf(g->path[g->n], sizeof(g->path[0]), "%s", r->path);
		g->v[g->n] = r->v;
		g->t[g->n] = r->t;
		g->seg[g->n] = seg;
		g->rec[g->n] = r->rec;
	}
	g->n++;
}

static void
scratch(char *dir, size_t len, const char *name)
{
	snprintf(dir, len, "%s/%s", t_tmpdir(), name);
}

/* Segment files in dir. */
static size_t
count_segments(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "seg-", 4) == 0)
			n++;
	closedir(d);
	return n;
}

T_TEST(spool_roundtrip_in_order)
{
	char dir[256], err[256];
	struct got g = {0};
	struct spool *sp;
	uint32_t s1, s2;

	scratch(dir, sizeof(dir), "rt");
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 0);
	spool_add(sp, 7, "a.b", 1.5, 1700000000.25);
	spool_add(sp, 7, "a.c", -0.1, 1700000000.000001);
	s1 = spool_commit(sp);
	spool_add(sp, 9, "x%2ey", 1e300, 1700000001.5);
	s2 = spool_commit(sp);
	T_ASSERT(s1 != 0);
	T_EQ_INT(s1, s2);
	T_EQ_INT(spool_pending(sp), 3);
	T_EQ_INT(spool_commit(sp), 0); /* nothing staged */
	spool_close(sp);

	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 3);
	T_EQ_STR(g.path[0], "a.b");
	T_EQ_INT(g.account[0], 7);
	T_EQ_DBL(g.v[0], 1.5, 0);
	T_EQ_DBL(g.t[0], 1700000000.25, 0);
	T_EQ_STR(g.path[1], "a.c");
	T_EQ_DBL(g.v[1], -0.1, 0);
	T_EQ_DBL(g.t[1], 1700000000.000001, 1e-7);
	T_EQ_STR(g.path[2], "x%2ey");
	T_EQ_INT(g.account[2], 9);
	T_EQ_DBL(g.v[2], 1e300, 0);
	T_EQ_INT(spool_pending(sp), 3);
	/* Delivered: the old segment goes away. */
	spool_release(sp, g.seg[0], 0, 3);
	T_EQ_INT(spool_pending(sp), 0);
	T_EQ_INT(count_segments(dir), 0);
	spool_close(sp);
	g.n = 0;
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 0);
	spool_close(sp);
}

T_TEST(spool_active_segment_truncated_when_done)
{
	char dir[256], err[256];
	struct got g = {0};
	struct spool *sp;
	uint32_t seg;

	scratch(dir, sizeof(dir), "trunc");
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	spool_add(sp, 1, "a", 1, 1700000000);
	seg = spool_commit(sp);
	T_ASSERT(spool_bytes(sp) > 0);
	T_EQ_INT(spool_commit_rec(sp), 0);
	spool_release(sp, seg, 0, 1);
	T_EQ_INT(spool_bytes(sp), 0);
	/* Steady state: write, deliver, truncate; the file is reused. */
	spool_add(sp, 1, "b", 2, 1700000001);
	T_EQ_INT(spool_commit(sp), seg);
	T_EQ_INT(spool_commit_rec(sp), 0); /* the file started over */
	spool_close(sp);
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 1);
	T_EQ_STR(g.path[0], "b");
	spool_release(sp, g.seg[0], g.rec[0], 1);
	spool_close(sp);
	T_EQ_INT(count_segments(dir), 0);
}

T_TEST(spool_skips_truncated_tail_and_garbage)
{
	char dir[256], err[256], *path;
	struct got g = {0};
	struct spool *sp;
	struct stat st;
	FILE *f;

	scratch(dir, sizeof(dir), "tail");
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	spool_add(sp, 1, "a", 1, 1700000000);
	spool_add(sp, 1, "b", 2, 1700000001);
	spool_add(sp, 1, "c", 3, 1700000002);
	T_ASSERT(spool_commit(sp) == 1);
	spool_close(sp);
	path = malloc(512);
	snprintf(path, 512, "%s/seg-%010u.spool", dir, 1u);
	T_ASSERT(stat(path, &st) == 0);
	/* Cut the last record in the middle, as a kill during write. */
	T_ASSERT(truncate(path, st.st_size - 5) == 0);
	/* A second segment with a bad line between good ones. */
	snprintf(path, 512, "%s/seg-%010u.spool", dir, 2u);
	f = fopen(path, "w");
	T_ASSERT(f != NULL);
	fputs("1 1700000003.000000 4 d\nnot a record\n"
	      "1 1700000004.000000 nan e\n0 1700000005.000000 5 f\n"
	      "1 1700000006.000000 6 g\n",
	    f);
	fclose(f);
	free(path);
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 4);
	T_EQ_STR(g.path[0], "a");
	T_EQ_STR(g.path[1], "b");
	T_EQ_STR(g.path[2], "d");
	T_EQ_STR(g.path[3], "g");
	T_EQ_INT(g.seg[1], 1);
	T_EQ_INT(g.seg[2], 2);
	/* New records never follow a torn tail: a new segment. */
	spool_add(sp, 1, "h", 7, 1700000007);
	T_EQ_INT(spool_commit(sp), 3);
	T_EQ_INT(g.rec[3], 4); /* g is the fifth line */
	spool_release(sp, 1, 0, 2);
	spool_release(sp, 2, g.rec[2], 1);
	spool_release(sp, 2, g.rec[3], 1);
	spool_release(sp, 3, 0, 1);
	spool_close(sp);
	T_EQ_INT(count_segments(dir), 0);
}

T_TEST(spool_lock_and_bound)
{
	char dir[256], err[256];
	struct got g = {0};
	struct spool *sp, *sp2;
	uint32_t seg;

	scratch(dir, sizeof(dir), "lock");
	sp = spool_open(dir, 100, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	sp2 = spool_open(dir, 100, collect, &g, err, sizeof(err));
	T_ASSERT(sp2 == NULL);
	T_ASSERT(strstr(err, "in use") != NULL);
	spool_add(sp, 1, "a.path", 1, 1700000000);
	seg = spool_commit(sp);
	T_ASSERT(seg != 0);
	/* 100 bytes: three records do not fit any more. */
	spool_add(sp, 1, "a.path", 2, 1700000001);
	spool_add(sp, 1, "a.path", 3, 1700000002);
	spool_add(sp, 1, "a.path", 4, 1700000003);
	T_EQ_INT(spool_commit(sp), 0);
	T_EQ_INT(spool_pending(sp), 1);
	spool_release(sp, seg, 0, 1);
	spool_close(sp);
	/* A file where the directory should be. */
	scratch(dir, sizeof(dir), "lock/lock/x");
	T_ASSERT(spool_open(dir, 100, collect, &g, err, sizeof(err)) == NULL);
}

/* Writes text to dir/name (mode 0600). */
static int
put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int
exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* A fresh directory of mode 0700. */
static void
fresh_dir(char *dir, size_t len, const char *name)
{
	scratch(dir, len, name);
	mkdir(dir, 0700);
}

/* Issue 13 7c: "seg-5.spool" and "seg-+5.spool" were read as segment 5
 * (its values delivered three times).  Only the canonical name counts. */
T_TEST(spool_only_canonical_names)
{
	static const char *odd[] = {"seg-5.spool", "seg-+5.spool",
	    "seg-00000000005.spool", "seg- 000000005.spool",
	    "seg-0000000005.spool~", "seg-0000000000.spool",
	    "seg-4294967296.spool", "seg-0x00000005.spool"};
	char dir[256], err[256];
	struct got g = {0};
	struct spool *sp;
	size_t i;

	fresh_dir(dir, sizeof(dir), "names");
	T_EQ_INT(
	    put_file(dir, "seg-0000000005.spool", "1 1700000000.000000 1 a\n"),
	    0);
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		T_EQ_INT(put_file(dir, odd[i], "1 1700000000.000000 1 a\n"), 0);
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 1);
	T_EQ_INT(g.seg[0], 5);
	T_EQ_INT(spool_pending(sp), 1);
	spool_close(sp);
	/* Files the spool did not write are left alone. */
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		T_ASSERT(exists(dir, odd[i]));
}

/* Issue 13 7c: a segment with id 2^32 - 1 was skipped on load and the
 * spool stopped working for good.  Ids wrap to 1 and replay keeps queue
 * order across the wrap. */
T_TEST(spool_id_wraps_in_queue_order)
{
	char dir[256], err[256];
	struct got g = {0};
	struct spool *sp;
	uint32_t seg;

	fresh_dir(dir, sizeof(dir), "wrap");
	T_EQ_INT(
	    put_file(dir, "seg-4294967294.spool", "1 1700000000.000000 1 a\n"),
	    0);
	T_EQ_INT(
	    put_file(dir, "seg-4294967295.spool", "1 1700000001.000000 2 b\n"),
	    0);
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 2);
	T_EQ_STR(g.path[0], "a");
	T_EQ_STR(g.path[1], "b");
	T_EQ_INT(g.seg[1], UINT32_MAX);
	spool_add(sp, 1, "c", 3, 1700000002);
	seg = spool_commit(sp);
	T_EQ_INT(seg, 1); /* wrapped */
	spool_close(sp);
	g.n = 0;
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 3);
	T_EQ_STR(g.path[0], "a");
	T_EQ_STR(g.path[1], "b");
	T_EQ_STR(g.path[2], "c");
	T_EQ_INT(g.seg[2], 1);
	spool_add(sp, 1, "d", 4, 1700000003);
	T_EQ_INT(spool_commit(sp), 2);
	spool_release(sp, g.seg[0], g.rec[0], 1);
	spool_release(sp, g.seg[1], g.rec[1], 1);
	spool_release(sp, g.seg[2], g.rec[2], 1);
	spool_release(sp, 2, 0, 1);
	spool_close(sp);
	T_EQ_INT(count_segments(dir), 0);
}

/* Issue 13 7d: an existing world-writable directory was trusted. */
T_TEST(spool_refuses_a_world_writable_directory)
{
	char dir[256], err[256];
	struct got g = {0};
	struct spool *sp;

	fresh_dir(dir, sizeof(dir), "open777");
	T_ASSERT(chmod(dir, 0777) == 0);
	err[0] = '\0';
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp == NULL);
	T_ASSERT(strstr(err, "writable by every user") != NULL);
	T_ASSERT(!exists(dir, "lock"));
	/* Made safe, it is used; group-writable is only warned about. */
	T_ASSERT(chmod(dir, 0770) == 0);
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	spool_close(sp);
}

/* Issue 13 7d: "lock" as a symbolic link made the bot create the link's
 * target (as root: any file). */
T_TEST(spool_lock_symlink_refused)
{
	char dir[256], victim[256], lock[300], err[256];
	struct got g = {0};
	struct spool *sp;
	struct stat st;

	fresh_dir(dir, sizeof(dir), "locklink");
	scratch(victim, sizeof(victim), "locklink-victim");
	snprintf(lock, sizeof(lock), "%s/lock", dir);
	T_ASSERT(symlink(victim, lock) == 0);
	err[0] = '\0';
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp == NULL);
	T_ASSERT(strstr(err, "lock") != NULL);
	T_ASSERT(strstr(err, "not a regular file") != NULL);
	T_ASSERT(lstat(victim, &st) == -1);
}

/* Issue 13 7d: a FIFO named like a segment blocked start-up; links and
 * directories named like segments must not be read or removed either. */
T_TEST(spool_skips_what_is_not_a_regular_file)
{
	char dir[256], outside[256], path[512], target[512], err[256];
	struct got g = {0};
	struct spool *sp;
	uint32_t seg;

	fresh_dir(dir, sizeof(dir), "fifo");
	T_EQ_INT(
	    put_file(dir, "seg-0000000001.spool", "1 1700000000.000000 1 a\n"),
	    0);
	snprintf(path, sizeof(path), "%s/seg-0000000002.spool", dir);
	T_ASSERT(mkfifo(path, 0600) == 0);
	/* Values planted outside, reached through a link. */
	fresh_dir(outside, sizeof(outside), "fifo-outside");
	T_EQ_INT(put_file(outside, "x", "1 1700000000.000000 66 planted\n"), 0);
	snprintf(path, sizeof(path), "%s/seg-0000000003.spool", dir);
	snprintf(target, sizeof(target), "%s/x", outside);
	T_ASSERT(symlink(target, path) == 0);
	snprintf(path, sizeof(path), "%s/seg-0000000004.spool", dir);
	T_ASSERT(mkdir(path, 0700) == 0);
	/* A link as the progress file of segment 1. */
	snprintf(path, sizeof(path), "%s/done-0000000001", dir);
	T_ASSERT(symlink(target, path) == 0);
	alarm(20); /* the old code blocked here for ever */
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	alarm(0);
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 1);
	T_EQ_STR(g.path[0], "a");
	/* New records go past the ids in use. */
	spool_add(sp, 1, "b", 2, 1700000001);
	seg = spool_commit(sp);
	T_EQ_INT(seg, 5);
	spool_release(sp, 1, 0, 1);
	spool_release(sp, seg, 0, 1);
	spool_close(sp);
	T_ASSERT(exists(dir, "seg-0000000002.spool"));
	T_ASSERT(exists(dir, "seg-0000000003.spool"));
	T_ASSERT(exists(dir, "seg-0000000004.spool"));
	T_ASSERT(!exists(dir, "seg-0000000001.spool"));
	T_ASSERT(exists(outside, "x"));
}

/* Issue 13 9: t = 1e300 came back as 1e38 (a 40-byte buffer).  Times
 * outside (0, 1e10) are not records. */
T_TEST(spool_refuses_times_out_of_range)
{
	char dir[256], err[256];
	struct got g = {0};
	struct spool *sp;

	fresh_dir(dir, sizeof(dir), "times");
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	spool_add(sp, 1, "far", 1, 1e300);
	spool_add(sp, 1, "ok", 2, 1700000000);
	T_ASSERT(spool_commit(sp) != 0);
	spool_close(sp);
	T_EQ_INT(put_file(dir, "seg-0000000009.spool",
	             "1 1e300 1 a\n1 10000000000.000000 1 b\n"
	             "1 9999999999.999999 3 c\n1 -5.000000 1 d\n"),
	    0);
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 2);
	T_EQ_STR(g.path[0], "ok");
	T_EQ_STR(g.path[1], "c");
	T_EQ_DBL(g.t[1], 9999999999.999999, 1e-6);
	spool_close(sp);
}

/* Issue 13 7e: a restart re-sent a whole segment while any value in it
 * was pending.  Finished records are remembered (done-<id>) and a restart
 * loads only the pending ones, in order, with the same indexes. */
T_TEST(spool_restart_loads_only_pending_records)
{
	char dir[256], err[256], name[32];
	struct got g = {0};
	struct spool *sp;
	uint32_t seg;
	int i;

	fresh_dir(dir, sizeof(dir), "progress");
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "p.%d", i);
		spool_add(sp, 1 + i % 2, name, i, 1700000000 + i);
		seg = spool_commit(sp);
		T_EQ_INT(spool_commit_rec(sp), i);
	}
	/* Delivered out of order, as two accounts' batches are. */
	spool_release(sp, seg, 0, 3);
	spool_release(sp, seg, 6, 1);
	spool_release(sp, seg, 5, 1);
	T_EQ_INT(spool_pending(sp), 5);
	spool_close(sp);
	T_ASSERT(exists(dir, "done-0000000001"));

	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 5);
	T_EQ_INT(spool_pending(sp), 5);
	T_EQ_STR(g.path[0], "p.3");
	T_EQ_STR(g.path[1], "p.4");
	T_EQ_STR(g.path[2], "p.7");
	T_EQ_STR(g.path[4], "p.9");
	T_EQ_INT(g.rec[2], 7);
	/* Progress after a restart adds to the earlier one. */
	spool_release(sp, g.seg[2], g.rec[2], 1);
	spool_release(sp, g.seg[0], g.rec[0], 2);
	spool_close(sp);

	g.n = 0;
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 2);
	T_EQ_STR(g.path[0], "p.8");
	T_EQ_STR(g.path[1], "p.9");
	spool_release(sp, g.seg[0], g.rec[0], 2);
	spool_close(sp);
	T_EQ_INT(count_segments(dir), 0);
	T_ASSERT(!exists(dir, "done-0000000001"));
}

/* The active segment that drains starts over: its progress must not
 * apply to the records written after. */
T_TEST(spool_progress_cleared_when_the_file_starts_over)
{
	char dir[256], err[256];
	struct got g = {0};
	struct spool *sp;
	uint32_t seg;

	fresh_dir(dir, sizeof(dir), "restart-active");
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	spool_add(sp, 1, "a", 1, 1700000000);
	spool_add(sp, 1, "b", 2, 1700000001);
	seg = spool_commit(sp);
	spool_release(sp, seg, 0, 1);
	spool_add(sp, 1, "c", 3, 1700000002);
	T_EQ_INT(spool_commit(sp), seg); /* writes the progress of "a" */
	T_ASSERT(exists(dir, "done-0000000001"));
	spool_release(sp, seg, 1, 2); /* drained: the file starts over */
	T_ASSERT(!exists(dir, "done-0000000001"));
	spool_add(sp, 1, "d", 4, 1700000003);
	spool_add(sp, 1, "e", 5, 1700000004);
	T_EQ_INT(spool_commit(sp), seg);
	T_EQ_INT(spool_commit_rec(sp), 0);
	spool_close(sp);
	sp = spool_open(dir, 1 << 20, collect, &g, err, sizeof(err));
	T_ASSERT(sp != NULL);
	T_EQ_INT(g.n, 2);
	T_EQ_STR(g.path[0], "d");
	T_EQ_STR(g.path[1], "e");
	spool_release(sp, seg, 0, 2);
	spool_close(sp);
	T_EQ_INT(count_segments(dir), 0);
}

/* Keeps the last `keep` records loaded, releasing older ones at once, as
 * the sender does to stay within its buffer bound. */
struct keeper {
	struct spool *sp;
	size_t keep, n;
	uint32_t seg[16], rec[16];
	double v[16];
};

static void
keep_newest(const struct spool_record *r, uint32_t seg, void *arg)
{
	struct keeper *k = arg;
	size_t i = k->n % k->keep;

	if (k->n >= k->keep)
		spool_release(k->sp, k->seg[i], k->rec[i], 1);
	k->seg[i] = seg;
	k->rec[i] = r->rec;
	k->v[i] = r->v;
	k->n++;
}

static void
no_record(const struct spool_record *r, uint32_t seg, void *arg)
{
	(void)r;
	(void)seg;
	(void)arg;
}

/* Issue 13 7b: loading ignored the memory bound.  Records released while
 * loading are marked done (and whole segments removed), so what is kept
 * is exactly what the next start loads; lines longer than any record are
 * skipped without being read whole. */
T_TEST(spool_load_releases_and_streams)
{
	char dir[256], err[256], *big;
	struct keeper k = {0};
	struct spool *sp;
	size_t i;
	int n, s;

	fresh_dir(dir, sizeof(dir), "bound");
	sp = spool_open(dir, 0, NULL, NULL, err, sizeof(err));
	T_ASSERT(sp != NULL);
	/* Three segments of 1,000 records (written as separate files by
	 * closing in between). */
	spool_close(sp);
	for (s = 1; s <= 3; s++) {
		sp = spool_open(dir, 0, no_record, NULL, err, sizeof(err));
		T_ASSERT(sp != NULL);
		for (n = 0; n < 1000; n++)
			spool_add(sp, 1, "a.long.enough.path",
			    (s - 1) * 1000 + n, 1700000000 + n);
		T_EQ_INT(spool_commit(sp), s);
		spool_close(sp);
	}
	/* A 200 KiB line in the middle of a segment. */
	big = malloc(200 * 1024 + 2);
	memset(big, 'x', 200 * 1024);
	memcpy(big + 200 * 1024, "\n", 2);
	T_EQ_INT(put_file(dir, "seg-0000000004.spool", big), 0);
	free(big);
	T_EQ_INT(count_segments(dir), 4);
	sp = spool_open(dir, 0, NULL, NULL, err, sizeof(err));
	T_ASSERT(sp != NULL);
	k.sp = sp;
	k.keep = 10;
	spool_load(sp, keep_newest, &k);
	T_EQ_INT(k.n, 3000);
	T_EQ_INT(spool_pending(sp), 10);
	T_EQ_INT(count_segments(dir), 1); /* only segment 3 holds any */
	spool_close(sp);
	memset(&k, 0, sizeof(k));
	sp = spool_open(dir, 0, NULL, NULL, err, sizeof(err));
	T_ASSERT(sp != NULL);
	k.sp = sp;
	k.keep = 16;
	spool_load(sp, keep_newest, &k);
	T_EQ_INT(k.n, 10);
	T_EQ_INT(spool_pending(sp), 10);
	for (i = 0; i < 10; i++)
		T_EQ_DBL(k.v[i], 2990 + i, 0);
	for (i = 0; i < 10; i++)
		spool_release(sp, k.seg[i], k.rec[i], 1);
	spool_close(sp);
	T_EQ_INT(count_segments(dir), 0);
}
