#!/usr/bin/env python3
"""natsreq.py - test helper: one request over the plain NATS protocol, as
any NATS client would make it, written here independently of libnats.

    natsreq.py PORT SUBJECT [PAYLOAD]

Connects to 127.0.0.1:PORT, sends PAYLOAD (default empty) to SUBJECT with
a reply inbox, and prints the reply's payload (JetStream's API answers in
JSON: $JS.API.STREAM.MSG.GET.NAME, $JS.API.STREAM.MSG.DELETE.NAME,
$JS.API.STREAM.DELETE.NAME, ...).  Exit 1 when no reply came in 10 s.
"""
import socket
import sys


def main():
    port, subject = int(sys.argv[1]), sys.argv[2]
    payload = sys.argv[3].encode() if len(sys.argv) > 3 else b""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    f.readline()  # INFO
    inbox = "_INBOX.natsreq"
    s.sendall(b'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\n'
              + b"SUB " + inbox.encode() + b" 1\r\n"
              + b"PUB " + subject.encode() + b" " + inbox.encode()
              + b" " + str(len(payload)).encode() + b"\r\n" + payload + b"\r\n"
              + b"PING\r\n")
    while True:
        line = f.readline()
        if not line:
            sys.exit(1)
        words = line.split()
        if not words or words[0] in (b"PONG", b"+OK", b"INFO"):
            continue
        if words[0] == b"PING":
            s.sendall(b"PONG\r\n")
        elif words[0] == b"MSG":
            data = f.read(int(words[-1]) + 2)[:-2]
            sys.stdout.write(data.decode() + "\n")
            return
        elif words[0] == b"HMSG":
            body = f.read(int(words[-1]) + 2)[:-2]
            hlen = int(words[-2])
            sys.stdout.write(body[hlen:].decode() + "\n")
            return
        elif words[0] == b"-ERR":
            sys.stderr.write(line.decode())
            sys.exit(1)


main()
