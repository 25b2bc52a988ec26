/*
 * snmpbot's runtime hooks and its polling engine.  Each device (job) owns
 * one net-snmp single-session handle, kept open for the job's life, whose
 * UDP socket is watched by the bot's loop and whose retransmission
 * deadlines come from snmp_sess_select_info2 into one loop timer per
 * device: no call here blocks, and a slow or dead device only waits for
 * its own timers.  A poll sends one request at a time per device: the
 * GETs (with sysUpTime.0, to see agent restarts), then the walks (GETBULK
 * on v2c/v3, GETNEXT on v1, every distinct walked column of the due
 * sensors together).  net-snmp callbacks only record the answer; the next
 * request, the end of a poll and anything that may free a job happen after
 * the library returned.  Polls beyond the in-flight cap wait in a queue.
 * SNMPv3 engine IDs are discovered by the library from the first
 * request's report (no synchronous probe) and kept in the open session.
 */
#include "snmpbot.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <net-snmp/library/large_fd_set.h>
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"
#include "entsync.h"
#include "expr.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "path.h"
#include "settings.h"
#include "slug.h"
#include "snmpcfg.h"
#include "snmpcol.h"
#include "snmpfetch.h"
#include "snmppath.h"
#include "snmprows.h"
#include "target.h"
#include "timer.h"
#include "xmalloc.h"

#define SNMPBOT_WARN_MS          INT64_C(600000) /* a repeated warning */
#define SNMPBOT_RESOLVER_THREADS 4

static const uint32_t snmpbot_uptime_oid[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
/* Interface discovery walks ifDescr and ifSpeed. */
static uint32_t snmpbot_if_descr[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 2};
static uint32_t snmpbot_if_speed[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 5};
static const struct snmpcfg_oid snmpbot_disc_oids[2] = {
    {snmpbot_if_descr, 10, 1},
    {snmpbot_if_speed, 10, 1},
};

/* Settings (environment, read at init); the initial values, the same as
 * the table's defaults, serve the unit tests, which never call init. */
static const struct setting snmpbot_settings[] = {
    {"SNMP_TIMEOUT_MS", "2000", 50, 60000,
        "wait for an answer before retrying, ms"},
    {"SNMP_RETRIES", "1", 0, 10, "retries of an unanswered request"},
    {"SNMP_MAX_REPETITIONS", "25", 1, 1000,
        "GETBULK max-repetitions of walks on v2c and v3"},
    {"SNMP_MAX_VARBINDS", "32", 1, 128, "most OIDs in one request"},
    {"SNMP_ROW_CAP", "10000", 1, 1000000,
        "most rows one walk takes; the rest is cut with a log line"},
    {"SNMP_MAX_INFLIGHT", "1000", 1, 100000,
        "most devices polled at once; the others wait their turn"},
    {"SNMP_POLL_DEADLINE_MS", "30000", 100, 3600 * 1000,
        "a device poll ends by then, with what arrived"},
    {"SNMP_GETBULK_RETRY", "3600", 1, 604800,
        "seconds an agent that left a GETBULK unanswered is walked with "
        "GETNEXT before GETBULK is tried again"},
    {"SNMP_DISCOVERY_INTERVAL", "300", 0, 86400,
        "seconds between interface discoveries per device (0 turns it "
        "off): ifDescr and ifSpeed kept as \"interface\" child entities "
        "(systemwide bots; a 403 turns it off for the account)"},
    {NULL, NULL, 0, 0, NULL},
};

static struct {
	int64_t timeout_ms;
	int retries;
	int max_repetitions;
	int max_varbinds;
	size_t row_cap;
	size_t max_inflight;
	int64_t deadline_ms;
	int64_t discovery_ms; /* 0: off */
	int64_t nobulk_ms;    /* GETNEXT only for this long */
} sset = {2000, 1, 25, 32, 10000, 1000, 30000, 300000, 3600000};

/* A distinct OID the device's sensors fetch. */
struct snmpdev_col {
	const uint32_t *ids; /* borrowed from a sensor's config */
	size_t len;
	int walk;
	struct snmpcol cur, prev;
	int have_prev;
	int needed; /* in the current poll */
	struct snmpfetch_col f;
};

struct snmpdev_sensor {
	struct snmpcfg_sensor cfg;
	size_t col[SNMPCFG_MAX_OIDS];
	struct log_limit lim;      /* rows skipped */
	struct log_limit lim_path; /* values dropped for their path */
};

enum snmpdev_phase {
	SNMPDEV_IDLE = 0,
	SNMPDEV_POLLING,
};

/* What a net-snmp callback saw, for the code that runs after it. */
struct snmpdev_event {
	int done;
	int timed_out;
	int report;   /* SNMPERR_* of an SNMPv3 report, or 0 */
	long errstat; /* the answer's error-status */
	long errindex;
};

struct snmpdev {
	int64_t job_id;
	struct snmpcfg_cred cred;
	struct target target; /* its address, or a name's lookup state */
	struct snmpdev_sensor *sensors;
	size_t n_sensors;
	struct snmpdev_col *cols;
	size_t n_cols;
	struct snmpcol up_cur;
	struct snmpfetch_col up_f;
	size_t disc_col[2];   /* ifDescr, ifSpeed among cols */
	int64_t next_disc_ms; /* monotonic */
	int disc_now;         /* this poll discovers interfaces */
	int64_t account_id;
	uint64_t up_prev;
	int have_up_prev;
	int64_t nobulk_until_ms; /* walk with GETNEXT until then: GETBULK
	                          * went unanswered (see absorb_event) */

	void *sess;  /* net-snmp single session, or NULL */
	int fd;      /* its socket, watched by the loop */
	int closing; /* callbacks during snmp_sess_close do nothing */
	struct timer tmo;

	struct run *run; /* the poll in progress, or NULL */
	enum snmpdev_phase phase;
	struct timer deadline;
	long reqid; /* the request whose answer we want, or 0 */
	int req_walk;
	struct snmpfetch_col *req[SNMPCFG_MAX_OIDS * 8];
	size_t n_req;
	int maxrep;
	size_t maxvb; /* most varbinds per request this poll */
	struct snmpdev_event ev;
	char fail[BOT_ERRLEN];               /* why the poll failed, or "" */
	struct log_limit lim;                /* the poll failed */
	struct log_limit lim_walk;           /* a walk cut short */
	struct log_limit lim_vals;           /* values missing from answers */
	struct log_limit lim_err;            /* error-status answers */
	struct snmpdev *act_prev, *act_next; /* polls in progress */
};

static struct {
	struct loop *loop;
	struct target_resolver *targets; /* host names' lookups */
	size_t inflight;
	struct snmpdev **queue; /* devices whose run waits for a slot */
	size_t n_queue, cap_queue;
	struct timer kick;
	struct snmpdev *active; /* polls in progress */
	struct entsync *es;     /* interface discovery, or NULL */
	int init_done;
	/* the current run's emitted paths, to drop duplicates */
	char **seen;
	size_t cap_seen, n_seen;
	struct log_limit dup_lim;
} sb;

static int snmpdev_step(struct snmpdev *d);
static void snmpdev_finish(struct snmpdev *d);
static void snmpdev_rearm(struct snmpdev *d);

static const char *
snmpdev_host(const struct snmpdev *d)
{
	return d->target.text;
}

/* ---- net-snmp sessions ---- */

static void
snmpbot_oid_copy(oid *out, const uint32_t *ids, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = ids[i];
}

static void snmpdev_on_read(int fd, int revents, void *arg);

/* The library's last error of a session as text (in buf). */
static const char *
snmpbot_sess_error(void *sess, char *buf, size_t len)
{
	int liberr = 0, syserr = 0;
	char *msg = NULL;

	snmp_sess_error(sess, &liberr, &syserr, &msg);
	snprintf(buf, len, "%s", msg != NULL ? msg : "unknown error");
	free(msg);
	return buf;
}

/* net-snmp's peer name for d's current address: "udp:addr:port" or
 * "udp6:[addr]:port". */
static void
snmpdev_peer(const struct snmpdev *d, char *peer, size_t peerlen)
{
	char hostport[TARGET_ADDRLEN + 16];

	(void)target_format(&d->target, hostport, sizeof(hostport));
	snprintf(peer, peerlen, "%s:%s",
	    d->target.family == AF_INET6 ? "udp6" : "udp", hostport);
}

/* Sets s's privacy protocol OID from c (DES, AES-128, AES-192/256 in
 * Blumenthal's or Reeder's key extension).  -1 when this net-snmp was
 * built without AES-192/256 (--enable-blumenthal-aes). */
static int
snmpdev_priv_proto(const struct snmpcfg_cred *c, netsnmp_session *s)
{
	switch (c->priv_aes) {
	case 0:
		s->securityPrivProto = usmDESPrivProtocol;
		s->securityPrivProtoLen = USM_PRIV_PROTO_DES_LEN;
		return 0;
	case 1:
		s->securityPrivProto = usmAESPrivProtocol;
		s->securityPrivProtoLen = USM_PRIV_PROTO_AES_LEN;
		return 0;
#ifdef NETSNMP_DRAFT_BLUMENTHAL_AES_04
	case 192:
		s->securityPrivProto = c->priv_cisco
		    ? usmAES192CiscoPrivProtocol
		    : usmAES192PrivProtocol;
		s->securityPrivProtoLen = c->priv_cisco
		    ? OID_LENGTH(usmAES192CiscoPrivProtocol)
		    : OID_LENGTH(usmAES192PrivProtocol);
		return 0;
	case 256:
		s->securityPrivProto = c->priv_cisco
		    ? usmAES256CiscoPrivProtocol
		    : usmAES256PrivProtocol;
		s->securityPrivProtoLen = c->priv_cisco
		    ? OID_LENGTH(usmAES256CiscoPrivProtocol)
		    : OID_LENGTH(usmAES256PrivProtocol);
		return 0;
#endif
	default:
		return -1;
	}
}

/* Fills a session template for d.  -1 with err when a v3 key cannot be
 * made. */
static int
snmpdev_session_template(struct snmpdev *d, netsnmp_session *s, char *peer,
    size_t peerlen, char *err, size_t errlen)
{
	snmp_sess_init(s);
	snmpdev_peer(d, peer, peerlen);
	s->peername = peer;
	s->timeout = (long)(sset.timeout_ms * 1000);
	s->retries = sset.retries;
	switch (d->cred.version) {
	case SNMPCFG_V1:
	case SNMPCFG_V2C:
		s->version = d->cred.version == SNMPCFG_V1 ? SNMP_VERSION_1
		                                           : SNMP_VERSION_2c;
		s->community = (u_char *)d->cred.community;
		s->community_len = strlen(d->cred.community);
		return 0;
	case SNMPCFG_V3:
		break;
	}
	s->version = SNMP_VERSION_3;
	s->securityModel = SNMP_SEC_MODEL_USM;
	s->securityName = d->cred.sec_name;
	s->securityNameLen = strlen(d->cred.sec_name);
	/* No synchronous probe in snmp_sess_open: the library discovers the
	 * engine ID from the first request's report, localises the keys and
	 * sends the request again, all asynchronously; the open session
	 * keeps the engine ID for the following polls. */
	s->flags |= SNMP_FLAGS_DONT_PROBE;
	s->securityLevel = d->cred.level == SNMPCFG_AUTHPRIV
	    ? SNMP_SEC_LEVEL_AUTHPRIV
	    : d->cred.level == SNMPCFG_AUTHNOPRIV ? SNMP_SEC_LEVEL_AUTHNOPRIV
	                                          : SNMP_SEC_LEVEL_NOAUTH;
	if (d->cred.level == SNMPCFG_NOAUTH)
		return 0;
	switch (d->cred.auth_sha) {
	case 0:
		s->securityAuthProto = usmHMACMD5AuthProtocol;
		break;
	case 224:
		s->securityAuthProto = usmHMAC128SHA224AuthProtocol;
		break;
	case 256:
		s->securityAuthProto = usmHMAC192SHA256AuthProtocol;
		break;
	case 384:
		s->securityAuthProto = usmHMAC256SHA384AuthProtocol;
		break;
	case 512:
		s->securityAuthProto = usmHMAC384SHA512AuthProtocol;
		break;
	default:
		s->securityAuthProto = usmHMACSHA1AuthProtocol;
		break;
	}
	s->securityAuthProtoLen =
	    d->cred.auth_sha ? USM_AUTH_PROTO_SHA_LEN : USM_AUTH_PROTO_MD5_LEN;
	s->securityAuthKeyLen = USM_AUTH_KU_LEN;
	if (generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen,
	        (const u_char *)d->cred.auth_key, strlen(d->cred.auth_key),
	        s->securityAuthKey,
	        &s->securityAuthKeyLen) != SNMPERR_SUCCESS) {
		snprintf(err, errlen, "cannot make the SNMPv3 auth key");
		return -1;
	}
	if (d->cred.level != SNMPCFG_AUTHPRIV)
		return 0;
	if (snmpdev_priv_proto(&d->cred, s) != 0) {
		snprintf(err, errlen,
		    "this net-snmp has no AES-%d privacy protocol",
		    d->cred.priv_aes);
		return -1;
	}
	/* Ku from the pass phrase, as net-snmp's own tools make it; the
	 * library localises it and, for AES-192/256, extends the localised
	 * key to 24 or 32 bytes from the auth hash (Blumenthal or Reeder
	 * as the protocol says). */
	s->securityPrivKeyLen = USM_PRIV_KU_LEN;
	if (generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen,
	        (const u_char *)d->cred.priv_key, strlen(d->cred.priv_key),
	        s->securityPrivKey,
	        &s->securityPrivKeyLen) != SNMPERR_SUCCESS) {
		snprintf(err, errlen, "cannot make the SNMPv3 privacy key");
		return -1;
	}
	return 0;
}

static int snmpdev_callback(
    int op, netsnmp_session *sp, int reqid, netsnmp_pdu *pdu, void *magic);

/* Opens d's session.  -1 with err. */
static int
snmpdev_open(struct snmpdev *d, char *err, size_t errlen)
{
	netsnmp_session s;
	netsnmp_transport *t;
	char peer[128];
	void *sess;

	if (snmpdev_session_template(d, &s, peer, sizeof(peer), err, errlen) !=
	    0)
		return -1;
	s.callback = snmpdev_callback;
	s.callback_magic = d;
	sess = snmp_sess_open(&s);
	/* The template's key buffers held secrets. */
	memset(s.securityAuthKey, 0, sizeof(s.securityAuthKey));
	memset(s.securityPrivKey, 0, sizeof(s.securityPrivKey));
	if (sess == NULL) {
		int liberr = 0, syserr = 0;
		char *msg = NULL;

		snmp_error(&s, &liberr, &syserr, &msg);
		snprintf(err, errlen, "cannot open an SNMP session to %s: %s",
		    peer, msg != NULL ? msg : "unknown error");
		free(msg);
		return -1;
	}
	t = snmp_sess_transport(sess);
	if (t == NULL || t->sock < 0) {
		snmp_sess_close(sess);
		snprintf(err, errlen, "SNMP session to %s has no socket", peer);
		return -1;
	}
	d->sess = sess;
	d->fd = t->sock;
	loop_watch(sb.loop, t->sock, POLLIN, snmpdev_on_read, d);
	return 0;
}

static void
snmpdev_close(struct snmpdev *d)
{
	if (d->sess != NULL) {
		if (sb.loop != NULL && d->fd >= 0)
			loop_unwatch(sb.loop, d->fd);
		d->closing = 1;
		snmp_sess_close(d->sess);
		d->closing = 0;
		d->sess = NULL;
		d->fd = -1;
	}
	if (sb.loop != NULL)
		loop_timer_stop(sb.loop, &d->tmo);
}

/* net-snmp calls this from snmp_sess_read2 / snmp_sess_timeout (and
 * close); it only records what happened. */
static int
snmpdev_callback(
    int op, netsnmp_session *sp, int reqid, netsnmp_pdu *pdu, void *magic)
{
	struct snmpdev *d = magic;
	double t_s = timer_wall_s();

	(void)sp;
	if (d == NULL || d->closing || d->reqid == 0)
		return 1;
	/* An SNMPv3 answer that fails its checks (a wrong key) or a report
	 * the library could not match reaches the session's callback with
	 * no request id, and the library has dropped our request: that ends
	 * the request in progress. */
	if (reqid == 0 && pdu != NULL &&
	    (op == NETSNMP_CALLBACK_OP_SEC_ERROR ||
	        pdu->command == SNMP_MSG_REPORT)) {
		d->reqid = 0;
		memset(&d->ev, 0, sizeof(d->ev));
		d->ev.done = 1;
		d->ev.report = snmpv3_get_report_type(pdu);
		if (d->ev.report == 0)
			d->ev.report = SNMPERR_AUTHENTICATION_FAILURE;
		return 1;
	}
	if (reqid != d->reqid)
		return 1;
	d->reqid = 0;
	memset(&d->ev, 0, sizeof(d->ev));
	d->ev.done = 1;
	if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE || pdu == NULL) {
		d->ev.timed_out = 1;
		return 1;
	}
	if (pdu->command == SNMP_MSG_REPORT) {
		d->ev.report = snmpv3_get_report_type(pdu);
		if (d->ev.report == 0)
			d->ev.report = SNMPERR_UNKNOWN_REPORT;
		return 1;
	}
	d->ev.errstat = pdu->errstat;
	d->ev.errindex = pdu->errindex;
	if (pdu->errstat != SNMP_ERR_NOERROR)
		return 1;
	if (d->req_walk)
		snmpfetch_walk(
		    d->req, d->n_req, pdu->variables, t_s, sset.row_cap);
	else
		snmpfetch_get(d->req, d->n_req, pdu->variables, t_s);
	return 1;
}

/* ---- one poll ---- */

static void snmpdev_fail(struct snmpdev *d, const char *fmt, ...)
    BOT_PRINTF(2, 3);

/* Records why the poll failed (the first reason) and ends every column
 * still running. */
static void
snmpdev_fail(struct snmpdev *d, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	if (d->fail[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(d->fail, sizeof(d->fail), fmt, ap);
		va_end(ap);
	}
	for (i = 0; i < d->n_cols; i++)
		if (d->cols[i].needed && d->cols[i].f.end == SNMPFETCH_RUNNING)
			d->cols[i].f.end = SNMPFETCH_FAILED;
	if (d->up_f.end == SNMPFETCH_RUNNING)
		d->up_f.end = SNMPFETCH_FAILED;
}

/* Sends a request for d->req[0..n_req); 0, or -1 after failing the
 * poll. */
static int
snmpdev_send(struct snmpdev *d, void *sess, int command)
{
	netsnmp_pdu *pdu = snmp_pdu_create(command);
	oid name[SNMPCOL_MAX_OID];
	char buf[BOT_ERRLEN];
	size_t i;
	int reqid;

	if (command == SNMP_MSG_GETBULK) {
		pdu->non_repeaters = 0;
		pdu->max_repetitions = d->maxrep;
	}
	for (i = 0; i < d->n_req; i++) {
		struct snmpfetch_col *c = d->req[i];
		const uint32_t *ids = c->walk ? c->last : c->base;
		size_t len = c->walk ? c->last_len : c->base_len;

		snmpbot_oid_copy(name, ids, len);
		snmp_add_null_var(pdu, name, len);
	}
	reqid = snmp_sess_async_send(sess, pdu, snmpdev_callback, d);
	if (reqid == 0) {
		snmp_free_pdu(pdu);
		snmpdev_fail(d, "cannot send: %s",
		    snmpbot_sess_error(sess, buf, sizeof(buf)));
		return -1;
	}
	d->reqid = reqid;
	return 0;
}

static const char *
snmpbot_oid_text(const uint32_t *ids, size_t len, char *buf, size_t buflen)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < len && o + 12 < buflen; i++) {
		int n = snprintf(buf + o, buflen - o, "%s%u", i ? "." : "",
		    (unsigned)ids[i]);

		if (n < 0)
			break;
		o += (size_t)n;
	}
	return buf;
}

/* Walks of this device use GETNEXT for now (GETBULK went unanswered). */
static int
snmpdev_nobulk(const struct snmpdev *d)
{
	return d->nobulk_until_ms != 0 && timer_now_ms() < d->nobulk_until_ms;
}

/* Handles a recorded answer: errors, v1's noSuchName, SNMPv3 reports. */
static void
snmpdev_absorb_event(struct snmpdev *d)
{
	struct snmpdev_event ev = d->ev;
	char buf[BOT_ERRLEN];
	size_t i;

	memset(&d->ev, 0, sizeof(d->ev));
	/* An agent that answered this poll's GETs but not its GETBULK does
	 * not do GETBULK (old printers and UPS cards), or its large answers
	 * are lost on the way (fragments dropped): it is walked with GETNEXT,
	 * starting with this step, and GETBULK is tried again after
	 * SNMP_GETBULK_RETRY (an hour)
	 * (a lost answer from a healthy agent does not slow it for good). */
	if (ev.timed_out && d->req_walk && !snmpdev_nobulk(d) &&
	    d->cred.version != SNMPCFG_V1 && d->up_f.end == SNMPFETCH_DONE &&
	    d->up_cur.n == 1 && d->up_cur.ents[0].type != SNMPCOL_NONE) {
		d->nobulk_until_ms = timer_now_ms() + sset.nobulk_ms;
		log_info("job %lld (%s): no answer to GETBULK, walking with "
		         "GETNEXT for %lld s (SNMP_GETBULK_RETRY)",
		    (long long)d->job_id, snmpdev_host(d),
		    (long long)(sset.nobulk_ms / 1000));
		return;
	}
	if (ev.timed_out) {
		snprintf(buf, sizeof(buf), "%lld ms, %d retries",
		    (long long)sset.timeout_ms, sset.retries);
		snmpdev_fail(d, "no answer (timeout after %s)", buf);
		return;
	}
	if (ev.report != 0) {
		snmpdev_fail(d, "SNMPv3 error report from the agent: %s",
		    snmp_api_errstring(ev.report));
		return;
	}
	if (ev.errstat == SNMP_ERR_NOERROR)
		return;
	/* v1 says noSuchName where v2 has noSuchObject (GET) and end of
	 * MIB (GETNEXT): that varbind alone is done, the others are asked
	 * again. */
	if (ev.errstat == SNMP_ERR_NOSUCHNAME && ev.errindex >= 1 &&
	    (size_t)ev.errindex <= d->n_req) {
		struct snmpfetch_col *c = d->req[ev.errindex - 1];

		if (!c->walk) {
			struct snmpcol_val v;

			memset(&v, 0, sizeof(v));
			v.type = SNMPCOL_NONE;
			snmpcol_add(c->out, NULL, 0, &v);
			c->bad_values++;
		}
		c->end = SNMPFETCH_DONE;
		return;
	}
	if (ev.errstat == SNMP_ERR_TOOBIG && d->req_walk && d->maxrep > 1) {
		d->maxrep /= 2;
		return; /* the same step again, smaller */
	}
	/* A GET (or a walk at one repetition) too big for the agent: the
	 * same step again with half the varbinds per request. */
	if (ev.errstat == SNMP_ERR_TOOBIG && d->n_req > 1) {
		d->maxvb = d->n_req / 2;
		return;
	}
	snprintf(buf, sizeof(buf), "error-status %ld (%s) at varbind %ld",
	    ev.errstat, snmp_errstring(ev.errstat), ev.errindex);
	for (i = 0; i < d->n_req; i++)
		if (d->req[i]->end == SNMPFETCH_RUNNING)
			d->req[i]->end = SNMPFETCH_FAILED;
	log_warnx_limited(&d->lim_err, SNMPBOT_WARN_MS, "job %lld (%s): %s",
	    (long long)d->job_id, snmpdev_host(d), buf);
}

/* Sends the next request of the poll (0), or ends it (1: d may be gone
 * then). */
static int
snmpdev_step(struct snmpdev *d)
{
	size_t i;
	int v1 = d->cred.version == SNMPCFG_V1;

	/* The GETs first (sysUpTime.0 with them), in chunks. */
	d->n_req = 0;
	if (d->up_f.end == SNMPFETCH_RUNNING)
		d->req[d->n_req++] = &d->up_f;
	for (i = 0; i < d->n_cols && d->n_req < d->maxvb; i++) {
		struct snmpdev_col *c = &d->cols[i];

		if (c->needed && !c->walk && c->f.end == SNMPFETCH_RUNNING)
			d->req[d->n_req++] = &c->f;
	}
	if (d->n_req > 0) {
		d->req_walk = 0;
		if (snmpdev_send(d, d->sess, SNMP_MSG_GET) == 0)
			return 0;
		snmpdev_finish(d);
		return 1;
	}
	/* Then the walks, every running column together. */
	for (i = 0; i < d->n_cols && d->n_req < d->maxvb; i++) {
		struct snmpdev_col *c = &d->cols[i];

		if (c->needed && c->walk && c->f.end == SNMPFETCH_RUNNING)
			d->req[d->n_req++] = &c->f;
	}
	if (d->n_req > 0) {
		d->req_walk = 1;
		if (snmpdev_send(d, d->sess,
		        v1 || snmpdev_nobulk(d) ? SNMP_MSG_GETNEXT
		                                : SNMP_MSG_GETBULK) == 0)
			return 0;
	}
	snmpdev_finish(d);
	return 1;
}

/* Called after net-snmp returned (read or timeout). */
static void
snmpdev_after_event(struct snmpdev *d)
{
	if (d->phase != SNMPDEV_POLLING || !d->ev.done)
		return;
	snmpdev_absorb_event(d);
	if (snmpdev_step(d) == 0)
		snmpdev_rearm(d);
}

/* One descriptor set for every call into net-snmp, grown to the largest
 * socket and never cleared whole: each call sets the one bit it needs and
 * clears it afterwards (a set sized for thousands of sockets would
 * otherwise be allocated and zeroed per event). */
static netsnmp_large_fd_set snmpbot_fds;
static int snmpbot_fds_size;

static netsnmp_large_fd_set *
snmpbot_fdset(int fd)
{
	int size = (fd / 1024 + 1) * 1024;
	size_t bytes;

	if (size <= snmpbot_fds_size)
		return &snmpbot_fds;
	if (snmpbot_fds_size == 0)
		netsnmp_large_fd_set_init(&snmpbot_fds, size);
	else
		netsnmp_large_fd_set_resize(&snmpbot_fds, size);
	snmpbot_fds_size = size;
	/* Neither clears the bits (init only sets the size and pointer). */
	bytes = sizeof(fd_set) +
	    (size > FD_SETSIZE ? (size_t)(size - FD_SETSIZE) / 8 : 0);
	memset(snmpbot_fds.lfs_setptr, 0, bytes);
	return &snmpbot_fds;
}

static void
snmpdev_rearm_one(
    struct snmpdev *d, void *sess, int fd, struct timeval *best, int *have)
{
	netsnmp_large_fd_set *fds;
	struct timeval tv = {0, 0};
	int numfds = 0, block = 1;

	(void)d;
	if (sess == NULL)
		return;
	fds = snmpbot_fdset(fd);
	snmp_sess_select_info2(sess, &numfds, fds, &tv, &block);
	NETSNMP_LARGE_FD_CLR(fd, fds);
	if (block)
		return;
	if (!*have || tv.tv_sec < best->tv_sec ||
	    (tv.tv_sec == best->tv_sec && tv.tv_usec < best->tv_usec))
		*best = tv;
	*have = 1;
}

/* Arms d's timer at the sessions' next retransmission or timeout. */
static void
snmpdev_rearm(struct snmpdev *d)
{
	struct timeval best = {0, 0};
	int have = 0;
	int64_t ms;

	snmpdev_rearm_one(d, d->sess, d->fd, &best, &have);
	if (!have) {
		loop_timer_stop(sb.loop, &d->tmo);
		return;
	}
	ms = (int64_t)best.tv_sec * 1000 + (best.tv_usec + 999) / 1000;
	loop_timer_start(sb.loop, &d->tmo, ms);
}

static void
snmpdev_read_sess(void *sess, int fd)
{
	netsnmp_large_fd_set *fds = snmpbot_fdset(fd);

	NETSNMP_LARGE_FD_SET(fd, fds);
	snmp_sess_read2(sess, fds);
	NETSNMP_LARGE_FD_CLR(fd, fds);
}

static void
snmpdev_on_read(int fd, int revents, void *arg)
{
	struct snmpdev *d = arg;

	(void)revents;
	if (d->sess != NULL && fd == d->fd)
		snmpdev_read_sess(d->sess, fd);
	else
		return;
	/* finish may end the run, and the run's end may free d: rearm
	 * first, act after. */
	snmpdev_rearm(d);
	if (d->ev.done)
		snmpdev_after_event(d);
}

static void
snmpdev_on_timer(struct timer *t, void *arg)
{
	struct snmpdev *d = arg;

	(void)t;
	if (d->sess != NULL)
		snmp_sess_timeout(d->sess);
	snmpdev_rearm(d);
	if (d->ev.done)
		snmpdev_after_event(d);
}

static void
snmpdev_on_deadline(struct timer *t, void *arg)
{
	struct snmpdev *d = arg;
	char buf[64];

	(void)t;
	if (d->run == NULL)
		return;
	snprintf(buf, sizeof(buf), "%lld ms", (long long)sset.deadline_ms);
	d->reqid = 0; /* a late answer is ignored */
	snmpdev_fail(d, "poll deadline of %s passed", buf);
	snmpdev_finish(d);
}

/* ---- values ---- */

static uint64_t
snmpbot_hash(const char *s)
{
	uint64_t h = 1469598103934665603u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

static void
snmpbot_seen_reset(void)
{
	size_t i;

	for (i = 0; i < sb.cap_seen; i++) {
		free(sb.seen[i]);
		sb.seen[i] = NULL;
	}
	sb.n_seen = 0;
}

/* 1 when path was already emitted in this run, else records it. */
static int
snmpbot_seen(const char *path)
{
	size_t i, mask;

	if (sb.n_seen * 2 >= sb.cap_seen) {
		char **old = sb.seen;
		size_t oldcap = sb.cap_seen;

		sb.cap_seen = oldcap ? oldcap * 2 : 256;
		sb.seen = xcalloc(sb.cap_seen, sizeof(*sb.seen));
		for (i = 0; i < oldcap; i++) {
			if (old[i] == NULL)
				continue;
			mask = sb.cap_seen - 1;
			size_t k = snmpbot_hash(old[i]) & mask;

			while (sb.seen[k] != NULL)
				k = (k + 1) & mask;
			sb.seen[k] = old[i];
		}
		free(old);
	}
	mask = sb.cap_seen - 1;
	i = snmpbot_hash(path) & mask;
	while (sb.seen[i] != NULL) {
		if (strcmp(sb.seen[i], path) == 0)
			return 1;
		i = (i + 1) & mask;
	}
	sb.seen[i] = xstrdup(path);
	sb.n_seen++;
	return 0;
}

struct snmpbot_emit {
	struct run *run;
	struct snmpdev *d;
	int64_t sensor_id;
	size_t dups;
	char first_dup[PATH_MAX_LEN + 1];
};

static void
snmpbot_emit(void *arg, const char *path, double v, double t_s)
{
	struct snmpbot_emit *e = arg;

	if (snmpbot_seen(path)) {
		if (e->dups++ == 0)
			snprintf(
			    e->first_dup, sizeof(e->first_dup), "%s", path);
		return;
	}
	run_emit_at(e->run, path, v, t_s);
}

static void
snmpdev_log_col_ends(struct snmpdev *d)
{
	char oidbuf[SNMPCOL_MAX_OID * 11];
	size_t i;

	for (i = 0; i < d->n_cols; i++) {
		struct snmpdev_col *c = &d->cols[i];

		if (!c->needed)
			continue;
		snmpbot_oid_text(c->ids, c->len, oidbuf, sizeof(oidbuf));
		if (c->f.end == SNMPFETCH_ROW_CAP)
			log_warnx_limited(&d->lim_walk, SNMPBOT_WARN_MS,
			    "job %lld (%s): walk of %s stopped at the row cap "
			    "(%zu rows)",
			    (long long)d->job_id, snmpdev_host(d), oidbuf,
			    sset.row_cap);
		else if (c->f.end == SNMPFETCH_NOT_INCREASING)
			log_warnx_limited(&d->lim_walk, SNMPBOT_WARN_MS,
			    "job %lld (%s): walk of %s stopped: the agent "
			    "answered an OID that does not increase (after "
			    "%zu rows)",
			    (long long)d->job_id, snmpdev_host(d), oidbuf,
			    c->f.rows);
		if (c->f.bad_values > 0)
			log_warnx_limited(&d->lim_vals, SNMPBOT_WARN_MS,
			    "job %lld (%s): %s: %d value(s) missing "
			    "(noSuchObject, noSuchInstance, noSuchName or a "
			    "type without a value)",
			    (long long)d->job_id, snmpdev_host(d), oidbuf,
			    c->f.bad_values);
	}
}

/* Builds and emits the values of every due sensor whose columns all
 * arrived. */
static void
snmpdev_emit(struct snmpdev *d, struct run *run, int reset)
{
	struct job *job = run_job(run);
	size_t s;
	int j;

	snmpbot_seen_reset();
	for (s = 0; s < d->n_sensors; s++) {
		struct snmpdev_sensor *ds = &d->sensors[s];
		const struct snmpcol *cur[SNMPCFG_MAX_OIDS];
		const struct snmpcol *prev[SNMPCFG_MAX_OIDS];
		struct snmprows_sensor rs;
		struct snmprows_stats st;
		struct snmpbot_emit e;
		int ok = 1;

		if (ds->cfg.job_index >= job->n_sensors ||
		    !run_sensor_due(run, &job->sensors[ds->cfg.job_index]))
			continue;
		for (j = 0; j < ds->cfg.n_oids; j++) {
			struct snmpdev_col *c = &d->cols[ds->col[j]];

			if (c->f.end == SNMPFETCH_FAILED ||
			    c->f.end == SNMPFETCH_RUNNING)
				ok = 0;
			cur[j] = &c->cur;
			prev[j] = c->have_prev ? &c->prev : NULL;
		}
		if (!ok)
			continue;
		rs.n_oids = ds->cfg.n_oids;
		rs.walk = ds->cfg.walk;
		rs.expr = ds->cfg.expr;
		rs.path = ds->cfg.path;
		memset(&e, 0, sizeof(e));
		e.run = run;
		e.d = d;
		e.sensor_id = ds->cfg.id;
		snmprows_build(
		    &rs, job->id, cur, prev, reset, snmpbot_emit, &e, &st);
		log_debug("job %lld (%s): sensor %lld: %zu rows, %zu values, "
		          "%zu first samples",
		    (long long)d->job_id, snmpdev_host(d),
		    (long long)ds->cfg.id, st.rows, st.emitted,
		    st.first_sample);
		if (st.missing + st.not_numeric > 0) {
			char oidbuf[SNMPCOL_MAX_OID * 11];
			const struct snmpcfg_oid *o =
			    &ds->cfg
			         .oids[st.first_oid > 0 ? st.first_oid - 1 : 0];

			log_warnx_limited(&ds->lim, SNMPBOT_WARN_MS,
			    "job %lld (%s): sensor %lld: %zu of %zu rows "
			    "skipped: a needed value is missing (%zu) or not "
			    "a number (%zu), first at OID %s",
			    (long long)d->job_id, snmpdev_host(d),
			    (long long)ds->cfg.id, st.missing + st.not_numeric,
			    st.rows, st.missing, st.not_numeric,
			    snmpbot_oid_text(
			        o->ids, o->len, oidbuf, sizeof(oidbuf)));
		}
		if (st.bad_path > 0)
			log_warnx_limited(&ds->lim_path, SNMPBOT_WARN_MS,
			    "job %lld (%s): sensor %lld: %zu values dropped: "
			    "the backend would refuse the path, e.g. \"%s\"",
			    (long long)d->job_id, snmpdev_host(d),
			    (long long)ds->cfg.id, st.bad_path, st.first_path);
		if (e.dups > 0)
			log_warnx_limited(&ds->lim_path, SNMPBOT_WARN_MS,
			    "job %lld (%s): sensor %lld: %zu values dropped: "
			    "path already used in this batch, e.g. \"%s\"",
			    (long long)d->job_id, snmpdev_host(d),
			    (long long)ds->cfg.id, e.dups, e.first_dup);
	}
}

static void snmpbot_kick(struct timer *t, void *arg);

static void
snmpbot_on_discovered(const struct entsync_result *res, void *arg)
{
	long long job_id = (long long)(intptr_t)arg;

	if (res->ok && !res->refused)
		log_info("job %lld: interface discovery: %zu created, %zu "
		         "updated, %zu deleted, %zu failed",
		    job_id, res->created, res->updated, res->deleted,
		    res->failed);
}

/* An interface name as JSON text: up to the first NUL, invalid UTF-8
 * bytes as '?'. */
static char *
snmpbot_if_name(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i = 0, o = 0;

	while (i < len && s[i] != '\0') {
		unsigned char c = (unsigned char)s[i];
		size_t need = c < 0x80       ? 0
		    : c >= 0xc2 && c <= 0xdf ? 1
		    : c >= 0xe0 && c <= 0xef ? 2
		    : c >= 0xf0 && c <= 0xf4 ? 3
		                             : 4;
		size_t k;

		for (k = 1; need < 4 && k <= need; k++)
			if (i + k >= len ||
			    ((unsigned char)s[i + k] & 0xc0) != 0x80)
				break;
		if (need == 4 || k <= need) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, s + i, need + 1);
		o += need + 1;
		i += need + 1;
	}
	out[o] = '\0';
	return out;
}

/* Interface child entities from this poll's ifDescr and ifSpeed. */
static void
snmpdev_discover(struct snmpdev *d)
{
	const struct snmpdev_col *dc = &d->cols[d->disc_col[0]];
	const struct snmpdev_col *sc = &d->cols[d->disc_col[1]];
	struct entsync_item *items;
	struct entsync_spec spec;
	char **names, buf[32];
	size_t i, n = 0;

	if (dc->f.end == SNMPFETCH_FAILED || dc->f.end == SNMPFETCH_RUNNING ||
	    sc->f.end == SNMPFETCH_FAILED || sc->f.end == SNMPFETCH_RUNNING)
		return;
	items = xcalloc(dc->cur.n + 1, sizeof(*items));
	names = xcalloc(dc->cur.n + 1, sizeof(*names));
	for (i = 0; i < dc->cur.n; i++) {
		const struct snmpcol_ent *e = &dc->cur.ents[i], *sp;
		const uint32_t *idx = snmpcol_idx(&dc->cur, e);
		struct json_object *det;

		if (e->idx_len != 1 || e->type != SNMPCOL_STRING)
			continue;
		det = json_object_new_object();
		snprintf(buf, sizeof(buf), "%u", (unsigned)idx[0]);
		json_object_object_add(
		    det, "snmp_index", json_object_new_string(buf));
		sp = snmpcol_find(&sc->cur, idx, 1);
		if (sp != NULL && sp->type == SNMPCOL_UINT) {
			snprintf(buf, sizeof(buf), "%llu",
			    (unsigned long long)sp->u);
			json_object_object_add(
			    det, "speed_bps", json_object_new_string(buf));
		}
		names[n] =
		    snmpbot_if_name(snmpcol_str(&dc->cur, e), e->str_len);
		items[n].name = names[n];
		items[n].details = det;
		n++;
	}
	spec.account_id = d->account_id;
	spec.parent = d->job_id;
	spec.entity_type = "interface";
	spec.key_member = "snmp_index";
	spec.mode = ENTSYNC_MIRROR;
	if (entsync_run(sb.es, &spec, items, n, snmpbot_on_discovered,
	        (void *)(intptr_t)d->job_id) != 0)
		log_debug("job %lld (%s): interface discovery not started",
		    (long long)d->job_id, snmpdev_host(d));
	for (i = 0; i < n; i++) {
		free(names[i]);
		json_object_put(items[i].details);
	}
	free(names);
	free(items);
}

/* Ends the poll in progress: values of what arrived, then run_done.  The
 * run's end may free d (its job was replaced meanwhile), so it is the
 * very last thing done with d. */
static void
snmpdev_finish(struct snmpdev *d)
{
	struct run *run = d->run;
	int reset = 0;
	size_t i;

	if (run == NULL)
		return;
	loop_timer_stop(sb.loop, &d->deadline);
	d->reqid = 0;
	d->phase = SNMPDEV_IDLE;
	if (d->fail[0] != '\0')
		log_warnx_limited(&d->lim, SNMPBOT_WARN_MS, "job %lld (%s): %s",
		    (long long)d->job_id, snmpdev_host(d), d->fail);
	/* An SNMPv3 session keeps the engine ID (and its boots and time) it
	 * learnt: an agent that restarted with a new engine ID never answers
	 * it again.  After a failed v3 poll the next one opens a fresh
	 * session, which discovers the engine again. */
	if (d->fail[0] != '\0' && d->cred.version == SNMPCFG_V3)
		snmpdev_close(d);
	snmpdev_log_col_ends(d);
	if (d->up_f.end == SNMPFETCH_DONE && d->up_cur.n == 1 &&
	    d->up_cur.ents[0].type == SNMPCOL_UINT) {
		uint64_t up = d->up_cur.ents[0].u;

		if (d->have_up_prev && up < d->up_prev) {
			reset = 1;
			log_info("job %lld (%s): sysUpTime went back: the "
			         "agent restarted, counters start over",
			    (long long)d->job_id, snmpdev_host(d));
			/* Samples of columns this poll does not replace
			 * are from before the restart: their next sample
			 * is a first one (else a sensor not due now would
			 * compare against them later: a bogus rate). */
			for (i = 0; i < d->n_cols; i++)
				if (!d->cols[i].needed ||
				    d->cols[i].f.end == SNMPFETCH_FAILED ||
				    d->cols[i].f.end == SNMPFETCH_RUNNING)
					d->cols[i].have_prev = 0;
		}
		d->up_prev = up;
		d->have_up_prev = 1;
	}
	snmpdev_emit(d, run, reset);
	if (d->disc_now)
		snmpdev_discover(d);
	d->disc_now = 0;
	for (i = 0; i < d->n_cols; i++) {
		struct snmpdev_col *c = &d->cols[i];

		if (!c->needed || c->f.end == SNMPFETCH_FAILED ||
		    c->f.end == SNMPFETCH_RUNNING)
			continue;
		snmpcol_swap(&c->cur, &c->prev);
		c->have_prev = 1;
		c->needed = 0;
	}
	d->run = NULL;
	if (d->act_prev != NULL)
		d->act_prev->act_next = d->act_next;
	else
		sb.active = d->act_next;
	if (d->act_next != NULL)
		d->act_next->act_prev = d->act_prev;
	d->act_prev = d->act_next = NULL;
	sb.inflight--;
	if (sb.n_queue > 0 && !timer_armed(&sb.kick))
		loop_timer_start(sb.loop, &sb.kick, 0);
	run_done(run);
}

/* Starts d's poll (d->run set, a slot taken). */
static void
snmpdev_start(struct snmpdev *d)
{
	struct run *run = d->run;
	struct job *job = run_job(run);
	char err[BOT_ERRLEN];
	size_t s, i;
	int j;

	d->act_prev = NULL;
	d->act_next = sb.active;
	if (sb.active != NULL)
		sb.active->act_prev = d;
	sb.active = d;
	d->fail[0] = '\0';
	d->maxrep = sset.max_repetitions;
	d->maxvb = (size_t)sset.max_varbinds;
	memset(&d->ev, 0, sizeof(d->ev));
	for (i = 0; i < d->n_cols; i++)
		d->cols[i].needed = 0;
	for (s = 0; s < d->n_sensors; s++) {
		struct snmpdev_sensor *ds = &d->sensors[s];

		if (ds->cfg.job_index >= job->n_sensors ||
		    !run_sensor_due(run, &job->sensors[ds->cfg.job_index]))
			continue;
		for (j = 0; j < ds->cfg.n_oids; j++)
			d->cols[ds->col[j]].needed = 1;
	}
	d->disc_now = 0;
	if (sb.es != NULL && sset.discovery_ms > 0 &&
	    timer_now_ms() >= d->next_disc_ms &&
	    !entsync_refused(sb.es, d->account_id)) {
		d->disc_now = 1;
		d->next_disc_ms = timer_now_ms() + sset.discovery_ms;
		d->cols[d->disc_col[0]].needed = 1;
		d->cols[d->disc_col[1]].needed = 1;
	}
	for (i = 0; i < d->n_cols; i++) {
		struct snmpdev_col *c = &d->cols[i];

		if (c->needed)
			snmpfetch_start(
			    &c->f, c->ids, c->len, c->walk, &c->cur);
		else
			c->f.end = SNMPFETCH_DONE;
	}
	snmpfetch_start(&d->up_f, snmpbot_uptime_oid,
	    sizeof(snmpbot_uptime_oid) / sizeof(snmpbot_uptime_oid[0]), 0,
	    &d->up_cur);
	loop_timer_start(sb.loop, &d->deadline, sset.deadline_ms);

	if (target_state(&d->target) != TARGET_READY) {
		snmpdev_fail(d, "%s",
		    d->target.why != NULL ? d->target.why : "no address");
		snmpdev_finish(d);
		return;
	}
	/* A name that moved since the session was opened: reopen it at the
	 * new address (the library keeps its own copy of the peer name). */
	if (d->sess != NULL) {
		const netsnmp_session *cur = snmp_sess_session(d->sess);
		char peer[128];

		snmpdev_peer(d, peer, sizeof(peer));
		if (cur == NULL || cur->peername == NULL ||
		    strcmp(cur->peername, peer) != 0)
			snmpdev_close(d);
	}
	if (d->sess == NULL && snmpdev_open(d, err, sizeof(err)) != 0) {
		snmpdev_fail(d, "%s", err);
		snmpdev_finish(d);
		return;
	}
	d->phase = SNMPDEV_POLLING;
	if (snmpdev_step(d) == 0)
		snmpdev_rearm(d);
}

static void
snmpbot_kick(struct timer *t, void *arg)
{
	size_t i = 0;

	(void)t;
	(void)arg;
	while (i < sb.n_queue && sb.inflight < sset.max_inflight) {
		struct snmpdev *d = sb.queue[i];

		/* A name's first lookup: its run waits for the answer. */
		if (target_state(&d->target) == TARGET_WAITING) {
			i++;
			continue;
		}
		memmove(&sb.queue[i], &sb.queue[i + 1],
		    (sb.n_queue - i - 1) * sizeof(*sb.queue));
		sb.n_queue--;
		sb.inflight++;
		snmpdev_start(d);
	}
}

/* ---- names, jobs, runtime hooks ---- */

/* A name got an answer (common/target.c applied it): runs that waited
 * for the first one may start; a new address takes effect at the next
 * poll (snmpdev_start reopens the session). */
static void
snmpbot_on_target(struct target *t, int first, void *arg)
{
	(void)t;
	(void)arg;
	if (first && sb.n_queue > 0 && !timer_armed(&sb.kick))
		loop_timer_start(sb.loop, &sb.kick, 0);
}

/* Starts a lookup of d's name (common/target.c: nothing for a numeric
 * target or while one is under way). */
static void
snmpdev_resolve(struct snmpdev *d)
{
	if (sb.targets != NULL)
		target_resolve(&d->target, sb.targets);
}

static void
snmpdev_free(void *priv)
{
	struct snmpdev *d = priv;
	size_t i;

	if (d == NULL)
		return;
	target_release(&d->target);
	if (sb.loop != NULL) {
		snmpdev_close(d);
		loop_timer_stop(sb.loop, &d->deadline);
	}
	for (i = 0; i < d->n_sensors; i++)
		snmpcfg_sensor_release(&d->sensors[i].cfg);
	for (i = 0; i < d->n_cols; i++) {
		snmpcol_release(&d->cols[i].cur);
		snmpcol_release(&d->cols[i].prev);
	}
	snmpcol_release(&d->up_cur);
	free(d->sensors);
	free(d->cols);
	explicit_bzero(&d->cred, sizeof(d->cred));
	free(d);
}

/* The device column for an OID, added when new. */
static size_t
snmpdev_col_for(struct snmpdev *d, const struct snmpcfg_oid *o)
{
	size_t i;

	for (i = 0; i < d->n_cols; i++)
		if (d->cols[i].walk == o->walk &&
		    snmpcol_oid_cmp(
		        d->cols[i].ids, d->cols[i].len, o->ids, o->len) == 0)
			return i;
	d->cols[i].ids = o->ids;
	d->cols[i].len = o->len;
	d->cols[i].walk = o->walk;
	snmpcol_init(&d->cols[i].cur);
	snmpcol_init(&d->cols[i].prev);
	d->n_cols++;
	return i;
}

static int
snmpbot_job_prepare(struct job *job, char *err, size_t errlen)
{
	struct snmpdev *d;
	char e2[BOT_ERRLEN], **bad;
	size_t i, max_cols = 0, n_bad = 0;
	int j;

	d = xcalloc(1, sizeof(*d));
	d->fd = -1;
	d->job_id = job->id;
	timer_init(&d->tmo, snmpdev_on_timer, d);
	timer_init(&d->deadline, snmpdev_on_deadline, d);
	if (snmpcfg_cred_parse(job->credential, &d->cred, err, errlen) != 0 ||
	    snmpcfg_target_parse(
	        job->details, job->id, &d->target, err, errlen) != 0) {
		explicit_bzero(&d->cred, sizeof(d->cred));
		free(d);
		return -1;
	}
	d->sensors =
	    xcalloc(job->n_sensors ? job->n_sensors : 1, sizeof(*d->sensors));
	bad = xcalloc(job->n_sensors ? job->n_sensors : 1, sizeof(*bad));
	for (i = 0; i < job->n_sensors; i++) {
		struct snmpdev_sensor *ds = &d->sensors[d->n_sensors];

		if (snmpcfg_sensor_parse(job->sensors[i].details, &ds->cfg, e2,
		        sizeof(e2)) != 0) {
			bad[n_bad++] = xasprintf("sensor %lld: %s",
			    (long long)job->sensors[i].id, e2);
			continue;
		}
		ds->cfg.id = job->sensors[i].id;
		ds->cfg.job_index = i;
		max_cols += (size_t)ds->cfg.n_oids;
		d->n_sensors++;
	}
	/* A job that keeps some sensors is prepared once per change, so
	 * each bad one is said once; a job with none left is refused, and
	 * the runtime says that once (with the first reason). */
	for (i = 0; i < n_bad; i++) {
		if (d->n_sensors > 0)
			log_warnx("job %lld (%s): skipping %s",
			    (long long)job->id, d->target.text, bad[i]);
		else if (i == 0)
			snprintf(err, errlen, "no usable sensor: %s%s", bad[i],
			    n_bad > 1 ? " (and others)" : "");
		free(bad[i]);
	}
	free(bad);
	if (d->n_sensors == 0) {
		if (n_bad == 0)
			snprintf(err, errlen, "no sensors");
		goto fail;
	}
	d->cols = xcalloc(max_cols + 2, sizeof(*d->cols));
	for (i = 0; i < d->n_sensors; i++)
		for (j = 0; j < d->sensors[i].cfg.n_oids; j++)
			d->sensors[i].col[j] =
			    snmpdev_col_for(d, &d->sensors[i].cfg.oids[j]);
	d->disc_col[0] = snmpdev_col_for(d, &snmpbot_disc_oids[0]);
	d->disc_col[1] = snmpdev_col_for(d, &snmpbot_disc_oids[1]);
	d->account_id = job->account_id;
	snmpcol_init(&d->up_cur);
	/* A name is looked up now and again at every refresh; its first
	 * runs wait for the answer, and one that does not resolve keeps its
	 * job, each poll failing with the reason. */
	snmpdev_resolve(d);
	job->priv = d;
	job->priv_free = snmpdev_free;
	return 0;
fail:
	snmpdev_free(d);
	return -1;
}

static void
snmpbot_job_refresh(struct job *job)
{
	struct snmpdev *d = job->priv;

	if (d != NULL)
		snmpdev_resolve(d);
}

static void
snmpbot_job_run(struct run *run)
{
	struct snmpdev *d = run_job(run)->priv;

	d->run = run;
	d->phase = SNMPDEV_IDLE;
	if (target_state(&d->target) == TARGET_WAITING)
		snmpdev_resolve(d);
	if (sb.n_queue == sb.cap_queue) {
		sb.cap_queue = sb.cap_queue ? sb.cap_queue * 2 : 64;
		sb.queue =
		    xreallocarray(sb.queue, sb.cap_queue, sizeof(*sb.queue));
	}
	sb.queue[sb.n_queue++] = d;
	if (!timer_armed(&sb.kick))
		loop_timer_start(sb.loop, &sb.kick, 0);
}

static int
snmpbot_init(void)
{
	struct loop *l = bot_loop();
	const struct setting *t = snmpbot_settings;
	struct rlimit rl;

	sset.timeout_ms = settings_int(t, "SNMP_TIMEOUT_MS");
	sset.retries = (int)settings_int(t, "SNMP_RETRIES");
	sset.max_repetitions = (int)settings_int(t, "SNMP_MAX_REPETITIONS");
	sset.max_varbinds = (int)settings_int(t, "SNMP_MAX_VARBINDS");
	sset.row_cap = (size_t)settings_int(t, "SNMP_ROW_CAP");
	sset.max_inflight = (size_t)settings_int(t, "SNMP_MAX_INFLIGHT");
	sset.deadline_ms = settings_int(t, "SNMP_POLL_DEADLINE_MS");
	sset.discovery_ms = settings_int(t, "SNMP_DISCOVERY_INTERVAL") * 1000;
	sset.nobulk_ms = settings_int(t, "SNMP_GETBULK_RETRY") * 1000;

	/* One socket per device: take every descriptor we may. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("cannot raise the open-file limit");
	}

	/* Numeric OIDs only: no MIB files, no configuration or persistent
	 * state files, no logging of its own on stderr. */
	setenv("MIBS", "", 1);
	setenv("MIBDIRS", "/nonexistent", 1);
	netsnmp_ds_set_boolean(
	    NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(
	    NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(
	    NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(
	    NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(
	    NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_QUICK_PRINT, 1);
	snmp_disable_log();
	init_snmp("snmpbot");
	sb.init_done = 1;
	sb.loop = l;
	timer_init(&sb.kick, snmpbot_kick, NULL);
	sb.targets = target_resolver_new(
	    l, SNMPBOT_RESOLVER_THREADS, "polling", snmpbot_on_target, NULL);
	if (sb.targets == NULL)
		return -1;
	/* Writing entities needs the backend (not --jobs files). */
	if (bot_backend() != NULL && sset.discovery_ms > 0)
		sb.es = entsync_new(bot_backend(), "interface discovery");
	log_info("SNMP ready: timeout %lld ms, %d retries, GETBULK "
	         "max-repetitions %d, %d varbinds per request, row cap %zu, "
	         "%zu devices in flight, poll deadline %lld ms, interface "
	         "discovery %s",
	    (long long)sset.timeout_ms, sset.retries, sset.max_repetitions,
	    sset.max_varbinds, sset.row_cap, sset.max_inflight,
	    (long long)sset.deadline_ms,
	    sb.es != NULL ? "on" : "off (no backend, or interval 0)");
	return 0;
}

static void
snmpbot_shutdown(void)
{
	struct snmpdev **q = sb.queue;
	size_t n = sb.n_queue, i;

	/* Runs still waiting for a slot: nothing was fetched. */
	sb.queue = NULL;
	sb.n_queue = sb.cap_queue = 0;
	for (i = 0; i < n; i++) {
		struct run *run = q[i]->run;

		q[i]->run = NULL;
		q[i]->phase = SNMPDEV_IDLE;
		if (run != NULL)
			run_done(run);
	}
	free(q);
	/* Polls in progress end with what arrived. */
	while (sb.active != NULL) {
		struct snmpdev *d = sb.active;

		d->reqid = 0;
		snmpdev_fail(d, "stopped by shutdown");
		snmpdev_finish(d);
	}
	if (sb.loop != NULL)
		loop_timer_stop(sb.loop, &sb.kick);
	target_resolver_free(sb.targets);
	sb.targets = NULL;
	entsync_free(sb.es);
	sb.es = NULL;
	if (snmpbot_fds_size > 0)
		netsnmp_large_fd_set_cleanup(&snmpbot_fds);
	snmpbot_fds_size = 0;
	snmpbot_seen_reset();
	free(sb.seen);
	sb.seen = NULL;
	sb.cap_seen = 0;
	slug_release();
}

const struct bot_ops snmpbot_ops = {
    .name = "snmpbot",
    .protocol = "snmp",
    .summary = "polls the devices of the Grafolean \"snmp\" protocol "
               "(SNMP v1, v2c and v3, asynchronously with net-snmp)",
    .settings = snmpbot_settings,
    .init = snmpbot_init,
    .job_prepare = snmpbot_job_prepare,
    .job_unchanged = snmpbot_job_refresh,
    .job_run = snmpbot_job_run,
    .shutdown = snmpbot_shutdown,
};
