/*
 * Output specs: what --output and OUTPUTS accept, and the errors for what
 * they do not.
 */
#include "t.h"

#include <string.h>

#include "output.h"

static int
parse(const char *spec, struct output_spec *o, char *err)
{
	return output_parse(spec, o, err, 200);
}

T_TEST(t_output_parse_kinds)
{
	struct output_spec o;
	char err[200];

	T_EQ_INT(parse("grafolean", &o, err), 0);
	T_EQ_INT(o.kind, OUTPUT_GRAFOLEAN);
	T_EQ_INT(parse("backend", &o, err), 0);
	T_EQ_INT(o.kind, OUTPUT_GRAFOLEAN);
	T_EQ_INT(parse("stdout", &o, err), 0);
	T_EQ_INT(o.kind, OUTPUT_STDOUT);
	T_EQ_INT(parse("graphite://carbon", &o, err), 0);
	T_EQ_INT(o.kind, OUTPUT_GRAPHITE);
	T_EQ_STR(o.host, "carbon");
	T_EQ_STR(o.port, "2003");
	T_EQ_INT(parse("graphite://10.0.0.1:2013", &o, err), 0);
	T_EQ_STR(o.host, "10.0.0.1");
	T_EQ_STR(o.port, "2013");
	T_EQ_INT(parse("graphite://[::1]:2004", &o, err), 0);
	T_EQ_STR(o.host, "::1");
	T_EQ_STR(o.port, "2004");
	T_EQ_INT(parse("prometheus://:9469", &o, err), 0);
	T_EQ_INT(o.kind, OUTPUT_PROMETHEUS);
	T_EQ_STR(o.host, "");
	T_EQ_STR(o.port, "9469");
	T_EQ_INT(parse("prometheus://127.0.0.1:9469", &o, err), 0);
	T_EQ_STR(o.host, "127.0.0.1");
	T_EQ_INT(parse("prometheus://[::]:9469", &o, err), 0);
	T_EQ_STR(o.host, "::");
}

T_TEST(t_output_parse_errors)
{
	struct output_spec o;
	char err[200];

	T_EQ_INT(parse("kafka://x", &o, err), -1);
	T_ASSERT(strstr(err, "graphite://HOST") != NULL);
	T_EQ_INT(parse("graphite://", &o, err), -1);
	T_ASSERT(strstr(err, "needs a host") != NULL);
	T_EQ_INT(parse("graphite://h:0", &o, err), -1);
	T_ASSERT(strstr(err, "1 to 65535") != NULL);
	T_EQ_INT(parse("graphite://h:65536", &o, err), -1);
	T_EQ_INT(parse("graphite://h:12x", &o, err), -1);
	T_EQ_INT(parse("graphite://h:", &o, err), -1);
	T_EQ_INT(parse("graphite://::1:2003", &o, err), -1);
	T_ASSERT(strstr(err, "brackets") != NULL);
	T_EQ_INT(parse("graphite://[::1", &o, err), -1);
	T_EQ_INT(parse("graphite://[::1]x", &o, err), -1);
	T_EQ_INT(parse("prometheus://127.0.0.1", &o, err), -1);
	T_ASSERT(strstr(err, "port is required") != NULL);
	T_EQ_INT(parse("Stdout", &o, err), -1);
}
