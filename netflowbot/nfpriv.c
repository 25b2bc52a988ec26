/*
 * Privilege drop: look the user up, then groups, gid, uid (the order
 * matters: once the uid is gone the group calls are refused).
 */
#define _GNU_SOURCE
#include "nfpriv.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
nfpriv_drop(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int rc;

	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot look up user \"%s\": %s", user,
		    strerror(rc));
		return -1;
	}
	if (res == NULL) {
		snprintf(err, errlen, "no such user \"%s\"", user);
		return -1;
	}
	if (pw.pw_uid == 0) {
		snprintf(err, errlen,
		    "user \"%s\" has uid 0: refusing to run as root", user);
		return -1;
	}
	if (setgroups(1, &pw.pw_gid) == -1) {
		snprintf(err, errlen, "setgroups(%lu): %s",
		    (unsigned long)pw.pw_gid, strerror(errno));
		return -1;
	}
	if (setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) == -1) {
		snprintf(err, errlen, "setresgid(%lu): %s",
		    (unsigned long)pw.pw_gid, strerror(errno));
		return -1;
	}
	if (setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) == -1) {
		snprintf(err, errlen, "setresuid(%lu): %s",
		    (unsigned long)pw.pw_uid, strerror(errno));
		return -1;
	}
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != pw.pw_uid || eu != pw.pw_uid || su != pw.pw_uid ||
	    rg != pw.pw_gid || eg != pw.pw_gid || sg != pw.pw_gid) {
		snprintf(err, errlen, "ids not switched to %lu:%lu",
		    (unsigned long)pw.pw_uid, (unsigned long)pw.pw_gid);
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(
		    err, errlen, "root could be regained after the switch");
		return -1;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}
