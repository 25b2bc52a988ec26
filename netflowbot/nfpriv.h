/*
 * Dropping root after the privileged set-up (binding a port below 1024,
 * opening a live capture): --user NAME / NETFLOW_USER.
 */
#ifndef NETFLOWBOT_NFPRIV_H
#define NETFLOWBOT_NFPRIV_H

#include <sys/types.h>

#include <stddef.h>

/* Switches the process to user's uid and primary gid, in nfdump's order:
 * setgroups(1, &gid), setresgid(), setresuid(); then checks that root
 * cannot be regained.  Refuses a user that does not exist or has uid 0.
 * 0 with *uid and *gid set; -1 with a message in err (nothing to clean up,
 * but the caller must exit: the process may be half switched). */
int nfpriv_drop(
    const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen);

#endif
