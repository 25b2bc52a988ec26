/*
 * pingbot: pings the devices of the Grafolean "ping" protocol and sends
 * the results.  Everything lives in pingbot.c; main only hands its hooks
 * to the shared runtime.
 */
#include "bot.h"
#include "pingbot.h"

int
main(int argc, char **argv)
{
	return bot_main(argc, argv, &pingbot_ops);
}
