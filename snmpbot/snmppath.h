/*
 * Output paths of SNMP sensors: "if.in-octets.{$index}.{$1}" expanded per
 * row to "entity.<id>.snmp.if.in-octets.5.eth0".  {$index} is the row's
 * whole OID index (every sub-identifier, dot-separated); {$N} is the N-th
 * OID's value at that row, slugged as the official bot slugs it.
 */
#ifndef BOT_SNMPPATH_H
#define BOT_SNMPPATH_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct snmppath;

/* Compiles a template (borrowed) for sensors of n_oids OIDs.  A new
 * template owned by the caller, or NULL with err (an unknown placeholder,
 * {$N} beyond n_oids, an empty or over-long template). */
struct snmppath *snmppath_compile(
    const char *tmpl, int n_oids, char *err, size_t errlen) BOT_WUR;
void snmppath_free(struct snmppath *p);

/* 1 when the template uses {$n} (1-based). */
int snmppath_uses(const struct snmppath *p, int n);

/* Writes "entity.<entity_id>.snmp." and the expanded template to out.
 * vals[n-1] / lens[n-1] hold the text of {$n} for every n the template
 * uses (borrowed; others may be NULL).  Returns the length, or -1 when it
 * does not fit in outlen.  The caller checks the result with
 * path_valid. */
int snmppath_expand(const struct snmppath *p, int64_t entity_id,
    const uint32_t *idx, size_t idx_len, const char *const *vals,
    const size_t *lens, char *out, size_t outlen) BOT_WUR;

#endif
