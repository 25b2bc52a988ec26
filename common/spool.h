/*
 * An on-disk copy of the values waiting to be sent, so that a restart
 * (crash, SIGKILL, container restart) during a backend outage loses
 * nothing.  Values are appended to segment files as they are queued, one
 * text line each; the sender reports every value that is delivered or
 * given up on, and a segment is deleted (the active one truncated) once
 * nothing in it is pending.  At start every remaining record is loaded
 * again.  The spool guards against process death, not power loss: it does
 * not fsync.
 */
#ifndef BOT_SPOOL_H
#define BOT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct spool;

/* One value read back; path is borrowed for the callback. */
struct spool_record {
	int64_t account_id;
	const char *path;
	double v;
	double t;
};

typedef void spool_load_cb(
    const struct spool_record *r, uint32_t seg, void *arg);

/* Opens the spool in dir (created if missing, copied), locks it against a
 * second bot, and replays every stored record, oldest first, through cb
 * with the id of its segment.  Truncated or unreadable records are skipped
 * with a warning.  max_bytes bounds the files on disk.  NULL with err on
 * failure (missing permissions, locked by another process). */
struct spool *spool_open(const char *dir, uint64_t max_bytes, spool_load_cb *cb,
    void *arg, char *err, size_t errlen) BOT_WUR;

/* Closes the files; removes the segments with nothing pending.  NULL is a
 * no-op. */
void spool_close(struct spool *sp);

/* Stages one record for the next spool_commit (path borrowed). */
void spool_add(
    struct spool *sp, int64_t account_id, const char *path, double v, double t);

/* Writes the staged records with one write(2).  Returns the segment id
 * (> 0) now holding them, or 0 when they could not be stored (spool full,
 * I/O error: logged, rate-limited); the values then live in memory only. */
uint32_t spool_commit(struct spool *sp);

/* Marks n records of segment seg as done (delivered or dropped).  seg 0
 * is ignored. */
void spool_release(struct spool *sp, uint32_t seg, size_t n);

/* Bytes in segment files now. */
uint64_t spool_bytes(const struct spool *sp);
/* Records written and not yet released. */
uint64_t spool_pending(const struct spool *sp);
/* The directory (borrowed, valid until spool_close). */
const char *spool_dir(const struct spool *sp);

#endif
