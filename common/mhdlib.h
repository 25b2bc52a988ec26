/*
 * libmicrohttpd, opened when the Prometheus endpoint first starts.  Bots
 * are not linked with it: loading it runs its constructor, which
 * initialises GnuTLS (and p11-kit), about 0.7 MiB of memory that a bot
 * without the endpoint never uses.  The table holds the functions
 * promexp.c calls, with their own types.
 */
#ifndef BOT_MHDLIB_H
#define BOT_MHDLIB_H

#include <sys/socket.h>

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

struct mhdlib {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_run) *run;
	__typeof__(MHD_get_timeout) *get_timeout;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_create_response_from_buffer)
	    *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
};

/* The library's soname, e.g. "libmicrohttpd.so.12" (from the build). */
extern const char mhdlib_soname[];

/* Opens the library on the first call and resolves every function of the
 * table; later calls return the same table.  NULL with the reason in err
 * (library or a function missing).  Call from the loop thread. */
const struct mhdlib *mhdlib_get(char *err, size_t errlen);

#endif
