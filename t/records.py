#!/usr/bin/env python3
"""records.py - test helper: make record streams in the -B frame format
and check -J and -Y output against them, with decoders written here
independently of lib/recfmt.c, json.c and yaml.c.

    records.py corpus              the fixed corpus (every byte value, absent
                                   and empty fields, awkward strings)
    records.py random SEED N       N random records of arbitrary bytes
    records.py lines FRAMES        offset, key and value of each frame, one
                                   line each, in Python's repr (for diffs)
    records.py text FRAMES DELIM [KEYDELIM] [FIRST [END]]
                                   the text format of the frames with offsets
                                   in [FIRST, END): [key KEYDELIM] value
                                   DELIM (DELIM and KEYDELIM in hex)
    records.py check-json FRAMES FILE
    records.py check-yaml FRAMES FILE
                                   FILE (logcat -J / -Y output) holds exactly
                                   the records of FRAMES (logcat -B output),
                                   read with json and PyYAML

A frame (synclog(5), logcat(1)): u32 length of the rest, u64 offset, i64
timestamp, key and value each as u32 length (0xffffffff: absent) and
bytes, u32 header count, then per header name and value as u32 length and
bytes; little-endian.  Generated frames carry offsets 0, 1, 2... so that a
log's `logcat -B` equals its input byte for byte.
"""
import base64
import json
import random
import struct
import sys

ABSENT = 0xFFFFFFFF
INT64_MAX = 2**63 - 1
INT64_MIN = -2**63


def field(b):
    if b is None:
        return struct.pack("<I", ABSENT)
    return struct.pack("<I", len(b)) + b


def frame(off, ts, key, value, headers):
    body = struct.pack("<Qq", off, ts) + field(key) + field(value)
    body += struct.pack("<I", len(headers))
    for n, v in headers:
        body += field(n) + field(v)
    return struct.pack("<I", len(body)) + body


def corpus():
    all256 = bytes(range(256))
    recs = [(1795168800123, all256, all256, [(all256, all256)])]
    # One record per byte value, in every field.
    for c in range(256):
        b = bytes([c])
        recs.append((c, b, b, [(b, b)]))
    # Absent versus empty key and value.
    for k in (None, b""):
        for v in (None, b""):
            recs.append((7, k, v, []))
    recs.append((8, b"k", b"v", [(b"", b""), (b"a", b""), (b"", b"b"),
                                 (b"dup", b"1"), (b"dup", b"2")]))
    # Strings: valid UTF-8 that escapes need care for, and invalid UTF-8.
    for s in ["\u00e9\u20ac\U0001F600", "\u2028\u2029", "\ufeffbom",
              "\u0085nel", "\x7f", "\x00", "\\", '"', "'", "\t\r\n",
              "null", "~", "true", "no", "1", "0x10", "1e3", "- a",
              "a: b", "#c", " lead", "trail ", "---", "...", "%YAML 1.1",
              "&a", "*a", "!t", "|", ">", "{a: b}", "[1]", "@", "`",
              "\U0010FFFF"]:
        b = s.encode("utf-8")
        recs.append((9, b, b, [(b, b)]))
    for b in [b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80", b"\xe0\x80\xaf",
              b"\xc2", b"\xe2\x82", b"\xff", b"a\x80b"]:
        recs.append((10, b, b, [(b, b)]))
    for ts in (0, -1, 1, INT64_MAX, INT64_MIN + 1, -1795168800000):
        recs.append((ts, None, b"ts", []))
    rnd = random.Random(1)
    recs.append((11, b"big", rnd.randbytes(100000),
                 []))
    return recs


def randrecs(seed, n):
    rnd = random.Random(seed)

    def rbytes():
        r = rnd.random()
        if r < 0.1:
            return b""
        if r < 0.5:
            return bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(40)))
        if r < 0.8:
            return bytes(rnd.randrange(32, 127) for _ in range(rnd.randrange(40)))
        return "".join(chr(rnd.choice([rnd.randrange(0x80, 0xd800),
                                       rnd.randrange(0x10000, 0x110000),
                                       rnd.randrange(0, 0x80)]))
                       for _ in range(rnd.randrange(10))).encode("utf-8")

    recs = []
    for _ in range(n):
        key = None if rnd.random() < 0.2 else rbytes()
        value = None if rnd.random() < 0.1 else rbytes()
        hdrs = [(rbytes(), rbytes()) for _ in range(rnd.choice([0, 0, 1, 3]))]
        ts = rnd.choice([rnd.randrange(INT64_MIN + 1, INT64_MAX),
                         rnd.randrange(0, 2**42)])
        recs.append((ts, key, value, hdrs))
    return recs


def write(recs):
    out = sys.stdout.buffer
    for off, (ts, k, v, h) in enumerate(recs):
        out.write(frame(off, ts, k, v, h))


def read_frames(path):
    data = open(path, "rb").read()
    recs, p = [], 0

    def take(n):
        nonlocal p
        if p + n > len(data):
            raise SystemExit("%s: frame truncated at byte %d" % (path, p))
        b = data[p:p + n]
        p += n
        return b

    def bytes32(absent_ok):
        (n,) = struct.unpack("<I", take(4))
        if n == ABSENT and absent_ok:
            return None
        return take(n)

    while p < len(data):
        (length,) = struct.unpack("<I", take(4))
        end = p + length
        off, ts = struct.unpack("<Qq", take(16))
        k = bytes32(True)
        v = bytes32(True)
        (nh,) = struct.unpack("<I", take(4))
        hdrs = [(bytes32(False), bytes32(False)) for _ in range(nh)]
        if p != end:
            raise SystemExit("%s: frame length %d does not match its "
                             "contents" % (path, length))
        recs.append((off, ts, k, v, hdrs))
    return recs


def utf8(s, what):
    if s is None:
        return None
    if not isinstance(s, str):
        raise SystemExit("%s: not a string: %r" % (what, s))
    return s.encode("utf-8")     # fails on lone surrogates: wanted


def pick(d, name, what):
    if name + "_base64" in d:
        if name in d:
            raise SystemExit("%s: both %s and %s_base64" % (what, name, name))
        return base64.b64decode(d[name + "_base64"], validate=True)
    return utf8(d[name], what + "." + name)


def from_json(line, what):
    d = json.loads(line)
    hdrs = [(pick(h, "name", what), pick(h, "value", what))
            for h in d["headers"]]
    return (d["offset"], d["timestamp"], pick(d, "key", what),
            pick(d, "value", what), hdrs)


def yaml_bytes(x, what):
    if x is None or isinstance(x, bytes):
        return x
    return utf8(x, what)


def from_yaml(d, what):
    hdrs = [(yaml_bytes(h["name"], what), yaml_bytes(h["value"], what))
            for h in d["headers"]]
    return (d["offset"], d["timestamp"], yaml_bytes(d["key"], what),
            yaml_bytes(d["value"], what), hdrs)


def compare(want, got, fmt):
    if len(want) != len(got):
        raise SystemExit("%s: %d records, want %d" % (fmt, len(got),
                                                      len(want)))
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            raise SystemExit("%s: record %d differs:\n want %r\n got  %r"
                             % (fmt, i, w, g))


def main():
    cmd = sys.argv[1]
    if cmd == "corpus":
        write(corpus())
    elif cmd == "random":
        write(randrecs(int(sys.argv[2]), int(sys.argv[3])))
    elif cmd == "lines":
        for off, ts, k, v, h in read_frames(sys.argv[2]):
            print(off, repr(k), repr(v))
    elif cmd == "text":
        delim = bytes.fromhex(sys.argv[3])
        kd = bytes.fromhex(sys.argv[4]) if len(sys.argv) > 4 else b""
        first = int(sys.argv[5]) if len(sys.argv) > 5 else 0
        end = int(sys.argv[6]) if len(sys.argv) > 6 else 2**64
        out = sys.stdout.buffer
        for off, ts, k, v, h in read_frames(sys.argv[2]):
            if first <= off < end:
                if kd:
                    out.write((k or b"") + kd)
                out.write((v or b"") + delim)
    elif cmd == "check-json":
        want = read_frames(sys.argv[2])
        with open(sys.argv[3], "rb") as f:
            raw = f.read()
        if raw and not raw.endswith(b"\n"):
            raise SystemExit("json: no newline at the end")
        got = [from_json(line, "json line %d" % (i + 1))
               for i, line in enumerate(raw.decode("utf-8").split("\n")[:-1])]
        compare(want, got, "json")
    elif cmd == "check-yaml":
        import yaml
        want = read_frames(sys.argv[2])
        with open(sys.argv[3], "rb") as f:
            docs = list(yaml.safe_load_all(f))
        got = [from_yaml(d, "yaml document %d" % (i + 1))
               for i, d in enumerate(docs)]
        compare(want, got, "yaml")
    else:
        raise SystemExit("records.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
