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
