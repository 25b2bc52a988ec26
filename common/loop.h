/*
 * The one event loop of a bot: poll(2) over a few watched descriptors plus
 * the timer heap.  Signal handlers only set flags and write a byte to a
 * self-pipe; the loop then calls the registered handlers on its own thread.
 */
#ifndef BOT_LOOP_H
#define BOT_LOOP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "attrs.h"
#include "timer.h"

struct loop;

typedef void loop_fd_cb(int fd, int revents, void *arg);
typedef void loop_signal_cb(int signo, void *arg);

/* Creates a loop; installs SIGTERM, SIGINT and SIGHUP handlers and ignores
 * SIGPIPE.  Owned by the caller, released with loop_free. */
struct loop *loop_new(void);
/* Frees l and gives SIGTERM, SIGINT and SIGHUP their default action. */
void loop_free(struct loop *l);

/* Watches fd for events (POLLIN | POLLOUT); watching an fd again replaces
 * its events and callback.  cb and arg are borrowed. */
void loop_watch(struct loop *l, int fd, int events, loop_fd_cb *cb, void *arg);
void loop_unwatch(struct loop *l, int fd);

/* Arms t to fire delay_ms from now / at deadline_ms on the monotonic clock. */
void loop_timer_start(struct loop *l, struct timer *t, int64_t delay_ms);
void loop_timer_at(struct loop *l, struct timer *t, int64_t deadline_ms);
void loop_timer_stop(struct loop *l, struct timer *t);

/* Lets timers fire up to ms late (default 0), so that timers due close
 * together share one wake-up; a timer already due when the loop goes to
 * sleep still fires at once.  For bots with many timers a second. */
void loop_set_timer_slack(struct loop *l, int64_t ms);

/* Called on the loop thread after SIGTERM/SIGINT (on_stop) or SIGHUP
 * (on_hup).  Either may be NULL. */
void loop_on_signals(
    struct loop *l, loop_signal_cb *on_stop, loop_signal_cb *on_hup, void *arg);

/* Fires the timers due now without polling.  For tests with a fake clock. */
size_t loop_run_timers(struct loop *l);

/* Runs until loop_break; returns 0, or -1 if poll failed. */
int loop_run(struct loop *l) BOT_WUR;
void loop_break(struct loop *l);

/* A flag that becomes non-zero on SIGTERM/SIGINT, for code that waits
 * before the loop runs (token file, backend readiness). */
volatile sig_atomic_t *loop_stop_flag(void);

#endif
