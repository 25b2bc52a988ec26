/*
 * Value path checks and segment escaping.  The rules mirror the backend's
 * regular expression ^([a-zA-Z0-9_-]|%2e|%3a)+(\.([a-zA-Z0-9_-]|%2e|%3a)+)*$
 * so that nothing we send can make it reject a batch.
 */
#include "path.h"

#include <string.h>

static int
path_plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int
path_valid(const char *path)
{
	size_t i = 0, seg = 0, len = strlen(path);

	if (len == 0 || len > PATH_MAX_LEN)
		return 0;
	if (strncmp(path, "system.", 7) == 0)
		return 0;
	while (path[i] != '\0') {
		if (path_plain(path[i])) {
			i++;
			seg++;
		} else if (path[i] == '%' &&
		    (strncmp(path + i, "%2e", 3) == 0 ||
		        strncmp(path + i, "%3a", 3) == 0)) {
			i += 3;
			seg++;
		} else if (path[i] == '.' && seg > 0) {
			i++;
			seg = 0;
		} else {
			return 0;
		}
	}
	return seg > 0;
}

int
path_escape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	if (*in == '\0')
		return -1;
	for (; *in != '\0'; in++) {
		const char *rep = NULL;
		char one[2] = {*in, '\0'};

		if (*in == '.')
			rep = "%2e";
		else if (*in == ':')
			rep = "%3a";
		else if (!path_plain(*in))
			one[0] = '-';
		if (rep == NULL)
			rep = one;
		if (o + strlen(rep) + 1 > outlen)
			return -1;
		memcpy(out + o, rep, strlen(rep));
		o += strlen(rep);
	}
	out[o] = '\0';
	return 0;
}

int
path_clean(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	int in_run = 0;

	if (*in == '\0')
		return -1;
	for (; *in != '\0'; in++) {
		if (path_plain(*in)) {
			in_run = 0;
		} else if (in_run) {
			continue;
		} else {
			in_run = 1;
		}
		if (o + 2 > outlen)
			return -1;
		out[o++] = in_run ? '-' : *in;
	}
	out[o] = '\0';
	return 0;
}
