/*
 * snmpbot: polls the devices of the Grafolean "snmp" protocol with
 * net-snmp's asynchronous API and sends the values.  Everything lives in
 * snmpbot.c; main only hands its hooks to the shared runtime.
 */
#include "bot.h"
#include "snmpbot.h"

int
main(int argc, char **argv)
{
	return bot_main(argc, argv, &snmpbot_ops);
}
