/*
 * The ping bot's hooks into the shared runtime (common/bot.h).
 */
#ifndef BOT_PINGBOT_H
#define BOT_PINGBOT_H

#include "bot.h"

/* name "pingbot", protocol "ping"; main() hands it to bot_main. */
extern const struct bot_ops pingbot_ops;

#endif
