/*
 * Helpers for unit tests that need a tiny HTTP server on 127.0.0.1 (run
 * in a forked child): a listening socket, reading one request, writing;
 * and a deadline for the test's loop.
 */
#include "t_srv.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"

int
t_srv_listen(int *port)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &slen) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

size_t
t_srv_read_request(int fd, char *req, size_t reqlen, int timeout_ms)
{
	size_t len = 0, want = 0;
	char *end, *cl;

	while (len + 1 < reqlen) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;

		req[len] = '\0';
		end = strstr(req, "\r\n\r\n");
		if (end != NULL) {
			if (want == 0) {
				cl = strstr(req, "Content-Length: ");
				want = (size_t)(end + 4 - req);
				if (cl != NULL && cl < end)
					want += strtoul(cl + 16, NULL, 10);
			}
			if (len >= want)
				return len;
		}
		if (poll(&p, 1, timeout_ms) <= 0)
			return 0;
		n = read(fd, req + len, reqlen - 1 - len);
		if (n <= 0)
			return 0;
		len += (size_t)n;
	}
	return len;
}

void
t_srv_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

void
t_srv_break_loop(struct timer *t, void *loop)
{
	(void)t;
	loop_break(loop);
}
