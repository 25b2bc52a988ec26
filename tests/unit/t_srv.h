/*
 * For unit tests that run a real loop against a tiny HTTP server (run in a
 * forked child).
 */
#ifndef T_SRV_H
#define T_SRV_H

#include <stddef.h>

/* A socket listening on 127.0.0.1, its port in *port; -1 on failure. */
int t_srv_listen(int *port);
/* Reads one request head (and a body of Content-Length bytes) from fd
 * within timeout_ms; returns its length, 0 on EOF or timeout. */
size_t t_srv_read_request(int fd, char *req, size_t reqlen, int timeout_ms);
/* Writes all of p, giving up on an error. */
void t_srv_write_all(int fd, const char *p, size_t len);

struct timer;
/* A timer callback that breaks the loop given as its arg: a deadline for
 * a test's loop_run. */
void t_srv_break_loop(struct timer *t, void *loop);

#endif
