/*
 * Unit tests for entsync_plan: interfaces mirrored under their device
 * (create, update keeping what is not ours, delete gone and duplicate
 * ones, leave others alone) and exporters suggested (create only).
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "entsync.h"
#include "t.h"

static struct json_object *
js(const char *text)
{
	return json_tokener_parse(text);
}

static const char *
body(const struct entsync_action *a)
{
	return json_object_to_json_string_ext(a->body, JSON_C_TO_STRING_PLAIN);
}

static const struct entsync_action *
find(const struct entsync_plan *p, enum entsync_verb verb, int64_t id)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->actions[i].verb == verb && p->actions[i].entity_id == id)
			return &p->actions[i];
	return NULL;
}

static const struct entsync_spec mirror = {
    .account_id = 7,
    .parent = 100,
    .entity_type = "interface",
    .key_member = "snmp_index",
    .mode = ENTSYNC_MIRROR,
};

T_TEST(entsync_mirror_creates_everything_on_an_empty_device)
{
	struct json_object *d1 = js("{\"snmp_index\": \"1\", \"speed_bps\": "
	                            "\"1000000000\"}");
	struct json_object *d2 =
	    js("{\"snmp_index\": \"2\", \"speed_bps\": \"0\"}");
	struct json_object *list = js("[]");
	struct entsync_item items[] = {{"eth0", d1}, {"lo", d2}};
	struct entsync_plan p;

	entsync_plan(&mirror, list, items, 2, &p);
	T_EQ_INT(p.n, 2);
	T_EQ_INT(p.actions[0].verb, ENTSYNC_POST);
	T_EQ_STR(body(&p.actions[0]),
	    "{\"name\":\"eth0\",\"entity_type\":\"interface\",\"parent\":100,"
	    "\"details\":{\"snmp_index\":\"1\",\"speed_bps\":\"1000000000\"}}");
	T_EQ_INT(p.actions[1].verb, ENTSYNC_POST);
	entsync_plan_release(&p);
	json_object_put(list);
	json_object_put(d1);
	json_object_put(d2);
}

T_TEST(entsync_mirror_updates_deletes_and_leaves_others_alone)
{
	struct json_object *list = js(
	    "["
	    /* the integer key matches the string one, and is rewritten */
	    "{\"id\": 1, \"name\": \"eth0\", \"entity_type\": \"interface\", "
	    "\"parent\": 100, \"details\": {\"snmp_index\": 1, \"speed_bps\": "
	    "\"10\"}, \"protocols\": {}},"
	    /* renamed, with a protocol and a detail of the user's */
	    "{\"id\": 2, \"name\": \"old\", \"entity_type\": \"interface\", "
	    "\"parent\": 100, \"details\": {\"snmp_index\": \"2\", "
	    "\"speed_bps\": \"10\", \"note\": \"uplink\"}, \"protocols\": "
	    "{\"snmp\": {\"credential\": 5, \"bot\": 6, \"sensors\": []}}},"
	    /* gone from the device */
	    "{\"id\": 3, \"name\": \"eth9\", \"entity_type\": \"interface\", "
	    "\"parent\": 100, \"details\": {\"snmp_index\": \"9\"}},"
	    /* a duplicate of index 1 */
	    "{\"id\": 4, \"name\": \"eth0\", \"entity_type\": \"interface\", "
	    "\"parent\": 100, \"details\": {\"snmp_index\": \"1\"}},"
	    /* another device's interface, a device, a keyless interface */
	    "{\"id\": 5, \"name\": \"x\", \"entity_type\": \"interface\", "
	    "\"parent\": 200, \"details\": {\"snmp_index\": \"9\"}},"
	    "{\"id\": 100, \"name\": \"router\", \"entity_type\": \"device\", "
	    "\"parent\": null, \"details\": {\"snmp_index\": \"9\"}},"
	    "{\"id\": 6, \"name\": \"manual\", \"entity_type\": \"interface\", "
	    "\"parent\": 100, \"details\": {}},"
	    /* not even an entity */
	    "17, {\"name\": \"no id\"}"
	    "]");
	struct json_object *d1 =
	    js("{\"snmp_index\": \"1\", \"speed_bps\": \"10\"}");
	struct json_object *d2 =
	    js("{\"snmp_index\": \"2\", \"speed_bps\": \"10\"}");
	struct json_object *dup = js("{\"snmp_index\": \"2\"}");
	struct json_object *nokey = js("{\"speed_bps\": \"5\"}");
	struct entsync_item items[] = {
	    {"eth0", d1}, {"eth1", d2}, {"eth1-again", dup}, {"nokey", nokey}};
	const struct entsync_action *a;
	struct entsync_plan p;

	entsync_plan(&mirror, list, items, 4, &p);
	T_EQ_INT(p.n, 4);
	a = find(&p, ENTSYNC_PUT, 1);
	T_ASSERT(a != NULL);
	T_ASSERT(strstr(body(a), "\"snmp_index\":\"1\"") != NULL);
	a = find(&p, ENTSYNC_PUT, 2);
	T_ASSERT(a != NULL);
	T_EQ_STR(body(a),
	    "{\"name\":\"eth1\",\"entity_type\":\"interface\",\"parent\":100,"
	    "\"details\":{\"snmp_index\":\"2\",\"speed_bps\":\"10\",\"note\":"
	    "\"uplink\"},\"protocols\":{\"snmp\":{\"credential\":5,\"bot\":6,"
	    "\"sensors\":[]}}}");
	T_ASSERT(find(&p, ENTSYNC_DELETE, 3) != NULL);
	T_ASSERT(find(&p, ENTSYNC_DELETE, 4) != NULL);
	entsync_plan_release(&p);

	/* Nothing wanted: every keyed interface of the device goes. */
	entsync_plan(&mirror, list, NULL, 0, &p);
	T_EQ_INT(p.n, 4);
	T_ASSERT(find(&p, ENTSYNC_DELETE, 1) != NULL);
	T_ASSERT(find(&p, ENTSYNC_DELETE, 6) == NULL);
	T_ASSERT(find(&p, ENTSYNC_DELETE, 5) == NULL);
	entsync_plan_release(&p);

	/* Not a list at all: everything is new. */
	json_object_put(list);
	list = js("{\"list\": []}");
	entsync_plan(&mirror, list, items, 2, &p);
	T_EQ_INT(p.n, 2);
	entsync_plan_release(&p);
	json_object_put(list);
	json_object_put(d1);
	json_object_put(d2);
	json_object_put(dup);
	json_object_put(nokey);
}

T_TEST(entsync_mirror_holds_entities_whose_bot_was_deleted)
{
	/* The list shows "bot": null once the assigned bot was deleted; the
	 * backend refuses a PUT carrying it (400), so such an entity is held,
	 * not written, while the others are. */
	struct json_object *list =
	    js("["
	       "{\"id\": 11, \"name\": \"old\", \"entity_type\": "
	       "\"interface\", \"parent\": 100, \"details\": {\"snmp_index\": "
	       "\"1\"}, \"protocols\": {\"snmp\": {\"credential\": 5, "
	       "\"bot\": null, \"sensors\": []}}},"
	       "{\"id\": 12, \"name\": \"old\", \"entity_type\": "
	       "\"interface\", \"parent\": 100, \"details\": {\"snmp_index\": "
	       "\"2\"}, \"protocols\": {\"snmp\": {\"credential\": 5, "
	       "\"bot\": \"6\", \"sensors\": [{\"sensor\": 7, \"interval\": "
	       "null}]}}},"
	       "{\"id\": 13, \"name\": \"eth2\", \"entity_type\": "
	       "\"interface\", \"parent\": 100, \"details\": {\"snmp_index\": "
	       "\"3\"}, \"protocols\": {\"snmp\": {\"credential\": 5, "
	       "\"bot\": null, \"sensors\": []}}},"
	       "{\"id\": 14, \"name\": \"old\", \"entity_type\": "
	       "\"interface\", \"parent\": 100, \"details\": {\"snmp_index\": "
	       "\"4\"}, \"protocols\": null}"
	       "]");
	struct json_object *d1 = js("{\"snmp_index\": \"1\"}");
	struct json_object *d2 = js("{\"snmp_index\": \"2\"}");
	struct json_object *d3 = js("{\"snmp_index\": \"3\"}");
	struct json_object *d4 = js("{\"snmp_index\": \"4\"}");
	struct entsync_item items[] = {
	    {"eth0", d1}, {"eth1", d2}, {"eth2", d3}, {"eth3", d4}};
	const struct entsync_action *a;
	struct entsync_plan p;

	entsync_plan(&mirror, list, items, 4, &p);
	/* 11 changed but held; 13 unchanged; 12 and 14 written */
	T_EQ_INT(p.n_held, 1);
	T_EQ_INT(p.held_id, 11);
	T_EQ_INT(p.n, 2);
	T_ASSERT(find(&p, ENTSYNC_PUT, 11) == NULL);
	T_ASSERT(find(&p, ENTSYNC_DELETE, 11) == NULL);
	a = find(&p, ENTSYNC_PUT, 12);
	T_ASSERT(a != NULL);
	T_ASSERT(strstr(body(a), "\"bot\":\"6\"") != NULL);
	a = find(&p, ENTSYNC_PUT, 14);
	T_ASSERT(a != NULL);
	T_ASSERT(strstr(body(a), "protocols") == NULL);
	entsync_plan_release(&p);
	json_object_put(list);
	json_object_put(d1);
	json_object_put(d2);
	json_object_put(d3);
	json_object_put(d4);
}

T_TEST(entsync_suggest_only_creates_unknown_keys)
{
	static const struct entsync_spec suggest = {
	    .account_id = 7,
	    .parent = -1,
	    .entity_type = "device",
	    .key_member = "ipv4",
	    .mode = ENTSYNC_SUGGEST,
	};
	struct json_object *list =
	    js("["
	       "{\"id\": 1, \"name\": \"r1\", \"entity_type\": \"device\", "
	       "\"parent\": null, \"details\": {\"ipv4\": \"192.0.2.1\"}},"
	       "{\"id\": 2, \"name\": \"r2\", \"entity_type\": \"device\", "
	       "\"parent\": null, \"details\": {\"ipv4\": \"192.0.2.9\"}}"
	       "]");
	struct json_object *known = js("{\"ipv4\": \"192.0.2.1\"}");
	struct json_object *fresh = js("{\"ipv4\": \"192.0.2.2\"}");
	struct entsync_item items[] = {{"192.0.2.1 (NetFlow exporter)", known},
	    {"192.0.2.2 (NetFlow exporter)", fresh}};
	struct entsync_plan p;

	entsync_plan(&suggest, list, items, 2, &p);
	T_EQ_INT(p.n, 1);
	T_EQ_INT(p.actions[0].verb, ENTSYNC_POST);
	T_EQ_STR(body(&p.actions[0]),
	    "{\"name\":\"192.0.2.2 (NetFlow exporter)\",\"entity_type\":"
	    "\"device\",\"parent\":null,\"details\":{\"ipv4\":\"192.0.2.2\"}}");
	entsync_plan_release(&p);
	json_object_put(list);
	json_object_put(known);
	json_object_put(fresh);
}
