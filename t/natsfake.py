#!/usr/bin/env python3
"""natsfake.py - test helper: answer requests on one subject as a
JetStream server would, with a fixed reply, for a while.

    natsfake.py PORT SUBJECT REPLYFILE SECONDS

Connects to 127.0.0.1:PORT, subscribes to SUBJECT and answers every
request on it with the contents of REPLYFILE until SECONDS have passed,
then exits.  It prints "ready" once the server has the subscription, and
at exit the number of requests it answered.  A test uses it to stand in
for a stream's member that sees no leader and answers from its own copy:
its reply races the real one, and it is nearer the client.
"""
import os
import signal
import socket
import sys

answered = 0


def done(*_):
    print(answered, flush=True)
    os._exit(0)


def main():
    global answered
    port, subject = int(sys.argv[1]), sys.argv[2]
    reply = open(sys.argv[3], "rb").read()
    signal.signal(signal.SIGALRM, done)
    signal.setitimer(signal.ITIMER_REAL, float(sys.argv[4]))
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    f.readline()  # INFO
    s.sendall(b'CONNECT {"verbose":false}\r\nSUB ' + subject.encode()
              + b" 1\r\nPING\r\n")
    while True:
        line = f.readline()
        if not line:
            break
        words = line.split()
        if not words:
            continue
        if words[0] == b"PONG":
            print("ready", flush=True)
        elif words[0] == b"PING":
            s.sendall(b"PONG\r\n")
        elif words[0] == b"MSG":
            f.read(int(words[-1]) + 2)
            if len(words) == 5:  # MSG subject sid reply size
                s.sendall(b"PUB " + words[3] + b" "
                          + str(len(reply)).encode() + b"\r\n"
                          + reply + b"\r\n")
                answered += 1
    done()


main()
