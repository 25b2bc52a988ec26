/*
 * netflowbot: a one-process NetFlow v5 / v9 / IPFIX collector that
 * aggregates flows per Grafolean account into windows and sends the
 * values of protocol section 5.  The hooks for the shared runtime.
 */
#ifndef NETFLOWBOT_NETFLOWBOT_H
#define NETFLOWBOT_NETFLOWBOT_H

#include "bot.h"

extern const struct bot_ops netflowbot_ops;

#endif
