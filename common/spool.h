/*
 * An on-disk copy of the values waiting to be sent, so that a restart
 * (crash, SIGKILL, container restart) during a backend outage loses
 * nothing.  Values are appended to segment files as they are queued, one
 * text line each; the sender reports every value that is delivered or
 * given up on, and a segment is deleted (the active one truncated) once
 * nothing in it is pending; what finishes while others of its segment
 * wait is noted in a progress file, so that a restart loads only what is
 * still pending.  The spool guards against process death, not power
 * loss: it does not fsync.
 */
#ifndef BOT_SPOOL_H
#define BOT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct spool;

/* One value read back; path is borrowed for the callback.  rec is its
 * index in its segment, for spool_release. */
struct spool_record {
	int64_t account_id;
	const char *path;
	double v;
	double t;
	uint32_t rec;
};

typedef void spool_load_cb(
    const struct spool_record *r, uint32_t seg, void *arg);

/* Opens the spool in dir (created if missing with mode 0700, copied) and
 * locks it against a second bot.  A directory writable by every user, or
 * a lock that is a symbolic link or not a regular file, is refused.  When
 * cb is not NULL the stored records are replayed as by spool_load.
 * max_bytes bounds the files on disk (0: no bound).  NULL with err on
 * failure (missing permissions, unsafe directory, locked). */
struct spool *spool_open(const char *dir, uint64_t max_bytes, spool_load_cb *cb,
    void *arg, char *err, size_t errlen) BOT_WUR;

/* Replays every stored record not yet released, oldest first, through cb
 * with the id of its segment.  cb may release records at once (to stay
 * within a memory bound): those are marked done on disk.  Unreadable
 * records and anything that is not a regular file are skipped with a
 * warning.  Call it once, right after spool_open(dir, .., NULL, ..). */
void spool_load(struct spool *sp, spool_load_cb *cb, void *arg);

/* Writes the progress not yet on disk, closes the files and removes the
 * segments with nothing pending.  NULL is a no-op. */
void spool_close(struct spool *sp);

/* Stages one record for the next spool_commit (path borrowed). */
void spool_add(
    struct spool *sp, int64_t account_id, const char *path, double v, double t);

/* Writes the staged records with one write(2).  Returns the segment id
 * (> 0) now holding them, or 0 when they could not be stored (spool full,
 * I/O error: logged, rate-limited); the values then live in memory only.
 * The records of one commit have consecutive indexes in the segment,
 * starting at spool_commit_rec(sp). */
uint32_t spool_commit(struct spool *sp);

/* The index of the first record the last successful spool_commit wrote. */
uint32_t spool_commit_rec(const struct spool *sp);

/* Marks records rec .. rec + n - 1 of segment seg done (delivered or
 * dropped).  seg 0 and a NULL spool are ignored.  The marks reach the disk
 * with the next spool_commit or spool_close, so that a restart loads only
 * what is still pending. */
void spool_release(struct spool *sp, uint32_t seg, uint32_t rec, size_t n);

/* Bytes in segment files now. */
uint64_t spool_bytes(const struct spool *sp);
/* Records written or loaded and not yet released: what the next start
 * loads once the progress is on disk. */
uint64_t spool_pending(const struct spool *sp);
/* The directory (borrowed, valid until spool_close). */
const char *spool_dir(const struct spool *sp);

#endif
