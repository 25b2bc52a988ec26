/*
 * The blocking ping engine on liboping: pings a batch of distinct targets
 * together, round by round, and records per-packet results.  It runs on
 * the worker threads only; it neither logs nor touches jobs or runs.
 */
#ifndef BOT_PINGER_H
#define BOT_PINGER_H

#include <stddef.h>
#include <stdint.h>

#include "pingcfg.h"
#include "pingval.h"
#include "target.h"

struct pinger;

struct pinger_target {
	/* Set by the caller. */
	char addr[TARGET_ADDRLEN]; /* canonical numeric address, distinct
	                               within one batch */
	struct pingcfg cfg;
	struct pingval_packet *packets; /* cfg.n_packets zeroed entries,
	                                   owned by the caller */
	int add_error;    /* set beforehand to skip the target; also set
	                     when liboping refuses the address */
	char add_msg[96]; /* why it was skipped or refused */

	/* Set by pinger_run. */
	int ttl; /* TTL of the last reply, -1 if none */

	/* Private to pinger_run. */
	int in_main;
	int answered_now;
};

struct pinger_report {
	unsigned rounds;        /* rounds completed */
	int64_t max_round_ms;   /* the longest round, sending to last wait */
	unsigned send_failures; /* ping_send calls that reported an error */
	char send_error[128];   /* liboping's text for the last one */
	unsigned rerolls;       /* identifiers redrawn to keep them unique */
	unsigned reused;   /* quarantined identifiers taken for lack of any */
	int aborted;       /* stopped early by the pause hook */
	int reused_object; /* the previous batch's liboping object served */
};

/* Waits delay_ms (0: just polls); returns -1 when the batch must stop. */
typedef int pinger_pause_fn(void *arg, int64_t delay_ms);

/* Creates an engine: the ICMP identifier table shared by every batch, and
 * the liboping objects of recent batches kept for reuse.  Owned by the
 * caller, released with pinger_free (NULL is a no-op) once no pinger_run
 * is under way. */
struct pinger *pinger_new(void);
void pinger_free(struct pinger *p);

/* Pings targets t[0..n) (borrowed; results written in place): round r goes
 * to every target with n_packets > r, and rounds start sleep_packets apart
 * (the largest among the targets still going) or back to back when a round
 * took longer.  A target with retry R splits its timeout into R + 1 equal
 * slices and an unanswered packet is sent again in each further slice; a
 * round lasts the longest first slice plus the longest slice of each
 * retry.  Blocks until done or until pause_fn returns -1.  rep is filled.
 * Several threads may run batches on one engine at once, each with its
 * own targets. */
void pinger_run(struct pinger *p, struct pinger_target *t, size_t n,
    pinger_pause_fn *pause_fn, void *arg, struct pinger_report *rep);

#endif
