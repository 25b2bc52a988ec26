"""Runs softflowd over a traffic capture and collects the export datagrams
it sends, with their arrival times.  softflowd 1.1.0 reading a file (-r)
blocks in accept() on its control socket before each read, so we poke the
socket with softflowctl until it exits."""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest


def require_tools(*names):
    for n in names:
        if shutil.which(n) is None:
            raise unittest.SkipTest("%s is not installed" % n)


class Receiver(object):
    """A UDP socket on loopback that records (time, payload) and forwards
    each datagram to the given (host, port) targets."""

    def __init__(self, forward=()):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.forward = list(forward)
        self.out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.got = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            self.got.append((time.time(), data))
            for target in self.forward:
                self.out.sendto(data, target)

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()
        self.out.close()


def softflowd(traffic_pcap, port, version, extra=()):
    """Exports the flows of traffic_pcap to 127.0.0.1:port; returns when
    softflowd has exited."""
    d = tempfile.mkdtemp(prefix="nf-sfd-")
    ctl = os.path.join(d, "ctl")
    cmd = ["softflowd", "-d", "-r", traffic_pcap, "-n",
           "127.0.0.1:%d" % port, "-v", str(version),
           "-p", os.path.join(d, "pid"), "-c", ctl] + list(extra)
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    try:
        while p.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError("softflowd did not finish")
            if os.path.exists(ctl):
                subprocess.run(["softflowctl", "-c", ctl, "statistics"],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=5)
            time.sleep(0.05)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        shutil.rmtree(d, ignore_errors=True)


def export(traffic_pcap, version, extra=(), settle=0.3):
    """softflowd's export datagrams of traffic_pcap as (time, payload)."""
    r = Receiver()
    try:
        softflowd(traffic_pcap, r.port, version, extra)
        time.sleep(settle)  # the last datagrams are in flight on loopback
    finally:
        r.close()
    return r.got
