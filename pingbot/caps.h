/*
 * CAP_NET_RAW for pingbot's raw ICMP sockets.  The installed file carries
 * the capability as permitted only (`setcap cap_net_raw=p`), so that the
 * kernel still starts the program where the capability cannot be granted
 * (a container without NET_RAW) and the bot itself can say what is
 * missing; at start it raises the capability into its effective set.
 */
#ifndef PINGBOT_CAPS_H
#define PINGBOT_CAPS_H

/* Makes CAP_NET_RAW effective when it is permitted (a no-op when it is
 * already effective, e.g. as root or given as an ambient capability).
 * Then checks that a raw ICMP socket opens; when it does not for lack of
 * privilege, logs one FATAL line naming the capability and the ways to
 * grant it (setcap, Docker cap_add, systemd AmbientCapabilities) and
 * exits 1.  Returns 0 when raw ICMP sockets can be opened. */
int caps_need_net_raw(void);

/* Returns 1 when CAP_NET_RAW is in this process's effective set, 0 when
 * not, -1 when libcap cannot tell. */
int caps_have_net_raw(void);

#endif
