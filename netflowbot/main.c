/*
 * netflowbot: collects NetFlow v5/v9/IPFIX exports and sends per-account
 * traffic aggregates to Grafolean.  Everything lives in netflowbot.c;
 * main only hands its hooks to the shared runtime.
 */
#include "bot.h"
#include "netflowbot.h"

int
main(int argc, char **argv)
{
	return bot_main(argc, argv, &netflowbot_ops);
}
