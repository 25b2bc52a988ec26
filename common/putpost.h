/*
 * PUT or POST for value requests.  PUT carries each value's measurement
 * time; a backend (or a proxy in front of it) that refuses PUT with 403
 * while the bot token works gets POST instead, which the backend stamps on
 * arrival, so only fresh values are sent that way.  While on POST, one PUT
 * "trial" at a time checks every retry interval whether PUT works again.
 */
#ifndef BOT_PUTPOST_H
#define BOT_PUTPOST_H

#include <stdint.h>

enum putpost_method {
	PUTPOST_PUT,   /* the normal case */
	PUTPOST_POST,  /* PUT is refused: fresh values, stamped on arrival */
	PUTPOST_TRIAL, /* a PUT that checks whether PUT works again */
};

struct putpost {
	int64_t retry_ms;        /* between PUT trials */
	int64_t post_max_age_ms; /* POST drops older values (for the log) */
	int post;                /* PUT refused: POST */
	int logged;              /* the switch to POST was logged */
	int trial_busy;          /* a trial is in flight */
	int64_t trial_at_ms;     /* no trial before this (monotonic) */
};

/* Starts on PUT; on POST, PUT is tried again every retry_ms. */
void putpost_init(
    struct putpost *pp, int64_t retry_ms, int64_t post_max_age_ms);

/* The backend refused PUT with 403 although the token works: POST from
 * now on, the first trial in retry_ms.  Logs the switch the first time. */
void putpost_forbidden(struct putpost *pp, int64_t now_ms);

/* How the next request of new values goes at now_ms.  A trial is offered
 * when it is due and none is in flight; the caller reports it with
 * putpost_trial_started once the request is on its way. */
enum putpost_method putpost_method(const struct putpost *pp, int64_t now_ms);
/* The method a bisection's requests use: no trials there. */
int putpost_posting(const struct putpost *pp);

void putpost_trial_started(struct putpost *pp);
/* The trial's answer: ok (2xx) returns to PUT, with a log line; anything
 * else keeps POST.  Either way the next trial is due retry_ms later. */
void putpost_trial_answered(struct putpost *pp, int ok, int64_t now_ms);

#endif
