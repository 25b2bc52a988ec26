/*
 * apibot: polls HTTP JSON APIs for the Grafolean "api" protocol and
 * sends the numbers its jq filters pick out.  Everything lives in
 * apibot.c; main only hands its hooks to the shared runtime.
 */
#include "apibot.h"
#include "bot.h"

int
main(int argc, char **argv)
{
	return bot_main(argc, argv, &apibot_ops);
}
