"""Builds the captures the NetFlow tests use, with the Python standard
library only: a traffic capture (Ethernet frames of TCP, UDP and ICMP over
IPv4 and IPv6 between a few hosts) for softflowd to turn into exports, and
export captures (raw IP/UDP packets whose payloads are export datagrams)
for `netflowbot --pcap`."""

import random
import socket
import struct

DLT_EN10MB = 1
DLT_RAW = 101


def pcap_header(dlt):
    return struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, dlt)


def pcap_record(ts, frame):
    sec = int(ts)
    usec = int(round((ts - sec) * 1e6))
    if usec >= 1000000:
        sec, usec = sec + 1, usec - 1000000
    return struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame


def ipv4(src, dst, proto, payload, ttl=64):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0,
                      ttl, proto, 0, socket.inet_aton(src),
                      socket.inet_aton(dst))
    csum = 0
    for i in range(0, 20, 2):
        csum += (hdr[i] << 8) | hdr[i + 1]
    while csum >> 16:
        csum = (csum & 0xffff) + (csum >> 16)
    hdr = hdr[:10] + struct.pack("!H", (~csum) & 0xffff) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport, dport, payload, flags=0x18):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 0x50, flags, 65535,
                       0, 0) + payload


def icmp(payload):
    return struct.pack("!BBHHH", 8, 0, 0, 1, 1) + payload


def ether(ip_packet, v6=False):
    return (b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" +
            struct.pack("!H", 0x86dd if v6 else 0x0800) + ip_packet)


def traffic(t0, seconds=170, seed=7):
    """A deterministic list of (ts, frame): 24 client hosts, skewed sizes,
    TCP to 443/80/22, UDP to 53/123, ICMP, and IPv6 TCP."""
    rnd = random.Random(seed)
    out = []
    servers = ["192.0.2.%d" % i for i in range(1, 6)]
    clients = ["10.0.0.%d" % i for i in range(1, 25)]
    t = float(t0)
    step = seconds / 3000.0
    for i in range(3000):
        t += step
        c = rnd.randrange(len(clients))
        # client i sends about i times as much: a clear top list
        size = 40 + rnd.randrange(20 * (c + 1))
        src = clients[c]
        dst = servers[c % len(servers)]
        kind = c % 6
        body = b"x" * size
        conn = rnd.randrange(4)  # a few connections per client
        if kind in (0, 1, 2):
            port = (443, 80, 22)[kind]
            pkt = ipv4(src, dst, 6, tcp(10000 + 10 * c + conn, port, body))
        elif kind == 3:
            pkt = ipv4(src, dst, 17, udp(20000 + 10 * c + conn, 53, body))
        elif kind == 4:
            pkt = ipv4(src, dst, 1, icmp(body))
        else:
            pkt = ipv6("2001:db8::%x" % (c + 1), "2001:db8:1::1", 6,
                       tcp(30000 + 10 * c + conn, 8443, body))
            out.append((t, ether(pkt, v6=True)))
            continue
        out.append((t, ether(pkt)))
    return out


def write_pcap(path, records, dlt=DLT_EN10MB):
    with open(path, "wb") as f:
        f.write(pcap_header(dlt))
        for ts, frame in records:
            f.write(pcap_record(ts, frame))


def export_records(datagrams, exporter="127.0.0.1", dport=2055):
    """(ts, payload) pairs as raw IPv4/UDP (or IPv6) packets from
    exporter."""
    out = []
    for ts, payload in datagrams:
        if ":" in exporter:
            pkt = ipv6(exporter, "::1", 17, udp(40000, dport, payload))
        else:
            pkt = ipv4(exporter, "127.0.0.1", 17,
                       udp(40000, dport, payload))
        out.append((ts, pkt))
    return out


def ip_checksum(hdr):
    csum = 0
    for i in range(0, len(hdr), 2):
        csum += (hdr[i] << 8) | hdr[i + 1]
    while csum >> 16:
        csum = (csum & 0xffff) + (csum >> 16)
    return (~csum) & 0xffff


def fragment(records, mtu):
    """(ts, raw IPv4/IPv6 packet) records with every packet longer than
    mtu split into IP fragments (IPv6: a fragment header after the fixed
    header), the fragments of every other packet in reverse order."""
    out = []
    for n, (ts, pkt) in enumerate(records):
        if len(pkt) <= mtu:
            out.append((ts, pkt))
            continue
        frags = []
        if pkt[0] >> 4 == 4:
            ihl = (pkt[0] & 15) * 4
            body, step = pkt[ihl:], (mtu - ihl) // 8 * 8
            for off in range(0, len(body), step):
                part = body[off:off + step]
                more = 0x2000 if off + step < len(body) else 0
                h = bytearray(pkt[:ihl])
                struct.pack_into("!HHH", h, 2, ihl + len(part),
                                 (1000 + n) & 0xffff, more | off // 8)
                struct.pack_into("!H", h, 10, 0)
                struct.pack_into("!H", h, 10, ip_checksum(bytes(h)))
                frags.append(bytes(h) + part)
        else:
            nh, body = pkt[6], pkt[40:]
            step = (mtu - 48) // 8 * 8
            for off in range(0, len(body), step):
                part = body[off:off + step]
                more = 1 if off + step < len(body) else 0
                h = bytearray(pkt[:40])
                struct.pack_into("!H", h, 4, 8 + len(part))
                h[6] = 44
                frags.append(bytes(h) + struct.pack(
                    "!BBHI", nh, 0, off | more, 70000 + n) + part)
        if n % 2:
            frags.reverse()
        out.extend((ts, f) for f in frags)
    return out


def write_export_pcap(path, datagrams, exporter="127.0.0.1"):
    write_pcap(path, export_records(datagrams, exporter), DLT_RAW)
