/*
 * The SNMP bot's hooks into the shared runtime (common/bot.h).
 */
#ifndef BOT_SNMPBOT_H
#define BOT_SNMPBOT_H

#include "bot.h"

/* name "snmpbot", protocol "snmp"; main() hands it to bot_main. */
extern const struct bot_ops snmpbot_ops;

#endif
