/*
 * The PUT->POST fallback's state: a flag, a log-once flag and the trial
 * schedule.  The sender decides when a 403 means "PUT is refused" (the
 * token check on profile/ works); this module only remembers it.
 */
#include "putpost.h"

#include "log.h"

void
putpost_init(struct putpost *pp, int64_t retry_ms, int64_t post_max_age_ms)
{
	pp->retry_ms = retry_ms;
	pp->post_max_age_ms = post_max_age_ms;
	pp->post = 0;
	pp->logged = 0;
	pp->trial_busy = 0;
	pp->trial_at_ms = 0;
}

void
putpost_forbidden(struct putpost *pp, int64_t now_ms)
{
	pp->post = 1;
	pp->trial_at_ms = now_ms + pp->retry_ms;
	if (!pp->logged)
		log_warnx("values: the backend refuses PUT (HTTP 403) but "
		          "accepts the bot token; falling back to POST, which "
		          "cannot carry the measurement time: values older "
		          "than %lld s are dropped, newer ones are stamped on "
		          "arrival",
		    (long long)(pp->post_max_age_ms / 1000));
	pp->logged = 1;
}

enum putpost_method
putpost_method(const struct putpost *pp, int64_t now_ms)
{
	if (!pp->post)
		return PUTPOST_PUT;
	if (!pp->trial_busy && now_ms >= pp->trial_at_ms)
		return PUTPOST_TRIAL;
	return PUTPOST_POST;
}

int
putpost_posting(const struct putpost *pp)
{
	return pp->post;
}

void
putpost_trial_started(struct putpost *pp)
{
	pp->trial_busy = 1;
}

void
putpost_trial_answered(struct putpost *pp, int ok, int64_t now_ms)
{
	pp->trial_busy = 0;
	pp->trial_at_ms = now_ms + pp->retry_ms;
	if (ok && pp->post) {
		pp->post = 0;
		log_info("values: the backend accepts PUT again; values carry "
		         "their measurement time again");
	}
}
