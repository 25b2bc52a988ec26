/*
 * Unit tests for the privilege drop: unknown and uid-0 users are refused
 * before any id changes; as root, a child process really switches to
 * nobody and cannot get root back.
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "../../../netflowbot/nfpriv.h"
#include "../t.h"

T_TEST(nfpriv_refuses_unknown_and_root)
{
	char err[256];
	uid_t u = 7, before = geteuid();
	gid_t g = 7;

	T_EQ_INT(nfpriv_drop("no-such-user-nf", &u, &g, err, sizeof(err)), -1);
	T_EQ_STR(err, "no such user \"no-such-user-nf\"");
	T_EQ_INT(nfpriv_drop("root", &u, &g, err, sizeof(err)), -1);
	T_EQ_STR(err, "user \"root\" has uid 0: refusing to run as root");
	T_EQ_INT(u, 7);
	T_EQ_INT(g, 7);
	T_EQ_INT(geteuid(), before);
}

T_TEST(nfpriv_drops_to_nobody_in_a_child)
{
	struct passwd *pw = getpwnam("nobody");
	int status = -1;
	pid_t pid;

	if (geteuid() != 0 || pw == NULL)
		return; /* needs root and a nobody user */
	pid = fork();
	T_ASSERT(pid != -1);
	if (pid == 0) {
		char err[256];
		uid_t u, ru, eu, su;
		gid_t g, rg, eg, sg, groups[4];
		int ok = nfpriv_drop("nobody", &u, &g, err, sizeof(err)) == 0 &&
		    u == pw->pw_uid && g == pw->pw_gid &&
		    getresuid(&ru, &eu, &su) == 0 &&
		    getresgid(&rg, &eg, &sg) == 0 && ru == u && eu == u &&
		    su == u && rg == g && eg == g && sg == g &&
		    getgroups(4, groups) == 1 && groups[0] == g &&
		    setuid(0) == -1;
		_exit(ok ? 0 : 1);
	}
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	T_ASSERT(WIFEXITED(status));
	T_EQ_INT(WEXITSTATUS(status), 0);
}
