/*
 * Raising CAP_NET_RAW from the permitted set, and the one fatal line that
 * explains how to grant it when it is not there.
 */
#include "caps.h"

#include <sys/capability.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

/* Reads one flag of CAP_NET_RAW: 1 set, 0 clear, -1 unknown. */
static int
caps_flag(cap_flag_t which)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t c = cap_get_proc();
	int rc;

	if (c == NULL)
		return -1;
	rc = cap_get_flag(c, CAP_NET_RAW, which, &v);
	cap_free(c);
	if (rc == -1)
		return -1;
	return v == CAP_SET;
}

int
caps_have_net_raw(void)
{
	return caps_flag(CAP_EFFECTIVE);
}

/* Adds CAP_NET_RAW to the effective set; 0 on success, -1 (errno set)
 * when it is not permitted. */
static int
caps_raise(void)
{
	cap_value_t v[1] = {CAP_NET_RAW};
	cap_t c = cap_get_proc();
	int rc, saved;

	if (c == NULL)
		return -1;
	rc = cap_set_flag(c, CAP_EFFECTIVE, 1, v, CAP_SET);
	if (rc == 0)
		rc = cap_set_proc(c);
	saved = errno;
	cap_free(c);
	errno = saved;
	return rc;
}

int
caps_need_net_raw(void)
{
	char exe[PATH_MAX];
	ssize_t len;
	int permitted, fd;

	permitted = caps_flag(CAP_PERMITTED);
	if (caps_have_net_raw() == 0 && permitted == 1) {
		if (caps_raise() == -1)
			log_warn("cannot raise CAP_NET_RAW from the permitted "
			         "set");
		else
			log_info("CAP_NET_RAW raised from the permitted set");
	}
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd != -1) {
		close(fd);
		return 0;
	}
	if (errno != EPERM && errno != EACCES)
		fatal("cannot open a raw ICMP socket");
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		snprintf(exe, sizeof(exe), "/path/to/pingbot");
	else
		exe[len] = '\0';
	fatalx("not permitted to open raw ICMP sockets: pingbot needs the "
	       "CAP_NET_RAW capability (it is %s); grant it with "
	       "`setcap cap_net_raw=p %s`, in Docker with `--cap-add NET_RAW` "
	       "(compose: `cap_add: [NET_RAW]`) and without "
	       "no-new-privileges, or in systemd with "
	       "`AmbientCapabilities=CAP_NET_RAW`",
	    permitted == 1 ? "permitted but could not be raised"
	                   : "not in the permitted set",
	    exe);
}
