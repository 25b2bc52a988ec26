/*
 * The API bot's hooks into the shared runtime (common/bot.h).
 */
#ifndef BOT_APIBOT_H
#define BOT_APIBOT_H

#include "bot.h"

/* name "apibot", protocol "api"; main() hands it to bot_main. */
extern const struct bot_ops apibot_ops;

#endif
