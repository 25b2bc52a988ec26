/*
 * libFuzzer target for entity write-back planning: the account's entity
 * list comes from the backend, so any JSON there must plan without a
 * crash, leak or endless loop, in both modes, and every planned write
 * must carry what the backend needs.
 */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "entsync.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_plan(const struct entsync_spec *spec, struct json_object *list,
    const struct entsync_item *items, size_t n)
{
	struct entsync_plan p;
	size_t i;

	entsync_plan(spec, list, items, n, &p);
	for (i = 0; i < p.n; i++) {
		const struct entsync_action *a = &p.actions[i];

		if ((a->verb == ENTSYNC_DELETE) != (a->body == NULL))
			abort();
		if (a->verb != ENTSYNC_POST && a->entity_id < 0)
			abort();
		if (spec->mode == ENTSYNC_SUGGEST && a->verb != ENTSYNC_POST)
			abort();
	}
	entsync_plan_release(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct entsync_spec mirror = {
	    7, 100, "interface", "snmp_index", ENTSYNC_MIRROR};
	static const struct entsync_spec suggest = {
	    7, -1, "device", "ipv4", ENTSYNC_SUGGEST};
	struct json_tokener *tok;
	struct json_object *list, *d[3];
	struct entsync_item items[3];

	log_init("fuzz", LOG_LEVEL_NONE);
	tok = json_tokener_new_ex(32);
	list = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	d[0] = json_tokener_parse(
	    "{\"snmp_index\": \"1\", \"ipv4\": \"192.0.2.1\"}");
	d[1] =
	    json_tokener_parse("{\"snmp_index\": \"2\", \"speed_bps\": \"0\"}");
	d[2] = json_tokener_parse("{\"snmp_index\": 1}");
	items[0].name = "eth0";
	items[0].details = d[0];
	items[1].name = "eth1";
	items[1].details = d[1];
	items[2].name = "dup";
	items[2].details = d[2];
	fuzz_plan(&mirror, list, items, 3);
	fuzz_plan(&suggest, list, items, 3);
	json_object_put(list);
	json_object_put(d[0]);
	json_object_put(d[1]);
	json_object_put(d[2]);
	return 0;
}
