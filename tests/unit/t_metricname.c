/*
 * Path -> Prometheus series: the README's mapping table, row by row, and
 * the escaping of label values.
 */
#include <stdio.h>
#include <string.h>

#include "metricname.h"
#include "t.h"

static const char *
series(const char *path)
{
	static char out[2048];
	struct metric m;

	if (metricname_map(path, &m) == -1)
		return "(invalid)";
	if (metricname_series(&m, out, sizeof(out)) == -1)
		return "(too long)";
	return out;
}

T_TEST(t_metricname_ping)
{
	T_EQ_STR(series("entity.12.ping.p0.ok"),
	    "grafolean_ping_packet_ok{entity=\"12\",packet=\"0\"}");
	T_EQ_STR(series("entity.12.ping.p17.rtt"),
	    "grafolean_ping_packet_rtt_seconds{entity=\"12\",packet=\"17\"}");
	T_EQ_STR(series("entity.12.ping.success"),
	    "grafolean_ping_success_ratio{entity=\"12\"}");
	T_EQ_STR(series("entity.12.ping.rtt.avg"),
	    "grafolean_ping_rtt_avg_seconds{entity=\"12\"}");
	T_EQ_STR(series("entity.12.ping.rtt.stddev"),
	    "grafolean_ping_rtt_stddev_seconds{entity=\"12\"}");
	/* Not one of ping's own shapes: the generic rule. */
	T_EQ_STR(series("entity.12.ping.px.ok"),
	    "grafolean_ping_px_ok{entity=\"12\"}");
}

T_TEST(t_metricname_snmp)
{
	T_EQ_STR(series("entity.5.snmp.if.in-octets.3.eth0"),
	    "grafolean_snmp_if_in_octets{entity=\"5\",index=\"3\","
	    "key=\"eth0\"}");
	/* A whole OID index, and a slugged name with escapes. */
	T_EQ_STR(series("entity.5.snmp.lmsensors.temp.1.2.3.CPU%2e0"),
	    "grafolean_snmp_lmsensors_temp{entity=\"5\",index=\"1.2.3\","
	    "key=\"CPU.0\"}");
	T_EQ_STR(series("entity.5.snmp.sysUpTime"),
	    "grafolean_snmp_sysuptime{entity=\"5\"}");
	T_EQ_STR(series("entity.5.snmp.7"),
	    "grafolean_snmp_value{entity=\"5\",index=\"7\"}");
}

T_TEST(t_metricname_api)
{
	T_EQ_STR(series("entity.9.api.44.http.status"),
	    "grafolean_api_http_status{entity=\"9\",sensor=\"44\"}");
	T_EQ_STR(series("entity.9.api.44.http.time"),
	    "grafolean_api_http_time_seconds{entity=\"9\",sensor=\"44\"}");
	T_EQ_STR(series("entity.9.api.44.http.size"),
	    "grafolean_api_http_size_bytes{entity=\"9\",sensor=\"44\"}");
	T_EQ_STR(series("entity.9.api.44.http.ok"),
	    "grafolean_api_http_ok{entity=\"9\",sensor=\"44\"}");
	T_EQ_STR(series("entity.9.api.queue.depth"),
	    "grafolean_api_queue_depth{entity=\"9\"}");
}

T_TEST(t_metricname_netflow)
{
	T_EQ_STR(series("netflow.1min.ingress"),
	    "grafolean_netflow_bytes{window=\"1min\",direction=\"ingress\"}");
	T_EQ_STR(series("netflow.1h.egress.entity.3.if.7"),
	    "grafolean_netflow_bytes{window=\"1h\",direction=\"egress\","
	    "entity=\"3\",interface=\"7\"}");
	T_EQ_STR(series("netflow.1min.ingress.entity.3.topip.10%2e0%2e0%2e1"),
	    "grafolean_netflow_top_ip_bytes{window=\"1min\",direction="
	    "\"ingress\",entity=\"3\",ip=\"10.0.0.1\"}");
	T_EQ_STR(
	    series("netflow.1min.egress.entity.3.if.2.topip.2001%3adb8%3a%3a1"),
	    "grafolean_netflow_top_ip_bytes{window=\"1min\",direction="
	    "\"egress\",entity=\"3\",interface=\"2\",ip=\"2001:db8::1\"}");
	T_EQ_STR(series("netflow.15min.ingress.entity.3.topprotocol.tcp"),
	    "grafolean_netflow_top_protocol_bytes{window=\"15min\","
	    "direction=\"ingress\",entity=\"3\",protocol=\"tcp\"}");
	T_EQ_STR(series("netflow.24h.ingress.entity.3.topconn.1%2e2%2e3%2e4."
	                "5%2e6%2e7%2e8"),
	    "grafolean_netflow_top_connection_bytes{window=\"24h\","
	    "direction=\"ingress\",entity=\"3\",src=\"1.2.3.4\","
	    "dst=\"5.6.7.8\"}");
	T_EQ_STR(series("netflow.4h.egress.entity.3.topdstports.443"),
	    "grafolean_netflow_top_dst_port_bytes{window=\"4h\",direction="
	    "\"egress\",entity=\"3\",port=\"443\"}");
}

T_TEST(t_metricname_other)
{
	T_EQ_STR(series("entity.1.test.v.0"),
	    "grafolean_test_v{entity=\"1\",index=\"0\"}");
	T_EQ_STR(series("weather.Ljubljana.temp"),
	    "grafolean_weather_ljubljana_temp");
	T_EQ_STR(
	    series("entity.x.ping.success"), "grafolean_entity_x_ping_success");
}

T_TEST(t_metricname_invalid)
{
	T_EQ_STR(series(""), "(invalid)");
	T_EQ_STR(series("a..b"), "(invalid)");
	T_EQ_STR(series("system.x"), "(invalid)");
	T_EQ_STR(series("a b"), "(invalid)");
	T_EQ_STR(series("a\"b"), "(invalid)");
}

T_TEST(t_metricname_series_escapes)
{
	struct metric m;
	char out[64];

	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "x");
	m.n_labels = 1;
	m.labels[0].name = "l";
	snprintf(m.labels[0].value, sizeof(m.labels[0].value), "a\"b\\c\nd");
	T_EQ_INT(metricname_series(&m, out, sizeof(out)), 17);
	T_EQ_STR(out, "x{l=\"a\\\"b\\\\c\\nd\"}");
	T_EQ_INT(metricname_series(&m, out, 10), -1);
}
