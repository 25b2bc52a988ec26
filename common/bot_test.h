/*
 * For the runtime's integration test bot only (tests/integration/
 * testbot.c): a way past run_emit's checks, so that a test can make the
 * backend, not the bot, refuse a value.  No bot includes this.
 */
#ifndef BOT_BOT_TEST_H
#define BOT_BOT_TEST_H

struct run;

/* Adds path = v at time t to the run's batch without run_emit's path and
 * number checks. */
void run_emit_unchecked(struct run *run, const char *path, double v, double t);

#endif
