/*
 * The IANA "Assigned Internet Protocol Numbers" keywords, 0-145.
 */
#include "nfproto.h"

#include <stdio.h>

#include "path.h"

static const char *const nfproto_iana[] = {"HOPOPT", "ICMP", "IGMP", "GGP",
    "IPv4", "ST", "TCP", "CBT", "EGP", "IGP", "BBN-RCC-MON", "NVP-II", "PUP",
    "ARGUS", "EMCON", "XNET", "CHAOS", "UDP", "MUX", "DCN-MEAS", "HMP", "PRM",
    "XNS-IDP", "TRUNK-1", "TRUNK-2", "LEAF-1", "LEAF-2", "RDP", "IRTP",
    "ISO-TP4", "NETBLT", "MFE-NSP", "MERIT-INP", "DCCP", "3PC", "IDPR", "XTP",
    "DDP", "IDPR-CMTP", "TP++", "IL", "IPv6", "SDRP", "IPv6-Route", "IPv6-Frag",
    "IDRP", "RSVP", "GRE", "DSR", "BNA", "ESP", "AH", "I-NLSP", "SWIPE", "NARP",
    "MOBILE", "TLSP", "SKIP", "IPv6-ICMP", "IPv6-NoNxt", "IPv6-Opts", NULL,
    "CFTP", NULL, "SAT-EXPAK", "KRYPTOLAN", "RVD", "IPPC", NULL, "SAT-MON",
    "VISA", "IPCV", "CPNX", "CPHB", "WSN", "PVP", "BR-SAT-MON", "SUN-ND",
    "WB-MON", "WB-EXPAK", "ISO-IP", "VMTP", "SECURE-VMTP", "VINES", "TTP",
    "NSFNET-IGP", "DGP", "TCF", "EIGRP", "OSPFIGP", "Sprite-RPC", "LARP", "MTP",
    "AX.25", "IPIP", "MICP", "SCC-SP", "ETHERIP", "ENCAP", NULL, "GMTP", "IFMP",
    "PNNI", "PIM", "ARIS", "SCPS", "QNX", "A/N", "IPComp", "SNP", "Compaq-Peer",
    "IPX-in-IP", "VRRP", "PGM", NULL, "L2TP", "DDX", "IATP", "STP", "SRP",
    "UTI", "SMP", "SM", "PTP", "ISIS over IPv4", "FIRE", "CRTP", "CRUDP",
    "SSCOPMCE", "IPLT", "SPS", "PIPE", "SCTP", "FC", "RSVP-E2E-IGNORE",
    "Mobility Header", "UDPLite", "MPLS-in-IP", "manet", "HIP", "Shim6", "WESP",
    "ROHC", "Ethernet", "AGGFRAG", "NSH"};

const char *
nfproto_name(uint8_t p, char *out, size_t outlen)
{
	if (p < sizeof(nfproto_iana) / sizeof(nfproto_iana[0]) &&
	    nfproto_iana[p] != NULL &&
	    path_escape(nfproto_iana[p], out, outlen) == 0)
		return out;
	snprintf(out, outlen, "proto%u", (unsigned)p);
	return out;
}
