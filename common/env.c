/*
 * Environment configuration, read once at start-up.  Bad values stop the
 * bot with one line that names the variable, so an operator never has to
 * read the source to find out what was wrong.
 */
#include "env.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

const char *
env_str(const char *name, const char *def)
{
	const char *v = getenv(name);

	return (v == NULL || *v == '\0') ? def : v;
}

int
env_parse_int(const char *s, int64_t min, int64_t max, int64_t *out, char *err,
    size_t errlen)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE) {
		snprintf(err, errlen, "\"%s\" is not a whole number", s);
		return -1;
	}
	if (v < min || v > max) {
		snprintf(err, errlen, "%lld is outside %lld..%lld", v,
		    (long long)min, (long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int64_t
env_int(const char *name, int64_t def, int64_t min, int64_t max)
{
	const char *v = env_str(name, NULL);
	char err[BOT_ERRLEN];
	int64_t out;

	if (v == NULL)
		return def;
	if (env_parse_int(v, min, max, &out, err, sizeof(err)) == -1)
		fatalx("%s: %s", name, err);
	return out;
}

int
env_bool(const char *name, int def)
{
	const char *v = env_str(name, NULL);

	if (v == NULL)
		return def;
	if (!strcmp(v, "1") || !strcasecmp(v, "true") ||
	    !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
		return 1;
	if (!strcmp(v, "0") || !strcasecmp(v, "false") ||
	    !strcasecmp(v, "no") || !strcasecmp(v, "off"))
		return 0;
	fatalx("%s: \"%s\" is not a boolean (use 1/0, true/false)", name, v);
}

char *
env_trim(char *s)
{
	size_t len = strlen(s), start = 0;

	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	while (isspace((unsigned char)s[start]))
		start++;
	if (start > 0)
		memmove(s, s + start, len - start + 1);
	return s;
}

/* Reads a small file whole; NULL with errno set on failure. */
static char *
env_read_file(const char *path)
{
	char *data = NULL;
	size_t len = 0, n;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	data = xmalloc(4097);
	n = fread(data, 1, 4096, f);
	len = n;
	if (ferror(f)) {
		int saved = errno;

		fclose(f);
		free(data);
		errno = saved;
		return NULL;
	}
	fclose(f);
	data[len] = '\0';
	return data;
}

/* A secret file others can read is worth a word, not a refusal (Docker
 * secrets are often mode 0444) -- but only when the advice can be
 * followed: when this process owns the file, `chmod 600` keeps it readable
 * here.  A file someone else owns (Grafolean's root-owned 0644
 * /shared-secrets/tokens/<protocol>-bot.token read by a bot running as
 * nobody) would become unreadable, so that is left alone. */
static void
env_check_secret_mode(const char *fname, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || (st.st_mode & (S_IRGRP | S_IROTH)) == 0)
		return;
	if (st.st_uid != geteuid()) {
		log_debug("%s: %s is readable by group or others (mode %03o) "
		          "but owned by uid %u, not by this process: its owner "
		          "decides",
		    fname, path, (unsigned)(st.st_mode & 0777),
		    (unsigned)st.st_uid);
		return;
	}
	log_warnx("%s: %s is readable by group or others (mode %03o); "
	          "chmod 600 it",
	    fname, path, (unsigned)(st.st_mode & 0777));
}

char *
env_secret(const char *name, int retry_ms, volatile sig_atomic_t *stop)
{
	char fname[128];
	const char *v, *path;
	char *data;
	int warned = 0;

	v = env_str(name, NULL);
	if (v != NULL)
		return env_trim(xstrdup(v));
	snprintf(fname, sizeof(fname), "%s_FROM_FILE", name);
	path = env_str(fname, NULL);
	if (path == NULL)
		return NULL;
	for (;;) {
		data = env_read_file(path);
		if (data != NULL)
			break;
		if (errno != ENOENT)
			fatal("%s: cannot read %s", fname, path);
		if (!warned) {
			log_info("%s: %s does not exist yet, waiting for it "
			         "(checking every %d ms)",
			    fname, path, retry_ms);
			warned = 1;
		}
		if (stop != NULL && *stop)
			return NULL;
		struct timespec ts = {
		    retry_ms / 1000, (long)(retry_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		if (stop != NULL && *stop)
			return NULL;
	}
	env_trim(data);
	if (*data == '\0') {
		free(data);
		fatalx("%s: %s is empty", fname, path);
	}
	if (warned)
		log_info("%s: read the token from %s", fname, path);
	env_check_secret_mode(fname, path);
	return data;
}
