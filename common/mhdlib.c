/*
 * libmicrohttpd through dlopen: see mhdlib.h for why.
 */
#include "mhdlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#ifndef MHDLIB_SONAME
#define MHDLIB_SONAME "libmicrohttpd.so.12"
#endif

const char mhdlib_soname[] = MHDLIB_SONAME;

static struct mhdlib mhdlib_table;
static int mhdlib_loaded;

/* Looks name up in h into *slot (a function pointer's storage); -1 with
 * err when it is missing. */
static int
mhdlib_sym(void *h, const char *name, void *slot, char *err, size_t errlen)
{
	void *f = dlsym(h, name);

	if (f == NULL) {
		snprintf(err, errlen, "%s has no %s", mhdlib_soname, name);
		return -1;
	}
	/* POSIX guarantees a function's address survives this round trip. */
	memcpy(slot, &f, sizeof(f));
	return 0;
}

const struct mhdlib *
mhdlib_get(char *err, size_t errlen)
{
	struct mhdlib t;
	const char *why;
	void *h;

	if (mhdlib_loaded)
		return &mhdlib_table;
	h = dlopen(mhdlib_soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		why = dlerror();
		snprintf(err, errlen, "cannot load %s (Debian package %s): %s",
		    mhdlib_soname, "libmicrohttpd12",
		    why != NULL ? why : "unknown error");
		return NULL;
	}
	if (mhdlib_sym(h, "MHD_start_daemon", &t.start_daemon, err, errlen) ||
	    mhdlib_sym(h, "MHD_stop_daemon", &t.stop_daemon, err, errlen) ||
	    mhdlib_sym(h, "MHD_run", &t.run, err, errlen) ||
	    mhdlib_sym(h, "MHD_get_timeout", &t.get_timeout, err, errlen) ||
	    mhdlib_sym(
	        h, "MHD_get_daemon_info", &t.get_daemon_info, err, errlen) ||
	    mhdlib_sym(h, "MHD_create_response_from_buffer",
	        &t.create_response_from_buffer, err, errlen) ||
	    mhdlib_sym(h, "MHD_add_response_header", &t.add_response_header,
	        err, errlen) ||
	    mhdlib_sym(
	        h, "MHD_queue_response", &t.queue_response, err, errlen) ||
	    mhdlib_sym(
	        h, "MHD_destroy_response", &t.destroy_response, err, errlen)) {
		dlclose(h);
		return NULL;
	}
	/* The handle stays open for the life of the process. */
	mhdlib_table = t;
	mhdlib_loaded = 1;
	return &mhdlib_table;
}
