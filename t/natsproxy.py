#!/usr/bin/env python3
"""natsproxy.py - test helper: a TCP relay from 127.0.0.1:LISTEN to
127.0.0.1:TARGET, so that a test can block the port a client uses (stop
the relay with SIGSTOP: its connections hang, as behind a firewall that
drops packets) without touching the machine's firewall.

    natsproxy.py LISTEN TARGET

Runs until killed; every connection is relayed by two threads.
"""
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    listen, target = int(sys.argv[1]), int(sys.argv[2])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen))
    srv.listen(16)
    while True:
        c, _ = srv.accept()
        try:
            u = socket.create_connection(("127.0.0.1", target))
        except OSError:
            c.close()
            continue
        for a, b in ((c, u), (u, c)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


main()
