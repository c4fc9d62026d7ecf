#!/usr/bin/env python3
"""model.py - the model-based interleaving test (issue 20): a small
reference model of SPEC.md, driven by random interleavings of every tool,
comparing every tool's answer with the model after each step.

    model.py [options] WORKDIR

WORKDIR is created if needed; the log is WORKDIR/L and every command runs
in WORKDIR, so that the trace (WORKDIR/trace.sh, and the tail of it printed
on failure) reads as a shell session that can be replayed there.  The
programs are found in PATH (t/helpers.bash puts the build's bin/ first).

Options:
    --seed S          the random seed (default: a new one, printed)
    --steps N         how many steps (default 200)
    --seconds T       stop after T seconds, at the end of a step, even if
                      fewer steps ran (the summary says how many)
    --without A,B     leave these actions out (see ACTIONS below)
    --tolerate I,J    steer around issue 20 items I, J (numbers): drive the
                      tools so that those known bugs are not triggered, to
                      look for others behind them
    --keep-going      after a disagreement, note it, take the log's answer
                      as the truth and go on (exploration; exit 1 at the end)
    --quiet           no progress lines
    --tail N          how many lines of the trace a failure prints (40)

A seed and a step count reproduce a run: the choices depend on nothing
but the seed and the answers of the tools.  On a disagreement model.py
prints the seed, the step, the action, the disagreement, and the steps so
far, and exits 1.

The model (what the tools are compared with) follows SPEC.md and issue 20's
rules as they are to be once fixed:
- Offsets: every append gets the next offsets, dense; a durable offset is
  never reused, whatever other tools did meanwhile (item 1).
- Records are compared byte for byte: key (absent distinct from empty),
  value (tombstone distinct from empty), headers, timestamp.  A record
  appended without a timestamp gets the append time: between the moments
  before and after its append, never 0 (item 5).
- Damage (a flipped byte) makes its batch unreadable: readers print every
  good record before it, then stop with exit 1 naming the segment and
  byte; a writer refuses to append when the damage is in the segment it
  appends to (exit 1, pointing to logfsck: item 4); logfsck reports it;
  --repair leaves it; --salvage sets the segment aside and names the lost
  offsets, which become a legitimate gap.
- A segment deleted (or renamed) from the middle is a lost range: readers
  and logfsck stop or finish with exit 1 (item 3); compaction's and
  salvage's gaps are legitimate and read with exit 0.
- Retention drops whole segments from the front (a suffix of the model
  made of whole segments stays, as -r/-b/-u say); a consumer whose
  checkpoint fell below the log's beginning stops with exit 1 and applies
  nothing (item 7).
- Compaction: every record left is one the model had, byte for byte; the
  last segment, records without a key and (with -u) everything from the
  lowest checkpoint on are untouched; the latest record of each key stays;
  a dropped record has a later one of its key; a tombstone that is the
  latest of its key stays for the grace period counted from its append
  time, a clock the log controls, not the producer's timestamp (item 6).
- Index files are caches: deleting or damaging one changes no answer of a
  reader; logfsck may report it until --repair rebuilds it.
- Consumers (logapply) apply each record once, in order, from their
  checkpoint; the checkpoint moves past what was applied; logcheckpoint
  sets, shifts, deletes, compares (-i), dry-runs (-n) and waits (-w) as its
  man page says, and refuses while a logapply holds the consumer.  A
  damaged checkpoint is an error for every tool until -s or -d repairs it.
- Followers (logcat -f) print exactly the records present, in order,
  nothing skipped, nothing twice.
- A log directory is never a door (promise 9, item 2): with a symlink
  planted where a log file belongs, no tool writes to what it points to.
- A plain file is not a log; a non-empty directory without settings is
  not taken over (item 8).
Where the SPEC leaves room, the model checks properties, not a layout:
which segments exist is observed (a new one must start within the offsets
just appended), and so is where batches lie, read with a parser of
synclog(5) written here.

ACTIONS: append lw lwstop lwgap compact retain concurrent repair salvage
consume capply follow ckpt damage index delete restore symlink plain
"""
import argparse
import base64
import hashlib
import json
import os
import random
import re
import shlex
import signal
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from records import ABSENT, frame      # noqa: E402  (t/records.py)
NO_TS = -2**63
SEGRE = re.compile(r"^(\d{20})\.log$")
BATCH_HDR = 52
MAGIC = 0x474C5953
WAIT = 30.0                     # seconds any wait may take before it fails


def now_ms():
    return time.time_ns() // 1000000


class Disagree(Exception):
    """A tool's answer differs from the model's."""


# ---- synclog(5): batch headers, written here from the man page ----------

def batches(path):
    """[(pos, length, base, last)] of the valid-looking batch headers of a
    segment, from its start, stopping at the first that does not parse."""
    data = open(path, "rb").read()
    out, pos = [], 0
    while pos + BATCH_HDR <= len(data):
        magic, ver, flags, _res, length, count, base, delta = struct.unpack_from(
            "<IBBHIIQI", data, pos)
        if magic != MAGIC or length < BATCH_HDR or pos + length > len(data):
            break
        out.append((pos, length, base, base + delta))
        pos += length
    return out


# ---- -B frames (synclog(7)) ---------------------------------------------

# frame() makes one, as t/records.py does for the other tests.

def unframe(data, pos=0):
    """Decode frames from DATA[POS:]: ([(off, ts, key, value, headers)],
    the position after the last whole frame)."""
    out = []
    while pos + 4 <= len(data):
        (n,) = struct.unpack_from("<I", data, pos)
        if pos + 4 + n > len(data):
            break
        p = pos + 4
        off, ts = struct.unpack_from("<Qq", data, p)
        p += 16
        parts = []
        for _ in range(2):
            (ln,) = struct.unpack_from("<I", data, p)
            p += 4
            if ln == ABSENT:
                parts.append(None)
            else:
                parts.append(bytes(data[p:p + ln]))
                p += ln
        (nh,) = struct.unpack_from("<I", data, p)
        p += 4
        hs = []
        for _ in range(nh):
            hv = []
            for _ in range(2):
                (ln,) = struct.unpack_from("<I", data, p)
                p += 4
                hv.append(bytes(data[p:p + ln]))
                p += ln
            hs.append(tuple(hv))
        if p != pos + 4 + n:
            raise Disagree("a -B frame at byte %d does not add up" % pos)
        out.append((off, ts, parts[0], parts[1], tuple(hs)))
        pos = p
    return out, pos


# ---- records --------------------------------------------------------------

class Rec:
    """One record as the model knows it.  TS is the timestamp, or None
    while it is the append time not yet seen: it must then lie in
    [T0, T1], the moments before and after the append."""
    __slots__ = ("key", "value", "headers", "ts", "t0", "t1")

    def __init__(self, key, value, headers=(), ts=None):
        self.key, self.value, self.headers, self.ts = key, value, tuple(headers), ts
        self.t0 = self.t1 = None

    def show(self):
        return "key %r value %r headers %r ts %s" % (
            self.key, short(self.value), list(self.headers),
            self.ts if self.ts is not None else "append time in [%s, %s]" % (
                self.t0, self.t1))


def short(b, n=40):
    if b is None or len(b) <= n:
        return b
    return b[:n] + b"..."


def utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def json_field(obj, name, b):
    if b is None:
        obj[name] = None
    elif utf8(b):
        obj[name] = b.decode("utf-8")
    else:
        obj[name + "_base64"] = base64.b64encode(b).decode()


YAML_SAFE = re.compile(r"^[ -~\u00a0-\u00ff\u0100-\u017f\u3040-\u30ff]*$")


def yaml_scalar(b):
    if b is None:
        return "null"
    if utf8(b) and YAML_SAFE.match(b.decode("utf-8")):
        return json.dumps(b.decode("utf-8"), ensure_ascii=False)
    return '!!binary "%s"' % base64.b64encode(b).decode()


def encode(fmt, recs, tsmode):
    """The input of `logappend` in format FMT for RECS.  TSMODE[i] is how
    record i gives its timestamp: 'ts' (its own), 'none' (no field),
    'null' (a null)."""
    out = []
    for r, how in zip(recs, tsmode):
        if fmt == "textk":
            out.append((r.key + b"," if r.key is not None else b"") + r.value + b"\n")
        elif fmt == "text":
            out.append(r.value + b"\n")
        elif fmt == "json":
            obj = {}
            if how == "ts":
                obj["timestamp"] = r.ts
            elif how == "null":
                obj["timestamp"] = None
            if r.key is not None or random.random() < 0.5:
                json_field(obj, "key", r.key)
            json_field(obj, "value", r.value)
            if r.headers:
                hs = []
                for n, v in r.headers:
                    h = {}
                    json_field(h, "name", n)
                    json_field(h, "value", v)
                    hs.append(h)
                obj["headers"] = hs
            out.append(json.dumps(obj, ensure_ascii=False).encode() + b"\n")
        elif fmt == "yaml":
            lines = ["---"]
            if how == "ts":
                lines.append("timestamp: %d" % r.ts)
            elif how == "null":
                lines.append("timestamp: null")
            lines.append("key: " + yaml_scalar(r.key))
            lines.append("value: " + yaml_scalar(r.value))
            if r.headers:
                lines.append("headers:")
                for n, v in r.headers:
                    lines.append("- name: " + yaml_scalar(n))
                    lines.append("  value: " + yaml_scalar(v))
            out.append(("\n".join(lines) + "\n").encode("utf-8"))
        elif fmt == "bin":
            out.append(frame(0, r.ts if how == "ts" else NO_TS, r.key, r.value,
                             r.headers))
    return out


BAD_INPUT = {
    "json": b'{"value": }\n',
    "yaml": b"---\nvalue: [\n",
    "bin": struct.pack("<I", 5) + b"\0\0\0\0\0",
}


# ---- the model ------------------------------------------------------------

class Barrier:
    """Where readers must stop: a damaged batch (KIND 'damage', offsets
    LO..HI, at byte POS of segment SEG) or a lost segment (KIND 'lost',
    offsets LO..HI, its file kept in SAVED to be put back)."""

    def __init__(self, kind, lo, hi, seg, pos=None, saved=None, name=None):
        self.kind, self.lo, self.hi, self.seg = kind, lo, hi, seg
        self.pos, self.saved, self.name = pos, saved, name

    def __repr__(self):
        if self.kind == "damage":
            return "damage in %020d.log at byte %d (offsets %d-%d)" % (
                self.seg, self.pos, self.lo, self.hi)
        return "lost segment %020d.log (offsets %d-%d)" % (self.seg, self.lo, self.hi)


class Model:
    def __init__(self):
        self.hist = {}          # offset -> Rec: every record ever appended
        self.present = set()    # offsets of records in the log
        self._sorted = None
        self.end = 0            # the next offset
        self.bases = []         # segment bases, as observed
        self.ret_begin = 0      # retention dropped every offset below
        self.barriers = []
        self.consumers = {}     # name -> checkpoint
        self.bad_ckpt = set()   # consumers whose checkpoint file is damaged
        self.soft = set()       # segments whose index may be stale

    def offsets(self):
        if self._sorted is None:
            self._sorted = sorted(self.present)
        return self._sorted

    def add(self, off):
        self.present.add(off)
        self._sorted = None

    def drop(self, offs):
        self.present.difference_update(offs)
        self._sorted = None

    def begin(self):
        return self.bases[0] if self.bases else self.end

    def seg_of(self, off):
        s = None
        for b in self.bases:
            if b <= off:
                s = b
        return s

    def seg_range(self, base):
        i = self.bases.index(base)
        return base, (self.bases[i + 1] if i + 1 < len(self.bases) else None)

    def last_seg(self):
        return self.bases[-1] if self.bases else None

    def damaged_last(self):
        """A damage barrier in the last segment (writers refuse)."""
        return [b for b in self.barriers if b.kind == "damage" and
                b.seg == self.last_seg()]

    def view(self, start, rescan=True):
        """What a reader from offset START sees: (offsets, the barrier it
        stops at or None, alternatives) where alternatives are other
        acceptable (offsets, barrier) answers.  RESCAN: the reader starts
        afresh (it may scan START's segment from its start); a follower
        that has read up to START does not."""
        rel = sorted([b for b in self.barriers if b.hi >= start], key=lambda b: b.lo)
        bar = rel[0] if rel else None
        lim = bar.lo if bar else float("inf")
        offs = [o for o in self.offsets() if start <= o < lim]
        alts = []
        if bar is not None and bar.kind == "lost":
            # A reader may also step over a lost range, and say so at
            # the end with exit 1.
            nxt = rel[1].lo if len(rel) > 1 else float("inf")
            alts.append((offs + [o for o in self.offsets() if bar.hi < o < nxt],
                         rel[1] if len(rel) > 1 else bar))
        # Damage before START in START's segment: a reader that scans
        # the segment from its start (or from an index entry before the
        # damage) meets it before START.
        seg = self.seg_of(start)
        for b in self.barriers:
            if rescan and b.kind == "damage" and b.seg == seg and b.hi < start:
                alts.append(([], b))
        return offs, bar, alts

    def latest(self, offs=None):
        """key -> offset of its latest record among OFFS (default present)."""
        lat = {}
        for o in sorted(self.present if offs is None else offs):
            k = self.hist[o].key
            if k is not None:
                lat[k] = o
        return lat


# ---- the driver -----------------------------------------------------------

class LongWriter:
    """A long-lived `logappend -p` fed through a FIFO that stays open; its
    acknowledgements are collected by a thread as they come."""

    def __init__(self, h, name, argv):
        self.name, self.argv = name, argv
        self.fifo = "fifo." + name
        path = os.path.join(h.work, self.fifo)
        if os.path.exists(path):
            os.unlink(path)
        os.mkfifo(path)
        rw = os.open(path, os.O_RDWR)           # so neither open blocks
        rd = os.open(path, os.O_RDONLY)
        self.errf = open(os.path.join(h.work, "err." + name), "w+b")
        self.proc = subprocess.Popen(argv, cwd=h.work, stdin=rd,
                                     stdout=subprocess.PIPE, stderr=self.errf)
        os.close(rd)
        self.wfd = os.open(path, os.O_WRONLY)
        os.close(rw)
        self.acks = []
        self.cv = threading.Condition()
        self.thread = threading.Thread(target=self.reader, daemon=True)
        self.thread.start()

    def reader(self):
        for line in self.proc.stdout:
            with self.cv:
                self.acks.append(line.strip())
                self.cv.notify_all()
        with self.cv:
            self.acks.append(None)
            self.cv.notify_all()

    def send(self, data):
        view = memoryview(data)
        while view:
            n = os.write(self.wfd, view)
            view = view[n:]

    def wait_acks(self, n, timeout):
        """Wait until N acknowledgements are there (or EOF): the list."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while len([a for a in self.acks if a is not None]) < n and \
                    None not in self.acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cv.wait(left)
            return [a for a in self.acks if a is not None]

    def close(self):
        if self.wfd is not None:
            os.close(self.wfd)
            self.wfd = None

    def stderr(self):
        self.errf.seek(0)
        return self.errf.read().decode(errors="replace")

    def kill(self):
        self.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Reader:
    """A background reader whose output is frames: `logcat -f -B` (a
    follower) or `logapply -f` (a following consumer, whose handler
    appends the frames of each batch to a file)."""

    def __init__(self, h, name, argv, out, start, consumer=None):
        self.name, self.argv, self.out, self.start = name, argv, out, start
        self.consumer = consumer
        self.errpath = os.path.join(h.work, "err." + name)
        self.errf = open(self.errpath, "wb")
        outf = open(os.path.join(h.work, out), "wb") if consumer is None else \
            subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, cwd=h.work, stdin=subprocess.DEVNULL,
                                     stdout=outf, stderr=self.errf)
        self.pos = 0
        self.last = None        # last offset printed
        self.seen = []
        self.path = os.path.join(h.work, out)

    def stderr(self):
        return open(self.errpath, "rb").read().decode(errors="replace")

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Harness:
    def __init__(self, a):
        self.a = a
        self.seed = a.seed
        self.rng = random.Random(a.seed)
        random.seed(a.seed ^ 0x5EED)
        self.work = os.path.abspath(a.work)
        os.makedirs(self.work, exist_ok=True)
        for d in ("in", "apply", "outside"):
            os.makedirs(os.path.join(self.work, d), exist_ok=True)
        self.L = "L"
        self.ldir = os.path.join(self.work, "L")
        self.m = Model()
        self.trace = []
        self.tracef = open(os.path.join(self.work, "trace.sh"), "w")
        self.step = 0
        self.action = "-"
        self.lws = {}           # name -> LongWriter
        self.followers = {}     # name -> Reader (logcat -f)
        self.capply = {}        # consumer name -> Reader (logapply -f)
        self.gen = {}           # consumer name -> generation of its files
        self.applied = {}       # consumer name -> (file, pos, last)
        self.nproc = 0
        self.nin = 0
        self.counts = {}
        self.disagreements = []
        self.tol = set(a.tolerate)
        self.seg_bytes = self.rng.choice([1024, 1024, 2048, 8192, 16384])
        self.nkeys = self.rng.choice([4, 8, 12, 40, 80])
        self.without = set(a.without)
        self.last_seen = {}     # offset -> ts pinned, for consistency
        self.victims = {}
        self.log_id = None
        with open(os.path.join(self.work, "apply.sh"), "w") as f:
            f.write("#!/bin/sh\n# apply.sh NAME: append this batch (-B frames) "
                    "to NAME.data, its bounds to NAME.batches\n"
                    'cat >>"$1.data" && echo "$LOGAPPLY_FIRST $LOGAPPLY_LAST" '
                    '>>"$1.batches"\n')
        os.chmod(os.path.join(self.work, "apply.sh"), 0o755)
        with open(os.path.join(self.work, "flip"), "w") as f:
            f.write("#!/usr/bin/env python3\n# flip FILE BYTE MASK: xor byte BYTE of "
                    "FILE with MASK, in place\nimport sys\nf = open(sys.argv[1], "
                    "'r+b')\nat, mask = int(sys.argv[2]), int(sys.argv[3])\n"
                    "f.seek(at)\nc = f.read(1)[0]\nf.seek(at)\n"
                    "f.write(bytes([c ^ mask]))\n")
        os.chmod(os.path.join(self.work, "flip"), 0o755)
        self.note("# model.py --seed %d: segment bytes %d, %d keys" % (
            self.seed, self.seg_bytes, self.nkeys))

    # ---- trace and processes ----------------------------------------------

    def note(self, line):
        self.trace.append(line)
        self.tracef.write(line + "\n")
        self.tracef.flush()

    def cmdline(self, argv, stdin=None, extra=""):
        s = " ".join(shlex.quote(x) for x in argv)
        if stdin is not None:
            s += " <" + stdin
        return s + extra

    def save_input(self, data):
        self.nin += 1
        name = "in/%04d" % self.nin
        with open(os.path.join(self.work, name), "wb") as f:
            f.write(data)
        return name

    def run(self, argv, data=None, timeout=None, quiet=False):
        """Run ARGV in the work directory: (status, stdout bytes, stderr str)."""
        stdin = self.save_input(data) if data is not None else None
        if not quiet:
            self.note(self.cmdline(argv, stdin))
        self.nproc += 1
        try:
            p = subprocess.run(argv, cwd=self.work, timeout=timeout or WAIT * 2,
                               stdin=open(os.path.join(self.work, stdin), "rb")
                               if stdin else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except subprocess.TimeoutExpired:
            raise Disagree("%s hung (no exit within %ds)" % (
                self.cmdline(argv, stdin), timeout or WAIT * 2))
        return p.returncode, p.stdout, p.stderr.decode(errors="replace")

    def fail(self, msg):
        raise Disagree(msg)

    def expect_status(self, what, rc, err, want, item=None, noisy=False):
        if isinstance(want, int):
            want = (want,)
        if rc not in want:
            self.fail("%s: exit %d, the model expects %s%s%s" % (
                what, rc, " or ".join(map(str, want)),
                "; stderr: " + err.strip() if err.strip() else "",
                " (issue 20 item %s)" % item if item else ""))
        prog = what.split()[0]
        if rc == 0 and err.strip() and not noisy:
            self.fail("%s: exit 0 but stderr: %s" % (what, err.strip()))
        if rc != 0 and rc in want and not err.startswith(prog + ": ") \
                and ("\n" + prog + ": ") not in err:
            self.fail("%s: exit %d without a message starting '%s: ' (stderr %r)"
                      % (what, rc, prog, err))

    # ---- observing the directory ------------------------------------------

    def observe(self):
        bases = []
        for n in os.listdir(self.ldir):
            mt = SEGRE.match(n)
            if mt:
                bases.append(int(mt.group(1)))
        return sorted(bases)

    def reconcile(self, new_lo=None, new_hi=None, may_vanish=(), appear=()):
        """Take the segments now in the directory: a new one must start
        within [NEW_LO, NEW_HI] (the offsets appended meanwhile) or one of
        the ranges APPEAR (lost offsets salvage made a hole of), a known
        one may vanish only when the step explains it."""
        obs = self.observe()
        old = set(self.m.bases)
        for b in obs:
            if b in old or any(lo <= b <= hi for lo, hi in appear):
                continue
            if new_lo is None or not (new_lo <= b <= new_hi):
                self.fail("segment %020d.log appeared, but no append made "
                          "offsets there (appended: %s)%s" % (
                              b, "%s-%s" % (new_lo, new_hi) if new_lo is not None
                              else "none", self.hint_reuse(b)))
        for b in old - set(obs):
            if b not in may_vanish and "any" not in may_vanish:
                self.fail("segment %020d.log vanished, and nothing in this "
                          "step removes a segment" % b)
        self.m.bases = obs

    def hint_reuse(self, b):
        if b < self.m.end:
            return " (offset %d was already given: issue 20 item 1)" % b
        return ""

    def seg_path(self, base, suffix=".log"):
        return os.path.join(self.ldir, "%020d%s" % (base, suffix))

    # ---- reading records back ---------------------------------------------

    def check_rec(self, what, off, ts, key, value, headers):
        m = self.m
        r = m.hist.get(off)
        if r is None or off >= m.end:
            self.fail("%s printed offset %d, which the model never gave "
                      "(end %d)" % (what, off, m.end))
        if (r.key, r.value, r.headers) != (key, value, headers):
            self.fail("%s: offset %d is key %r value %r headers %r; the model "
                      "has %s" % (what, off, key, short(value), list(headers),
                                  r.show()))
        if r.ts is None:
            if not (r.t0 - 1 <= ts <= r.t1 + 1):
                self.fail("%s: offset %d has timestamp %d; appended without "
                          "one in [%d, %d], it must be the append time%s" % (
                              what, off, ts, r.t0, r.t1,
                              " (issue 20 item 5: 0, or a clock read before the "
                              "record came, after one with a timestamp)"
                              if ts < r.t0 else ""))
            r.ts = ts
        elif r.ts != ts:
            self.fail("%s: offset %d has timestamp %d, the model %d" % (
                what, off, ts, r.ts))

    def check_view(self, what, frames, rc, err, start):
        """FRAMES (decoded -B output) with status RC must be what a reader
        from START sees."""
        offs, bar, alts = self.m.view(start)
        got = [f[0] for f in frames]
        answers = [(offs, bar)] + alts
        for o, b in answers:
            if got == o and rc == (1 if b else 0):
                break
        else:
            o, b = offs, bar
            missing = sorted(set(o) - set(got))
            extra = sorted(set(got) - set(o))
            hint = ""
            lost = [x for x in self.m.barriers if x.kind == "lost"]
            if rc == 0 and bar is not None and bar.kind == "lost":
                hint = " (a lost segment read as a gap: issue 20 item 3)"
            elif extra and lost and any(x.lo <= e <= x.hi for x in lost
                                        for e in extra):
                hint = " (issue 20 item 3)"
            self.fail("%s: exit %d with %d records%s%s; the model expects "
                      "exit %d with %d records%s (%s)%s%s" % (
                          what, rc, len(got),
                          ", missing " + rng(missing) if missing else "",
                          ", unexpected " + rng(extra) if extra else "",
                          1 if bar else 0, len(o),
                          ", stopping at " + repr(bar) if bar else "",
                          "from %d" % start,
                          "; stderr: " + err.strip() if err.strip() else "", hint))
        for f in frames:
            self.check_rec(what, *f)
        if b is not None and b.kind == "damage" and rc == 1:
            segname = "%020d.log" % b.seg
            if segname not in err or "byte " not in err or "offset " not in err:
                self.fail("%s: the error does not name the segment, byte and "
                          "offset of %r: %s" % (what, b, err.strip()))

    def read_all(self, extra=(), start=None):
        argv = ["logcat", "-B"] + list(extra) + [self.L]
        rc, out, err = self.run(argv, quiet=True)
        frames, pos = unframe(out)
        if pos != len(out):
            self.fail("logcat -B: output ends inside a frame")
        return rc, frames, err

    # ---- steps ------------------------------------------------------------

    def choose(self):
        m = self.m
        w = {
            "append": 22, "lw": 12, "lwstop": 2, "compact": 6, "retain": 4,
            "concurrent": 3, "repair": 2, "salvage": 1, "consume": 8,
            "capply": 3, "follow": 3, "ckpt": 7, "damage": 3, "index": 3,
            "delete": 2, "restore": 0, "symlink": 2, "plain": 1, "lwgap": 2,
        }
        if any(b.kind == "damage" for b in m.barriers):
            w["salvage"] = 10
        if any(b.kind == "lost" for b in m.barriers):
            w["restore"] = 10
        if not self.lws:
            w["lwstop"] = 0
        for a in self.without:
            w[a] = 0
        names = sorted(w)
        return self.rng.choices(names, [w[n] for n in names])[0]

    def go(self):
        t0 = time.monotonic()
        status = 0
        try:
            self.setup()
            for self.step in range(1, self.a.steps + 1):
                if self.a.seconds and time.monotonic() - t0 > self.a.seconds:
                    self.step -= 1
                    break
                self.action = self.choose()
                self.counts[self.action] = self.counts.get(self.action, 0) + 1
                self.note("# step %d: %s" % (self.step, self.action))
                try:
                    getattr(self, "a_" + self.action)()
                    self.check()
                except Disagree as e:
                    self.report(e)
                    if not self.a.keep_going:
                        return 1
                    status = 1
                    self.resync()
                if not self.a.quiet and self.step % 50 == 0:
                    print("model: seed %d: step %d, end %d, %d segments" % (
                        self.seed, self.step, self.m.end, len(self.m.bases)),
                        file=sys.stderr)
        finally:
            self.stop_all()
        acts = ", ".join("%s %d" % (k, v) for k, v in sorted(self.counts.items()))
        print("model: seed %d: %d steps, %d tool runs, end offset %d, %d "
              "segments, %d disagreements (%s)" % (
                  self.seed, self.step, self.nproc, self.m.end,
                  len(self.m.bases), len(self.disagreements), acts))
        return status

    def report(self, e):
        self.disagreements.append((self.step, self.action, str(e)))
        print("model: seed %d, step %d (%s): DISAGREEMENT: %s" % (
            self.seed, self.step, self.action, e), file=sys.stderr)
        print("model: to reproduce: t/tools/model.py --seed %d --steps %d%s%s DIR"
              % (self.seed, self.step,
                 " --without " + ",".join(sorted(self.without)) if self.without else "",
                 " --tolerate " + ",".join(sorted(self.tol)) if self.tol else ""),
              file=sys.stderr)
        print("model: the steps so far (%s/trace.sh), the last ones:" % self.work,
              file=sys.stderr)
        for line in self.trace[-self.a.tail:]:
            print("    " + line, file=sys.stderr)

    def stop_all(self):
        for w in list(self.lws.values()):
            w.kill()
        for r in list(self.followers.values()) + list(self.capply.values()):
            r.kill()
        self.lws.clear()
        self.followers.clear()
        self.capply.clear()

    def resync(self):
        """--keep-going: take the log as it is for the truth."""
        self.stop_all()
        m = self.m
        m.bases = self.observe()
        rc, frames, err = self.read_all()
        m.barriers = []
        m.present = set()
        m._sorted = None
        for off, ts, k, v, h in frames:
            r = Rec(k, v, h, ts)
            m.hist[off] = r
            m.add(off)
        rc2, out, err2 = self.run(["logseek", self.L, "end"], quiet=True)
        try:
            m.end = max(m.end, int(out.split()[0]))
        except (ValueError, IndexError):
            pass
        if rc != 0:
            # Damage the model lost track of: salvage it away.
            self.run(["logfsck", "-s", self.L], quiet=True)
            m.bases = self.observe()
            rc, frames, err = self.read_all()
            m.present = set(f[0] for f in frames)
            m._sorted = None
        m.soft = set(m.bases)
        m.consumers = {}
        m.bad_ckpt = set()
        rc, out, err = self.run(["logcheckpoint", "-J", self.L], quiet=True)
        for line in out.decode().splitlines():
            try:
                o = json.loads(line)
                m.consumers[o["consumer"]] = o["offset"]
            except ValueError:
                pass
        for n in re.findall(r": (\S+): damaged checkpoint", err):
            m.consumers[n] = 0
            m.bad_ckpt.add(n)
        self.applied = {}
        for n in self.CONSUMERS:
            self.gen[n] = self.gen.get(n, 1) + 1
        self.note("# resync after a disagreement: end %d" % m.end)

    def setup(self):
        """Create the log: `logappend -s SEGMENT_BYTES` of nothing."""
        rc, out, err = self.run(["logappend", "-s", str(self.seg_bytes), self.L], b"")
        self.expect_status("logappend (create)", rc, err, 0)
        for line in open(os.path.join(self.ldir, "settings")):
            if line.startswith("id "):
                self.log_id = line.split()[1]
        self.reconcile(0, 0)
        with open(os.path.join(self.work, "outside", "plain.txt"), "wb") as f:
            f.write(b"2026-11-20 10:00:00 status installed synclog\n" * 20)
        self.victim("victim", b"a file outside the log, never to be written\n")

    def victim(self, name, data):
        p = os.path.join(self.work, "outside", name)
        with open(p, "wb") as f:
            f.write(data)
        self.victims[p] = hashlib.sha256(data).hexdigest()

    # ---- generation of records --------------------------------------------

    def gen_bytes(self, kind):
        r = self.rng
        if kind == "text":
            alpha = "abcdefghijklmnopqrstuvwxyz0123456789 -_.:;!?/()[]{}'\"\\"
            return "".join(r.choice(alpha) for _ in range(r.randrange(0, 48))).encode()
        if kind == "utf8":
            return "".join(r.choice(["a", "é", "€", "日", "\t", "\\", '"', "ß", " ",
                                     "\U0001F600", "\u2028", "\x00", "z"])
                           for _ in range(r.randrange(0, 20))).encode()
        return bytes(r.getrandbits(8) for _ in range(r.randrange(0, 40)))

    def gen_key(self, fmt):
        r = self.rng
        x = r.random()
        if x < 0.15:
            return None
        if x < 0.18:
            return b""
        if fmt == "bin" and x < 0.22:
            return self.gen_bytes("bin")
        return b"k%d" % r.randrange(self.nkeys)

    def gen_recs(self, fmt, n):
        """N records for format FMT and how each gives its timestamp."""
        r = self.rng
        recs, how = [], []
        mixed = r.random() < 0.3
        for _ in range(n):
            if fmt in ("text", "textk"):
                key = self.gen_key(fmt) if fmt == "textk" else None
                if key is not None and b"," in key:
                    key = b"k0"
                val = self.gen_bytes("text").replace(b",", b";")
                if fmt == "textk" and key is None:
                    pass
                recs.append(Rec(key, val))
                how.append("none")
                continue
            key = self.gen_key(fmt)
            kind = {"json": "utf8", "yaml": "utf8", "bin": "bin"}[fmt]
            if r.random() < 0.2:
                kind = "bin"
            val = None if r.random() < 0.12 else self.gen_bytes(kind)
            hs = [(self.gen_bytes(kind)[:8], self.gen_bytes(kind))
                  for _ in range(r.choice([0, 0, 0, 1, 2]))]
            x = r.random()
            if mixed and x < 0.5:
                ts = r.choice([1000, 1795168800123, now_ms() - 86400000,
                               now_ms() + 3600000, r.randrange(1, 2**41)])
                h = "ts"
            elif mixed and x < 0.6 and fmt != "bin":
                ts, h = None, "null"
            else:
                ts, h = None, "none"
            if "5" in self.tol and mixed:
                # Item 5 breaks records without a timestamp after one with
                # one in the same batch: give every record one.
                if ts is None:
                    ts, h = r.randrange(1, 2**41), "ts"
            if "6" in self.tol and val is None and ts is not None:
                ts = now_ms()
            recs.append(Rec(key, val, hs, ts))
            how.append(h)
        return recs, how

    # ---- appends ----------------------------------------------------------

    def appended(self, recs, first, t0, t1):
        m = self.m
        for i, r in enumerate(recs):
            r.t0, r.t1 = t0, t1
            off = first + i
            if off in m.hist and off < m.end:
                self.fail("offset %d given twice (issue 20 item 1)" % off)
            m.hist[off] = r
            m.add(off)
        m.end = first + len(recs)

    def writer_refuses(self):
        return bool(self.m.damaged_last())

    def a_append(self, concurrent_with=None):
        r = self.rng
        m = self.m
        fmt = r.choice(["textk", "textk", "text", "json", "json", "yaml", "bin"])
        big = self.seg_bytes >= 8192
        n = r.randint(1, 120 if big else 30)
        recs, how = self.gen_recs(fmt, n)
        argv = ["logappend"]
        if r.random() < 0.85:
            argv.append("-p")
        if r.random() < 0.2:
            argv.append("-N")
        if r.random() < 0.2:
            argv.append("-z")
        expect = None
        if concurrent_with is None and r.random() < 0.15:
            expect = m.end if r.random() < 0.7 else max(0, m.end + r.choice([-1, 1]))
            argv += ["-x", str(expect)]
        opt = {"textk": ["-K", ","], "text": [], "json": ["-J"], "yaml": ["-Y"],
               "bin": ["-B"]}[fmt]
        if fmt == "text" and r.random() < 0.3:
            key = b"k%d" % r.randrange(self.nkeys)
            opt = ["-k", key.decode()]
            for x in recs:
                x.key = key
        elif fmt == "textk" and r.random() < 0.2:
            # Updates of one hot key: whole segments that compaction empties
            # (the segment after a long-lived writer's, say: issue 20 item 1).
            for x in recs:
                x.key = b"hot"
        if fmt in ("text", "textk") and r.random() < 0.2:
            opt += ["-H", "src=model"]
            for x in recs:
                x.headers = ((b"src", b"model"),)
        argv += opt + [self.L]
        parts = encode(fmt, recs, how)
        bad = None
        if fmt in BAD_INPUT and r.random() < 0.1:
            bad = r.randint(0, n) if fmt != "bin" else n
            parts.insert(bad, BAD_INPUT[fmt])
        data = b"".join(parts)
        t0 = now_ms()
        if concurrent_with is not None:
            concurrent_with()
        rc, out, err = self.run(argv, data)
        t1 = now_ms()
        what = self.cmdline(argv)
        good = recs if bad is None else recs[:bad]
        if self.writer_refuses():
            self.expect_status(what, rc, err, 1, item=4)
            if "logfsck" not in err:
                self.fail("%s: refused without pointing to logfsck: %s" % (what, err))
            good = []
        elif expect is not None and expect != m.end:
            self.expect_status(what, rc, err, 1)
            good = []
        elif bad is not None:
            self.expect_status(what, rc, err, 1)
            if expect is not None:
                good = []
        else:
            self.expect_status(what, rc, err, 0,
                               item=4 if rc == 1 and "logfsck" in err else None)
        if "-p" in argv:
            acks = out.split()
            want = [b"%d" % (m.end + i) for i in range(len(good))]
            if acks != want:
                self.fail("%s: printed offsets %s, the model expects %s%s" % (
                    what, rng_b(acks), rng_b(want),
                    " (issue 20 item 1)" if acks and int(acks[0]) < m.end else ""))
        elif out:
            self.fail("%s: printed %r without -p" % (what, out[:80]))
        old = m.end
        self.appended(good, m.end, t0, t1)
        if concurrent_with is None:
            self.reconcile(old, m.end)
        return old

    def a_lw(self):
        """A long-lived writer: start one (at most two), or feed one."""
        r = self.rng
        if len(self.lws) < 2 and (not self.lws or r.random() < 0.15):
            name = "w%d" % (max([int(k[1:]) for k in self.lws] + [0]) + 1)
            while os.path.exists(os.path.join(self.work, "fifo." + name)):
                name = "w%d" % (int(name[1:]) + 1)
            fmt = r.choice(["textk", "textk", "json"])
            argv = ["logappend", "-p"]
            if r.random() < 0.2:
                argv.append("-N")
            if r.random() < 0.2:
                argv.append("-z")
            argv += (["-K", ","] if fmt == "textk" else ["-J"]) + [self.L]
            if self.writer_refuses():
                # It opens the log as it starts, and refuses at once.
                rc, out, err = self.run(argv, b"")
                self.expect_status(self.cmdline(argv), rc, err, 1)
                if "refusing to write" not in err:
                    self.fail("%s: exit 1 without refusing: %s" % (
                        self.cmdline(argv), err.strip()))
                return
            self.note(self.cmdline(argv, "fifo." + name, " >acks.%s 2>err.%s &  "
                                   "# then: exec {%s}>fifo.%s" % (name, name, name, name)))
            w = LongWriter(self, name, argv)
            w.fmt = fmt
            self.lws[name] = w
            self.nproc += 1
            return
        name = r.choice(sorted(self.lws))
        w = self.lws[name]
        n = r.randint(1, 60 if self.seg_bytes >= 8192 else 20)
        recs, how = self.gen_recs(w.fmt, n)
        self.lw_feed(name, recs, how)

    def lw_feed(self, name, recs, how=None):
        """Feed RECS to long-lived writer NAME; check its acknowledgements."""
        m = self.m
        w = self.lws[name]
        n = len(recs)
        how = how or ["none"] * n
        parts = encode(w.fmt, recs, how)
        if "9" in self.tol:
            # Nor may one record fill a batch (an eighth of a segment).
            keep = [i for i, p in enumerate(parts) if len(p) < self.seg_bytes // 8 - 60]
            recs = [recs[i] for i in keep]
            parts = [parts[i] for i in keep]
            n = len(recs)
        have = len(w.wait_acks(0, 0))
        t0 = now_ms()
        refuse = self.writer_refuses()
        if "9" in self.tol:
            # Item 9 holds back the acknowledgement of a batch that filled:
            # one record at a time, each acknowledged before the next.
            for i, p in enumerate(parts):
                self.note("cat %s >&${%s}" % (self.save_input(p), name))
                w.send(p)
                got = w.wait_acks(have + i + 1, WAIT)
                if len(got) < have + i + 1:
                    break
        else:
            data = b"".join(parts)
            self.note("cat %s >&${%s}  # %d records" % (
                self.save_input(data), name, n))
            try:
                w.send(data)
            except BrokenPipeError:
                pass
        got = w.wait_acks(have + n, WAIT if not refuse else 2)
        t1 = now_ms()
        new = got[have:]
        what = "long-lived writer %s (%s)" % (name, self.cmdline(w.argv))
        if refuse:
            w.close()
            try:
                rc = w.proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.fail("%s: still running after being fed with damage in its "
                          "segment (issue 20 item 4)" % what)
            del self.lws[name]
            self.expect_status(what, rc, w.stderr(), 1, item=4)
            if new:
                self.fail("%s acknowledged %s after damage in its segment "
                          "(issue 20 item 4)" % (what, rng_b(new)))
            return
        if len(new) < n and None in w.acks:
            # Its output ended: it exited (reap it, however close behind).
            try:
                rc = w.proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                rc = None
            del self.lws[name]
            self.fail("%s exited %s after acknowledging %s of %d records: %s%s" % (
                what, rc, rng_b(new) if new else "none", n, w.stderr().strip(),
                " (the damage is not in the segment it would append to: the "
                "log's last segment is %020d.log)" % m.bases[-1]
                if "refusing to write" in w.stderr() and not refuse else ""))
        want = [b"%d" % (m.end + i) for i in range(n)]
        if new != want:
            if len(new) < n and new == want[:len(new)]:
                self.fail("%s: fed %d records, %d acknowledged within %ds: the "
                          "acknowledgements of committed batches are held back "
                          "(issue 20 item 9)" % (what, n, len(new), WAIT))
            self.fail("%s: acknowledged %s, the model expects %s%s" % (
                what, rng_b(new), rng_b(want),
                " (a durable offset given again: issue 20 item 1)"
                if new and int(new[0]) < m.end else ""))
        old = m.end
        self.appended(recs, m.end, t0, t1)
        self.reconcile(old, m.end)

    def a_lwgap(self):
        """An interleaving issue 20 names (item 1), as one step of several
        tool runs, each compared with the model: a long-lived writer fills
        its segment and waits; short-lived writers seal the next segment
        with updates of one key and go on; logcompact -k empties and
        removes that segment; the long-lived writer writes again."""
        m = self.m
        if "1" in self.tol or self.writer_refuses():
            return
        if not self.lws:
            self.a_lw()         # starts one
        name = sorted(self.lws)[0]
        w = self.lws[name]
        if w.fmt != "textk":
            return
        seg = lambda: os.path.getsize(self.seg_path(m.bases[-1]))
        for _ in range(200):
            if seg() >= self.seg_bytes:
                break
            self.lw_feed(name, [Rec(None, b"filler of the long-lived writer")])
        else:
            return
        mine = m.bases[-1]
        for _ in range(400):
            if len([b for b in m.bases if b > mine]) >= 2:
                break
            recs = [Rec(b"hot", b"an update of the hot key %d" % i) for i in range(8)]
            data = b"".join(encode("textk", recs, ["none"] * 8))
            t0 = now_ms()
            rc, out, err = self.run(["logappend", "-p", "-K", ",", self.L], data)
            t1 = now_ms()
            self.expect_status("logappend -p -K , L", rc, err, 0)
            old = m.end
            if out.split() != [b"%d" % (old + i) for i in range(8)]:
                self.fail("logappend -p -K , L printed %s; the model expects %s" % (
                    rng_b(out.split()), rng(range(old, old + 8))))
            self.appended(recs, old, t0, t1)
            self.reconcile(old, m.end)
        # Followers take in those updates before compaction may drop
        # them, as after every step: what they applied is then known.
        self.quiesce()
        self.compact_plain()
        self.lw_feed(name, [Rec(None, b"after the compaction")])

    def a_lwstop(self, name=None):
        if name is None:
            name = self.rng.choice(sorted(self.lws))
        w = self.lws.pop(name)
        self.note("exec {%s}>&-; wait  # %s ends" % (name, name))
        have = len(w.wait_acks(0, 0))
        w.close()
        try:
            rc = w.proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            w.kill()
            self.fail("long-lived writer %s did not exit at the end of its input" % name)
        got = w.wait_acks(have + 1, 1)
        self.expect_status("logappend (long-lived %s)" % name, rc, w.stderr(), 0)
        if len(got) != have:
            self.fail("long-lived writer %s printed %s at its end, after every "
                      "record was acknowledged" % (name, rng_b(got[have:])))

    # ---- compaction and retention -----------------------------------------

    def ckpt_min(self):
        v = [c for n, c in self.m.consumers.items() if n not in self.m.bad_ckpt]
        return min(v) if v else None

    def lw_stop_all(self):
        """Item 1 makes a long-lived writer give offsets again once
        compaction or salvage removed or emptied the segment after its
        own: with --tolerate 1, none is left running across them."""
        if "1" in self.tol:
            for name in sorted(self.lws):
                self.a_lwstop(name)

    def compact_plain(self):
        self.a_compact(plain=True)

    def a_compact(self, concurrent=False, plain=False):
        r = self.rng
        m = self.m
        if not plain:
            self.lw_stop_all()
        grace = r.choice(["1h", "1h", "1ms"]) if not plain else "1h"
        argv = ["logcompact", "-k", "-g", grace]
        keep = not plain and r.random() < 0.3
        if keep:
            argv.append("-u")
        if not plain and r.random() < 0.3:
            argv += ["-m", "4K"]
        if not plain and r.random() < 0.3:
            argv.append("-v")
        argv.append(self.L)
        before = set(m.present)
        bases = list(m.bases)
        minck = self.ckpt_min() if keep else None
        gms = 3600000 if grace == "1h" else 1
        if concurrent and keep and self.capply:
            # A following consumer moves its checkpoint meanwhile: -u would
            # keep less than the model's lowest checkpoint says.
            argv.remove("-u")
            keep, minck = False, None
        # -k reads every checkpoint too (a tombstone goes only once every
        # consumer is past it): a damaged one stops the run.
        refuse = bool(m.bad_ckpt)
        if refuse:
            minck = 0   # a damaged checkpoint: nothing may go
        if concurrent:
            self.note(self.cmdline(argv, None, " &"))
            self.nproc += 1
            p = subprocess.Popen(argv, cwd=self.work, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            old = self.a_append(concurrent_with=lambda: None)
            try:
                out, err = p.communicate(timeout=WAIT * 2)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                self.fail("%s hung" % self.cmdline(argv))
            rc, err = p.returncode, err.decode(errors="replace")
            new = set(range(old, m.end))
        else:
            rc, out, err = self.run(argv)
            new = set()
        tend = now_ms()
        what = self.cmdline(argv)
        damaged = any(b.kind == "damage" for b in m.barriers)
        lost = any(b.kind == "lost" for b in m.barriers)
        want = (0, 1) if damaged or lost else 0
        if refuse:
            want = 1
        self.expect_status(what, rc, err if rc else "", want)
        # What is left, read back: the properties of a compaction.
        self.reconcile(min(new) if new else None, max(new) if new else None,
                       may_vanish=("any",))
        rcr, frames, errr = self.read_all()
        got = {f[0]: f for f in frames}
        union = before | new
        ok_stop = None
        if rcr != 0:
            offs, bar, alts = m.view(m.begin())
            if bar is None:
                self.fail("after %s: logcat exits %d: %s" % (what, rcr, errr.strip()))
            ok_stop = bar.lo
        visible = set(o for o in union if ok_stop is None or o < ok_stop)
        for f in frames:
            if f[0] not in union:
                self.fail("after %s: offset %d is there, which the model does "
                          "not have" % (what, f[0]))
            self.check_rec("logcat after " + what, *f)
        dropped = visible - set(got)
        lat = m.latest(union)
        last_base = bases[-1] if bases else 0
        if concurrent and [b for b in m.bases if b > last_base]:
            # The writer beside it sealed that segment: before the run
            # listed the segments, or after (then the run leaves it).
            last_base = min(b for b in m.bases if b > last_base)
        for o in sorted(dropped):
            rec = m.hist[o]
            why = None
            if o >= last_base:
                why = "it is in the last segment, which compaction never touches"
            elif rec.key is None:
                why = "it has no key"
            elif minck is not None and o >= minck:
                why = "-u keeps everything from the lowest checkpoint %d on" % minck
            elif lat.get(rec.key) == o:
                if rec.value is not None:
                    why = "it is the latest record of key %r" % rec.key
                elif tend - rec.t0 < gms:
                    why = ("it is the latest record of key %r, a tombstone "
                           "appended %d ms ago, within the grace of %s "
                           "(issue 20 item 6%s)" % (
                               rec.key, tend - rec.t0, grace,
                               ": its own timestamp is %d" % rec.ts
                               if rec.ts is not None else ""))
            if why:
                self.fail("%s dropped offset %d (%s): %s" % (what, o, rec.show(), why))
        m.drop(dropped)
        # A segment may go only when none of its records is left.
        for b in set(bases) - set(m.bases):
            i = bases.index(b)
            hi = bases[i + 1] if i + 1 < len(bases) else float("inf")
            left = [o for o in m.present if b <= o < hi]
            if left:
                self.fail("%s removed %020d.log, which held offsets %s" % (
                    what, b, rng(left)))
        return rc

    def a_concurrent(self):
        if self.rng.random() < 0.5:
            self.a_compact(concurrent=True)
        else:
            self.writers_at_once()

    def writers_at_once(self):
        """Two to four `logappend -p` at once: their batches interleave
        whole, each keeps its input's order, the offsets stay dense."""
        r = self.rng
        m = self.m
        procs = []
        for i in range(r.randint(2, 4)):
            fmt = r.choice(["textk", "json", "bin"])
            recs, how = self.gen_recs(fmt, r.randint(1, 40))
            argv = ["logappend", "-p"] + (["-N"] if r.random() < 0.3 else []) + \
                {"textk": ["-K", ","], "json": ["-J"], "bin": ["-B"]}[fmt] + [self.L]
            stdin = self.save_input(b"".join(encode(fmt, recs, how)))
            self.note(self.cmdline(argv, stdin, " >out.%d &" % i))
            procs.append((argv, recs, stdin))
        self.note("wait")
        t0 = now_ms()
        running = []
        for argv, recs, stdin in procs:
            self.nproc += 1
            running.append(subprocess.Popen(
                argv, cwd=self.work, stdin=open(os.path.join(self.work, stdin), "rb"),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        outs = []
        for p in running:
            try:
                out, err = p.communicate(timeout=WAIT * 2)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                self.fail("logappend (one of several at once) hung")
            outs.append((p.returncode, out, err.decode(errors="replace")))
        t1 = now_ms()
        refuse = self.writer_refuses()
        taken = {}
        for (argv, recs, stdin), (rc, out, err) in zip(procs, outs):
            what = self.cmdline(argv, stdin)
            if refuse:
                self.expect_status(what, rc, err, 1, item=4)
                continue
            self.expect_status(what, rc, err, 0)
            acks = [int(a) for a in out.split()]
            if len(acks) != len(recs) or acks != sorted(acks):
                self.fail("%s printed %s for %d records" % (what, rng(acks), len(recs)))
            for off, rec in zip(acks, recs):
                if off in taken or off < m.end:
                    self.fail("%s: offset %d given twice (issue 20 item 1)" % (what, off))
                taken[off] = rec
        if not taken:
            return
        old = m.end
        want = list(range(old, old + len(taken)))
        if sorted(taken) != want:
            self.fail("writers at once took offsets %s; the model expects %s, dense" % (
                rng(sorted(taken)), rng(want)))
        for off in want:
            rec = taken[off]
            rec.t0, rec.t1 = t0, t1
            m.hist[off] = rec
            m.add(off)
        m.end = old + len(taken)
        self.reconcile(old, m.end)

    def a_retain(self):
        r = self.rng
        m = self.m
        keep = "7" in self.tol or r.random() < 0.4
        bases = list(m.bases)
        sizes = [os.stat(self.seg_path(b)).st_size for b in bases]
        total = sum(sizes)
        if r.random() < 0.6:
            n = r.randint(0, max(1, m.end - m.begin()))
            argv, mode = ["logcompact", "-r", str(n)], ("r", n)
        else:
            b = r.randint(0, max(1, total))
            argv, mode = ["logcompact", "-b", str(b)], ("b", b)
        minck = self.ckpt_min() if keep else None
        if keep:
            argv.append("-u")
        argv.append(self.L)
        refuse = keep and bool(m.bad_ckpt)

        def dropped(end):
            k, left = 0, total
            for i in range(len(bases) - 1):
                nxt = bases[i + 1]
                if mode[0] == "r":
                    why = end >= nxt and end - nxt >= mode[1]
                else:
                    why = left > mode[1]
                if not why or (minck is not None and nxt > minck):
                    break
                left -= sizes[i]
                k += 1
            return k

        k = lo = dropped(m.end)
        if m.damaged_last() and bases:
            # Damage in the last segment may hide where the log ends (when
            # no index entry after it lets a reader pass it): the run then
            # counts from that segment's start, keeping at least as much.
            lo = dropped(bases[-1])
        if refuse:
            k = lo = 0  # a damaged checkpoint stops the run: nothing goes
        rc, out, err = self.run(argv)
        what = self.cmdline(argv)
        self.expect_status(what, rc, err, 1 if refuse else 0)
        obs = self.observe()
        for j in range(lo, k + 1):
            if obs == bases[j:]:
                k = j
                break
        else:
            self.fail("%s left segments %s; the model expects %s (dropping %s)" % (
                what, segs(obs), segs(bases[k:]), segs(bases[:k])))
        gone = bases[:k]
        self.reconcile(may_vanish=gone)
        if k:
            nb = bases[k]
            m.drop([o for o in m.present if o < nb])
            m.ret_begin = max(m.ret_begin, nb)
            m.barriers = [b for b in m.barriers if b.hi >= nb]
            m.soft = set(x for x in m.soft if x >= nb)

    # ---- logfsck ----------------------------------------------------------

    def a_repair(self):
        self.fsck(["logfsck", "-r", self.L])

    def a_salvage(self):
        self.fsck(["logfsck", "-s", self.L])

    def fsck(self, argv):
        m = self.m
        if "-s" in argv:
            self.lw_stop_all()
        rc, out, err = self.run(argv)
        what = self.cmdline(argv)
        salvage = "-s" in argv
        out = out.decode(errors="replace")
        damage = [b for b in m.barriers if b.kind == "damage"]
        lost = [b for b in m.barriers if b.kind == "lost"]
        fixed = []
        for b in damage:
            if not salvage:
                continue
            seg = "%020d.log" % b.seg
            named = [(int(x), int(y or x)) for l in out.splitlines() if seg in l
                     for x, y in re.findall(
                         r"offsets? (\d+)(?: to (\d+))? lost", l)]
            if not any(x <= b.lo and b.hi <= y for x, y in named):
                self.fail("%s: no line names offsets %d to %d lost in %s (%r); "
                          "stdout: %s" % (what, b.lo, b.hi, seg, b, out.strip()))
            fixed.append(b)
        remain = lost if salvage else damage + lost
        if lost and (rc == 0 or (salvage and rc == 1 and m.bad_ckpt)):
            # A lost segment accepted as a loss (a damaged checkpoint,
            # never repaired, still makes the exit 1): a line must name its
            # offsets (in one range with damage just before, maybe).
            ranges = [(int(x), int(y or x)) for x, y in re.findall(
                r"offsets? (\d+)(?: to (\d+))? (?:lost|recorded as lost)", out)]
            for b in lost:
                if not any(x <= b.lo and b.hi <= y for x, y in ranges):
                    self.fail("%s: exit 0, but the lost segment %r is not named: %s"
                              % (what, b, out.strip()))
                fixed.append(b)
            remain = [] if salvage else damage
        # A damaged checkpoint is reported, never guessed at: it remains.
        self.expect_status(what, rc, err, 1 if remain or m.bad_ckpt else 0,
                           item=3 if lost and rc == 0 else None,
                           noisy=bool(damage or lost or m.soft))
        for b in fixed:
            m.barriers.remove(b)
            if b.kind == "damage":
                m.drop(range(b.lo, b.hi + 1))
            else:
                b.saved = None
        m.soft = set()
        # Salvage records a lost range as a hole segment where the range
        # begins (issue 20 item 3): a segment may appear inside it.
        holes = [b for b in fixed if b.kind == "lost"]
        self.reconcile(appear=[(b.lo, b.hi) for b in holes])

    # ---- consumers --------------------------------------------------------

    CONSUMERS = ["c1", "c2", "c3"]

    def spec(self):
        """An offset specification and the offsets it may resolve to (as a
        start): a list, since -N has two readings (offsets or records).
        Sets self.spec_may_fail when resolving it may meet damage or a lost
        segment, which the tool may then report (exit 1) instead."""
        r = self.rng
        m = self.m
        offs = m.offsets()
        bars = m.barriers
        endfail = bool(m.damaged_last())
        self.spec_may_fail = False
        x = r.random()
        if x < 0.3:
            first = offs[0] if offs else m.end
            # (logcheckpoint -s checks any offset against the end.)
            self.spec_may_fail = endfail
            return "beginning", list(range(m.begin(), first + 1)) or [m.end]
        if x < 0.45:
            self.spec_may_fail = endfail
            return "end", [m.end]
        if x < 0.7:
            n = r.randint(m.begin(), m.end)
            self.spec_may_fail = endfail
            return str(n), [n] + [o for o in offs if o >= n][:1]
        if x < 0.85:
            n = r.randint(1, 30)
            a = max(m.begin(), m.end - n)
            cands = [a] + [o for o in offs if o >= a][:1]
            if len(offs) >= n:
                cands.append(offs[-n])
            elif offs:
                cands.append(offs[0])
            self.spec_may_fail = endfail
            return "-%d" % n, cands
        unreadable = set()
        for b in bars:
            if b.kind == "damage":
                unreadable.update(range(b.lo, b.hi + 1))
        tss = [m.hist[o].ts for o in offs if m.hist[o].ts is not None]
        t = r.choice(tss) + r.choice([-1, 0, 0, 1]) if tss else now_ms()
        first = [o for o in offs if m.hist[o].ts is not None and m.hist[o].ts >= t
                 and o not in unreadable]
        ans = first[0] if first else m.end
        self.spec_may_fail = any(b.lo < ans for b in bars) or endfail
        return "s@%d" % t, [ans]

    def consumer_file(self, name):
        g = self.gen.setdefault(name, 1)
        return "apply/%s.%d" % (name, g)

    def a_consume(self):
        """logapply run once, as cron runs it."""
        r = self.rng
        m = self.m
        name = r.choice(self.CONSUMERS)
        base = self.consumer_file(name)
        argv = ["logapply", "-q", "-B"]
        b = r.choice([1, 3, 10, 1000])
        argv += ["-b", str(b)]
        spec = None
        may_fail = False
        if name not in m.consumers and r.random() < 0.5:
            spec, starts = self.spec()
            may_fail = self.spec_may_fail
            argv += ["-o", spec]
        argv += [self.L, name, "--", "./apply.sh", base]
        if name in self.capply or name in m.bad_ckpt:
            # Held by a running logapply, or damaged: refused, nothing done.
            rc, out, err = self.run(argv)
            self.expect_status(self.cmdline(argv), rc, err, 1)
            frames, batches = self.applied_new(name)
            if frames:
                self.fail("%s applied %s with its checkpoint %s" % (
                    self.cmdline(argv), rng([f[0] for f in frames]),
                    "damaged" if name in m.bad_ckpt else "held"))
            return
        if name in m.consumers:
            starts = [m.consumers[name]]
        elif spec is None:
            starts = [m.begin()] + ([m.offsets()[0]] if m.offsets() else [])
        rc, out, err = self.run(argv)
        what = self.cmdline(argv)
        frames, batches = self.applied_new(name)
        ck = self.read_ckpt(name)
        if name in m.consumers and m.consumers[name] < m.ret_begin:
            if rc == 0 or frames:
                self.fail("%s: consumer %s at checkpoint %d, below the log's "
                          "beginning %d after retention, applied %d records from "
                          "%s with exit %d; it must stop with exit 1 naming the "
                          "lost range (issue 20 item 7)" % (
                              what, name, m.consumers[name], m.ret_begin, len(frames),
                              frames[0][0] if frames else "-", rc))
            self.expect_status(what, rc, err, 1)
            if ck != m.consumers[name]:
                self.fail("%s moved checkpoint %d to %s" % (what, m.consumers[name], ck))
            return
        if may_fail and rc == 1 and not frames and ck is None:
            self.expect_status(what, rc, err, 1)
            return      # -o met damage while resolving: nothing done
        errs = []
        for s in sorted(set(starts)):
            try:
                self.check_applied(what, rc, err, frames, batches, s, b, ck)
                break
            except Disagree as e:
                errs.append(str(e))
        else:
            self.fail(errs[0])
        m.consumers[name] = ck

    def applied_new(self, name, upto=None):
        """The frames and batch lines the handler of NAME wrote since the
        last look."""
        base = self.consumer_file(name)
        path = os.path.join(self.work, base + ".data")
        bpath = os.path.join(self.work, base + ".batches")
        pos, bpos = self.applied.get(name, (0, 0))
        data = open(path, "rb").read() if os.path.exists(path) else b""
        bl = open(bpath).read().splitlines() if os.path.exists(bpath) else []
        frames, npos = unframe(data, pos)
        if npos != len(data):
            self.fail("consumer %s: its handler's input ends inside a frame" % name)
        self.applied[name] = (npos, len(bl))
        return frames, [tuple(map(int, l.split())) for l in bl[bpos:]]

    def read_ckpt(self, name):
        rc, out, err = self.run(["logcheckpoint", self.L, name], quiet=True)
        if rc == 1 and "no such consumer" in err:
            return None
        if rc == 1 and self.m.damaged_last() and out.split():
            return int(out.split()[0])   # damage hides the end: lag unknown
        if rc == 1 and "is below the beginning" in err and out.split():
            return int(out.split()[0])   # shown, with a warning
        if rc != 0:
            self.fail("logcheckpoint %s %s: exit %d: %s" % (self.L, name, rc, err.strip()))
        return int(out.split()[0])

    def check_applied(self, what, rc, err, frames, batches, start, bsize, ck):
        m = self.m
        offs, bar, alts = m.view(start)
        got = [f[0] for f in frames]
        for o, b in [(offs, bar)] + alts:
            if got == o and rc == (1 if b else 0):
                break
        else:
            self.fail("%s: applied %s with exit %d; the model expects %s from %d "
                      "with exit %d%s%s" % (
                          what, rng(got), rc, rng(offs), start, 1 if bar else 0,
                          " (stopping at %r)" % bar if bar else "",
                          "; stderr: " + err.strip() if err.strip() else ""))
        for f in frames:
            self.check_rec(what, *f)
        # Batches: each its FIRST and LAST, in order, at most -b records.
        i = 0
        for first, last in batches:
            n = 0
            while i < len(got) and got[i] <= last:
                if n == 0 and got[i] != first:
                    self.fail("%s: a batch with LOGAPPLY_FIRST=%d starts at %d" % (
                        what, first, got[i]))
                n += 1
                i += 1
            if n == 0 or got[i - 1] != last or n > bsize:
                self.fail("%s: batch %d-%d holds %d records (-b %d)" % (
                    what, first, last, n, bsize))
        if i != len(got):
            self.fail("%s: records applied outside the batches named" % what)
        lim = b.lo if b else m.end
        lo = got[-1] + 1 if got else start
        if ck is None or not (lo <= ck <= max(lim, lo)):
            self.fail("%s: checkpoint %s after applying %s; the model expects "
                      "%d..%d" % (what, ck, rng(got), lo, max(lim, lo)))

    def a_capply(self):
        """Start a following consumer (logapply -f), or stop one."""
        r = self.rng
        m = self.m
        if self.capply and r.random() < 0.4:
            name = r.choice(sorted(self.capply))
            c = self.capply[name]
            self.quiesce()
            self.note("kill -TERM %%logapply-%s; wait" % name)
            c.kill(signal.SIGTERM)
            del self.capply[name]
            self.settle_capply(name, c, final=True)
            return
        free = [n for n in self.CONSUMERS if n not in self.capply]
        if not free:
            return
        name = r.choice(free)
        if name in m.bad_ckpt or (name in m.consumers and
                                  m.consumers[name] < m.ret_begin):
            return      # a_consume covers it
        base = self.consumer_file(name)
        argv = ["logapply", "-f", "-q", "-B", "-b", str(r.choice([1, 5, 100])),
                self.L, name, "--", "./apply.sh", base]
        if name in m.consumers:
            start = m.consumers[name]
        else:
            start = m.begin()
        self.note(self.cmdline(argv, None, " &"))
        self.nproc += 1
        c = Reader(self, "apply-" + name, argv, base + ".data", start, consumer=name)
        c.bsize = int(argv[5])
        c.ckpt = start
        self.capply[name] = c

    def settle_capply(self, name, c, final=False):
        """Check what the following consumer NAME applied since the last
        look; FINAL: it has been stopped."""
        m = self.m
        frames, batches = self.applied_new(name)
        what = "logapply -f %s" % name
        start = c.ckpt
        fresh = getattr(c, "fresh", True)
        offs, bar, alts = m.view(start, rescan=fresh)
        got = [f[0] for f in frames]
        dead = c.proc.poll()
        for f in frames:
            self.check_rec(what, *f)
        # Damage before its start in its segment: at its start it may
        # meet it and stop with nothing applied.
        early = [b for o, b in alts if not o and b.kind == "damage"]
        if dead is not None and not got and early and c.proc.returncode == 1:
            offs, bar = [], early[0]
        want = offs
        # A record compaction removed while the consumer ran may have been
        # applied before it went (logcat -f followers are checked so too):
        # the rest must be the model's, in order, none skipped.
        have = set(offs)
        gone = [o for o in got if o not in have and o in m.hist]
        seen = [o for o in got if o in have]
        if got != sorted(set(got)) or seen != want[:len(seen)] or \
                len(seen) + len(gone) != len(got):
            self.fail("%s applied %s; the model expects %s from %d" % (
                what, rng(got), rng(want), start))
        if len(seen) < len(want) and not final:
            self.fail("%s applied %s of %s%s" % (
                what, rng(got), rng(want), " and exited %d: %s" % (
                    c.proc.returncode, c.stderr().strip()) if dead is not None
                else " within %ds" % WAIT))
        ck = self.read_ckpt(name)
        deadline = time.monotonic() + WAIT
        while ck is None and dead is None and time.monotonic() < deadline:
            time.sleep(0.02)    # a new consumer: logapply creates it
            ck = self.read_ckpt(name)
            dead = c.proc.poll()
        if got:
            c.ckpt = got[-1] + 1
            c.fresh = False
        if dead is not None:
            rc = c.proc.returncode
            err = c.stderr()
            self.expect_status(what, rc, err, (0, 1) if final and not bar else
                               (1 if bar else 0))
            if not final:
                self.capply.pop(name, None)
        elif not bar and not early:
            # Caught up, running: it will not rescan.  (With damage before
            # its start in its segment it may still be finding its start,
            # as a consumer with nothing to apply looks the same.)
            c.fresh = False
        lo = c.ckpt
        hi = bar.lo if bar else m.end
        if ck is None or not (lo <= ck <= max(lo, hi)):
            self.fail("%s: checkpoint %s after applying up to %s; the model "
                      "expects %d..%d" % (what, ck, got[-1] if got else "-", lo, hi))
        m.consumers[name] = ck
        c.ckpt = ck

    def a_follow(self):
        """Start a follower (logcat -f), or stop one."""
        r = self.rng
        m = self.m
        if self.followers and (len(self.followers) >= 3 or r.random() < 0.3):
            name = r.choice(sorted(self.followers))
            f = self.followers.pop(name)
            self.quiesce_follower(name, f)
            self.note("kill %%logcat-%s" % name)
            f.kill(signal.SIGTERM)
            return
        name = "f%d" % (len(self.followers) + sum(self.counts.values()))
        argv = ["logcat", "-f", "-B"]
        may_fail = False
        x = r.random()
        if x < 0.2 and m.consumers:
            c = r.choice(sorted(m.consumers))
            if m.consumers[c] < m.ret_begin or c in self.capply or c in m.bad_ckpt:
                return
            argv += ["-g", c]
            starts = [m.consumers[c]]
        elif x < 0.7:
            spec, starts = self.spec()
            may_fail = self.spec_may_fail
            argv += ["-o", spec]
        else:
            starts = [m.begin()]
        argv.append(self.L)
        out = "follow/%s" % name
        os.makedirs(os.path.join(self.work, "follow"), exist_ok=True)
        self.note(self.cmdline(argv, None, " >%s &" % out))
        self.nproc += 1
        f = Reader(self, name, argv, out, min(starts))
        f.starts = starts
        f.may_fail = may_fail
        self.followers[name] = f

    # ---- checkpoints ------------------------------------------------------

    def a_ckpt(self):
        r = self.rng
        m = self.m
        name = r.choice(self.CONSUMERS)
        cur = m.consumers.get(name)
        held = name in self.capply
        x = r.random()
        argv = ["logcheckpoint"]
        may_fail = False
        if x < 0.35:
            spec, cands = self.spec()
            may_fail = self.spec_may_fail
            argv += ["-s", spec]
            op = ("s", cands)
        elif x < 0.55:
            n = r.randint(-20, 20)
            if "7" in self.tol and cur is not None:
                n = max(n, m.begin() - cur)     # not below the beginning
            argv += ["-S", str(n)]
            op = ("S", n)
        elif x < 0.65:
            argv += ["-d"]
            op = ("d", None)
        elif x < 0.85:
            t = r.choice([None, "end", str(r.randint(m.begin(), m.end + 2))])
            argv += ["-w", "-T", "0.2"]
            if t:
                argv += ["-o", t]
            op = ("w", t)
        else:
            argv += ["-n", "-S", str(r.randint(-5, 5))]
            op = ("n", int(argv[-1]))
        iff = None
        if op[0] in ("s", "S", "d") and r.random() < 0.25:
            iff = cur if r.random() < 0.6 else (cur or 0) + 1
            argv[1:1] = ["-i", "none" if iff is None else str(iff)]
        argv += [self.L, name]
        rc, out, err = self.run(argv)
        what = self.cmdline(argv)
        out = out.decode(errors="replace")
        kind = op[0]
        if name in m.bad_ckpt:
            # A damaged checkpoint is an error for everything but setting
            # it again (-s) and deleting it (-d), which repair it.
            if kind == "s" and may_fail and rc != 0:
                self.expect_status(what, rc, err, 1)    # damage met: data
            elif kind == "s" and "-i" not in argv:
                self.expect_status(what, rc, err, 0 if any(
                    m.begin() <= c <= m.end for c in op[1]) else 2)
                if rc == 0:
                    m.bad_ckpt.discard(name)
                    ck = self.read_ckpt(name)
                    if ck not in op[1]:
                        self.fail("%s set %s; the model expects %s" % (
                            what, ck, " or ".join(map(str, sorted(set(op[1]))))))
                    m.consumers[name] = ck
            elif kind == "d" and "-i" not in argv:
                self.expect_status(what, rc, err, 0)
                m.bad_ckpt.discard(name)
                del m.consumers[name]
                self.gen[name] = self.gen.get(name, 1) + 1
                self.applied.pop(name, None)
            else:
                self.expect_status(what, rc, err, 1)
                if "damaged" not in err:
                    self.fail("%s: the error does not say the checkpoint is "
                              "damaged: %s" % (what, err.strip()))
            return
        if kind == "w":
            self.quiesce()
            cur = m.consumers.get(name)
            if cur is None:
                self.expect_status(what, rc, err, 1)
                return
            if rc == 1 and m.damaged_last():
                # Damage in the last segment may hide where the log ends,
                # which the wait checks the checkpoint against: exit 1
                # (logcheckpoint(1), EXIT STATUS).
                self.expect_status(what, rc, err, 1)
                return
            # Without -o: the last record there is now.  -o N: until N's
            # record is applied, N written or not; end names the next
            # record to be written (logcheckpoint(1)).
            if op[1] is None:
                target = m.end
            elif op[1] == "end":
                target = m.end + 1
            else:
                target = int(op[1]) + 1
            want = 0 if cur >= target else 1
            if held and want == 1:
                want = (0, 1)
            self.expect_status(what, rc, err, want)
            return
        if kind in ("n", "S") and rc == 1 and m.damaged_last():
            # Damage in the last segment may hide where the log ends,
            # which a shift is checked against.
            self.expect_status(what, rc, err, 1)
            return
        if kind == "n":
            if held and rc == 1:
                self.expect_status(what, rc, err, 1)
                return
            new = self.shifted(what, rc, err, cur, op[1])
            if new is None:
                return
            if out.split() != [name, str(cur), str(new)]:
                self.fail("%s printed %r; the model expects '%s %d %d'" % (
                    what, out.strip(), name, cur, new))
            return
        if held:
            self.expect_status(what, rc, err, 1)
            return
        if iff is not None or (iff is None and "-i" in argv):
            if iff != cur:
                self.expect_status(what, rc, err, 1)
                return
        if kind == "s":
            cands = op[1]
            if may_fail and rc != 0:
                self.expect_status(what, rc, err, 1)
                return
            bad = [c for c in cands if c > m.end or c < m.begin()]
            if bad and len(bad) == len(cands):
                self.expect_status(what, rc, err, 2)
                return
            self.expect_status(what, rc, err, 0)
            ck = self.read_ckpt(name)
            if ck not in cands:
                self.fail("%s set %s; the model expects %s" % (
                    what, ck, " or ".join(map(str, sorted(set(cands))))))
            m.consumers[name] = ck
        elif kind == "S":
            new = self.shifted(what, rc, err, cur, op[1])
            if new is None:
                return
            m.consumers[name] = new
        elif kind == "d":
            if cur is None:
                self.expect_status(what, rc, err, 1)
                return
            self.expect_status(what, rc, err, 0)
            del m.consumers[name]
            self.gen[name] = self.gen.get(name, 1) + 1
            self.applied.pop(name, None)

    # ---- faults -----------------------------------------------------------

    def a_damage(self):
        """Flip one byte of a batch: of a sealed segment, or of the last one
        (not its last batch, which would read as a torn tail) when no
        long-lived writer holds it."""
        r = self.rng
        m = self.m
        ok = [n for n in sorted(m.consumers) if n not in self.capply and
              n not in m.bad_ckpt]
        if ok and r.random() < 0.2:
            # A checkpoint's turn: one bit of its 64 bytes.
            name = r.choice(ok)
            at, bit = r.randrange(64), 1 << r.randrange(8)
            self.note("./flip L/consumers/%s.ckpt %d %d" % (name, at, bit))
            path = os.path.join(self.ldir, "consumers", name + ".ckpt")
            with open(path, "r+b") as f:
                f.seek(at)
                c = f.read(1)[0]
                f.seek(at)
                f.write(bytes([c ^ bit]))
            m.bad_ckpt.add(name)
            return
        cands = []
        damaged = set((b.seg, b.pos) for b in m.barriers if b.kind == "damage")
        for base in m.bases:
            last = base == m.bases[-1]
            if last and (self.lws or "4" in self.tol):
                continue
            bl = batches(self.seg_path(base))
            if last:
                bl = bl[:-1]
            if self.lws and "4" in self.tol:
                # A long-lived writer refuses damage in the segment it
                # holds even once it is sealed (see the report).
                break
            for bt in bl:
                if (base, bt[0]) not in damaged:
                    cands.append((base, bt))
        if not cands:
            return
        base, (pos, length, lo, hi) = r.choice(cands)
        at = pos + r.randrange(length)
        bit = 1 << r.randrange(8)
        path = self.seg_path(base)
        self.note("./flip L/%020d.log %d %d" % (base, at, bit))
        with open(path, "r+b") as f:
            f.seek(at)
            c = f.read(1)[0]
            f.seek(at)
            f.write(bytes([c ^ bit]))
        m.barriers.append(Barrier("damage", lo, hi, base, pos))
        m.soft.add(base)

    def a_index(self):
        """Delete, damage, cut or swap an index: a cache, which changes no
        reader's answer."""
        r = self.rng
        m = self.m
        if not m.bases:
            return
        base = r.choice(m.bases)
        p = self.seg_path(base, ".index")
        if not os.path.exists(p):
            return
        how = r.choice(["rm", "flip", "cut", "swap"])
        if how == "rm":
            self.note("rm L/%020d.index" % base)
            os.unlink(p)
        elif how == "flip":
            size = os.path.getsize(p)
            if size == 0:
                return
            at = r.randrange(size)
            self.note("./flip L/%020d.index %d 16" % (base, at))
            with open(p, "r+b") as f:
                f.seek(at)
                c = f.read(1)[0]
                f.seek(at)
                f.write(bytes([c ^ 0x10]))
        elif how == "cut":
            size = os.path.getsize(p)
            n = r.randrange(size + 1)
            self.note("truncate -s %d L/%020d.index" % (n, base))
            os.truncate(p, n)
        else:
            other = r.choice(m.bases)
            q = self.seg_path(other, ".index")
            if other == base or not os.path.exists(q):
                return
            self.note("cp L/%020d.index L/%020d.index" % (other, base))
            with open(q, "rb") as f:
                data = f.read()
            with open(p, "wb") as f:
                f.write(data)
        m.soft.add(base)

    def a_delete(self):
        """Delete or rename a segment from the middle: a lost range."""
        r = self.rng
        m = self.m
        if len(m.bases) < 3 or "3" in self.tol:
            return
        base = r.choice(m.bases[1:-1])
        if any(b.seg == base for b in m.barriers):
            return
        i = m.bases.index(base)
        nxt = m.bases[i + 1]
        saved = os.path.join(self.work, "outside", "%020d.log" % base)
        rename = r.random() < 0.4
        if rename:
            dst = self.seg_path(base, ".log.old")
            self.note("mv L/%020d.log L/%020d.log.old" % (base, base))
            os.rename(self.seg_path(base), dst)
            saved = dst
        else:
            self.note("mv L/%020d.log outside/  # as rm, kept to be put back" % base)
            os.rename(self.seg_path(base), saved)
            if r.random() < 0.5 and os.path.exists(self.seg_path(base, ".index")):
                self.note("rm L/%020d.index" % base)
                os.unlink(self.seg_path(base, ".index"))
        recs = sorted(o for o in m.present if base <= o < nxt)
        b = Barrier("lost", base, nxt - 1, base, saved=saved)
        b.recs = recs
        m.barriers.append(b)
        m.drop(recs)
        self.reconcile(may_vanish=(base,))

    def a_restore(self):
        m = self.m
        lost = [b for b in m.barriers if b.kind == "lost" and b.saved]
        if not lost:
            return
        b = self.rng.choice(lost)
        if b.lo < m.begin() or not os.path.exists(b.saved):
            return
        self.note("mv %s L/%020d.log" % (os.path.relpath(b.saved, self.work), b.seg))
        os.rename(b.saved, self.seg_path(b.seg))
        m.barriers.remove(b)
        # A segment deleted while this one was away reached to the one
        # after this; now it ends where this one begins.
        for x in m.barriers:
            if x.kind == "lost" and x.lo < b.seg <= x.hi:
                x.hi = b.seg - 1
        for o in b.recs:
            m.add(o)
        m.soft.add(b.seg)
        obs = self.observe()
        m.bases = sorted(set(m.bases) | {b.seg})
        if obs != m.bases:
            self.fail("after putting %020d.log back, the segments are %s" % (
                b.seg, segs(obs)))

    def a_symlink(self):
        """Plant a symlink where a log file belongs, pointing outside; run
        the tool that would write there; the target must be unchanged."""
        r = self.rng
        m = self.m
        if "2" in self.tol or not m.bases:
            return
        victim = os.path.join(self.work, "outside", "victim")
        rel = "../outside/victim"
        last = m.bases[-1]
        where = r.choice(["index", "ckpt-tmp", "ckpt-lock", "lock", "log"])
        name = r.choice(self.CONSUMERS)
        moved = None
        if where == "index":
            link = self.seg_path(last, ".index")
        elif where == "ckpt-tmp":
            link = os.path.join(self.ldir, "consumers", ".%s.tmp" % name)
            rel = "../" + rel
        elif where == "ckpt-lock":
            link = os.path.join(self.ldir, "consumers", "%s.lock" % name)
            rel = "../" + rel
        elif where == "lock":
            link = os.path.join(self.ldir, "lock")
        else:
            link = self.seg_path(last)
            victim = os.path.join(self.work, "outside", "segment")
            rel = "../outside/segment"
        if where.startswith("ckpt") and name in self.capply:
            return
        if self.lws and where in ("index", "log", "lock"):
            return
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if os.path.lexists(link):
            moved = link + ".model-saved"
            os.rename(link, moved)
        if where == "log":
            os.rename(moved, victim)
            moved = None
            with open(victim, "rb") as f:
                self.victims[victim] = hashlib.sha256(f.read()).hexdigest()
        lrel = os.path.relpath(link, self.work)
        self.note("ln -s %s %s" % (rel, lrel))
        os.symlink(rel, link)
        # The tool that would write there.
        if where in ("ckpt-tmp", "ckpt-lock"):
            n = r.randint(m.begin(), m.end)
            argv = ["logcheckpoint", "-s", str(n), self.L, name]
        else:
            argv = ["logappend", "-p", "-K", ",", self.L]
            if where == "index" and r.random() < 0.5:
                argv = ["logfsck", "-r", self.L]
        data = b"k0,through a symlink\n" if argv[0] == "logappend" else None
        t0 = now_ms()
        rc, out, err = self.run(argv, data)
        t1 = now_ms()
        what = self.cmdline(argv)
        for v, h in self.victims.items():
            cur = hashlib.sha256(open(v, "rb").read()).hexdigest() \
                if os.path.exists(v) else None
            if cur != h:
                self.fail("%s wrote to %s through the symlink %s (issue 20 item 2, "
                          "SPEC promise 9)" % (what, os.path.relpath(v, self.work),
                                               lrel))
        is_link = os.path.islink(link)
        # Put the log back as it was (an index logfsck --repair made in
        # the symlink's place is kept: it is the index, rebuilt).
        kept = os.path.lexists(link) and not (where != "index" or is_link or moved)
        if os.path.lexists(link) and not kept:
            os.unlink(link)
        if where == "log":
            os.rename(victim, link)
            del self.victims[victim]
        elif moved:
            os.rename(moved, link)
        if kept:
            self.note("# %s: the index logfsck -r made there is kept" % lrel)
        else:
            self.note("rm %s%s" % (lrel, "; mv back what it replaced" if moved or
                                   where == "log" else ""))
        if where == "log" and rc == 0:
            self.fail("%s: exit 0 with a symlink as its segment %s (SPEC promise 9)"
                      % (what, lrel))
        if rc not in (0, 1, 2):
            self.fail("%s: exit %d: %s" % (what, rc, err.strip()))
        if rc != 0 and not err.strip():
            self.fail("%s: exit %d without a message" % (what, rc))
        # What may be replaced: a leftover temporary file, and an index
        # that logfsck --repair rebuilds (a cache: the symlink is not
        # followed, the victim untouched).
        if rc == 0 and not is_link and where != "ckpt-tmp" and \
                not (where == "index" and argv[0] == "logfsck"):
            self.fail("%s replaced the symlink %s" % (what, lrel))
        if argv[0] == "logappend" and rc == 0:
            if out.split() != [b"%d" % m.end]:
                self.fail("%s printed %r; the model expects %d" % (what, out, m.end))
            rec = Rec(b"k0", b"through a symlink")
            self.appended([rec], m.end, t0, t1)
        if argv[0] == "logcheckpoint" and rc == 0:
            m.consumers[name] = n
            m.bad_ckpt.discard(name)    # -s repairs a damaged one too
        if argv[0] == "logfsck":
            if rc == 0:
                m.soft = set()
        self.reconcile(m.end - 1 if argv[0] == "logappend" and rc == 0 else None,
                       m.end)

    def a_plain(self):
        """A plain file is not a log; a non-empty directory without a
        settings file is not taken over (item 8)."""
        r = self.rng
        if "8" in self.tol:
            return
        x = r.random()
        if x < 0.4:
            argv = [r.choice(["logcat", "logstat", "logfsck", "logseek"]),
                    "outside/plain.txt"] + []
            if argv[0] == "logseek":
                argv.append("end")
            rc, out, err = self.run(argv)
            what = self.cmdline(argv)
            if rc == 0:
                self.fail("%s: exit 0 for a plain file (stdout %r): it is not a log "
                          "(issue 20 item 8)" % (what, out[:60]))
            self.expect_status(what, rc, err, (1, 2), item=8)
        elif x < 0.7:
            d = os.path.join(self.work, "outside", "dir%d" % self.step)
            os.makedirs(d)
            with open(os.path.join(d, "notes.txt"), "w") as f:
                f.write("keep me\n")
            rel = os.path.relpath(d, self.work)
            rc, out, err = self.run(["logappend", rel], b"x\n")
            what = "logappend " + rel
            left = sorted(os.listdir(d))
            if rc == 0 or left != ["notes.txt"]:
                self.fail("%s: exit %d, the directory now holds %s: a non-empty "
                          "directory without settings must be refused (issue 20 "
                          "item 8)" % (what, rc, left))
            self.expect_status(what, rc, err, (1, 2))
        else:
            # A segment read alone: its own records, from its name on.
            m = self.m
            if not m.bases or m.barriers:
                return
            base = r.choice(m.bases)
            i = m.bases.index(base)
            hi = m.bases[i + 1] if i + 1 < len(m.bases) else float("inf")
            argv = ["logcat", "-B", "L/%020d.log" % base]
            rc, out, err = self.run(argv)
            frames, pos = unframe(out)
            want = [o for o in m.offsets() if base <= o < hi]
            got = [f[0] for f in frames]
            if rc != 0 or got != want:
                self.fail("%s: exit %d with %s; the model expects %s" % (
                    self.cmdline(argv), rc, rng(got), rng(want)))
            for f in frames:
                self.check_rec(self.cmdline(argv), *f)

    # ---- comparing every tool with the model after a step -----------------

    def quiesce_follower(self, name, f):
        """Wait until follower F has printed what the model says it can, or
        has exited; check what it printed.  False: it has exited."""
        m = self.m
        deadline = time.monotonic() + WAIT
        while True:
            self.follower_read(name, f)
            pos = f.last + 1 if f.last is not None else max(f.starts)
            offs, bar, alts = m.view(pos, rescan=f.last is None)
            if f.proc.poll() is not None:
                self.follower_read(name, f)
                break
            if not offs and bar is None:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        pos = f.last + 1 if f.last is not None else max(f.starts)
        offs, bar, alts = m.view(pos, rescan=f.last is None)
        what = "follower %s (%s)" % (name, self.cmdline(f.argv))
        if f.proc.poll() is not None:
            rc = f.proc.returncode
            err = f.stderr()
            if f.may_fail and rc == 1 and not f.seen:
                self.expect_status(self.cmdline(f.argv), rc, err, 1)
                return False    # its -o met damage while resolving
            if rc == 1 and not f.seen and err.strip() and any(
                    (not v[0] and v[1] is not None) or
                    any(not o for o, b in v[2])
                    for v in (m.view(s) for s in set(f.starts))):
                return False    # one reading of its start: a barrier first
            if bar is None or rc != 1 or offs:
                self.fail("%s exited %d, having printed %s; the model expects "
                          "%s%s%s" % (
                              what, rc, rng(f.seen),
                              "also " + rng(offs) if offs else "nothing more",
                              " and exit 1 at %r" % bar if bar else ", running on",
                              "; stderr: " + err.strip() if err.strip() else ""))
            return False
        if offs:
            self.fail("%s printed %s, and not %s within %ds" % (
                what, rng(f.seen), rng(offs), WAIT))
        if bar is not None:
            self.fail("%s printed %s and runs on; the model expects exit 1 at "
                      "%r%s" % (what, rng(f.seen), bar, " (issue 20 item 3)"
                                if bar.kind == "lost" else ""))
        return True

    def follower_read(self, name, f):
        """Check the frames follower F printed since the last look: in
        order, once, nothing that the log has skipped."""
        data = open(f.path, "rb").read()
        frames, f.pos = unframe(data, f.pos)
        what = "follower %s (%s)" % (name, self.cmdline(f.argv))
        offs = self.m.offsets()
        for fr in frames:
            off = fr[0]
            if f.last is not None and off <= f.last:
                self.fail("%s printed offset %d after %d: twice or out of order" % (
                    what, off, f.last))
            if f.last is None:
                # Its start: one of the readings of its specification.
                ok = [s for s in f.starts if [o for o in offs if s <= o <= off][:1] == [off]]
                if not ok:
                    self.fail("%s printed %d first; the model expects the first "
                              "record from %s" % (what, off, " or ".join(
                                  map(str, sorted(set(f.starts))))))
                f.start = ok[0]
            else:
                skipped = [o for o in offs if f.last < o < off]
                if skipped:
                    self.fail("%s printed %d after %d: skipped %s, which the log "
                              "has" % (what, off, f.last, rng(skipped)))
            self.check_rec(what, *fr)
            f.last = off
            f.seen.append(off)

    def quiesce(self):
        for name, f in list(self.followers.items()):
            if not self.quiesce_follower(name, f):
                del self.followers[name]
        m = self.m
        for name, c in list(self.capply.items()):
            offs, bar, alts = m.view(c.ckpt, rescan=getattr(c, "fresh", True))
            deadline = time.monotonic() + WAIT
            while True:
                base = self.consumer_file(name)
                path = os.path.join(self.work, base + ".data")
                data = open(path, "rb").read() if os.path.exists(path) else b""
                fr, _ = unframe(data, self.applied.get(name, (0, 0))[0])
                done = [x[0] for x in fr]
                if c.proc.poll() is not None:
                    break
                if (not offs or (done and done[-1] >= offs[-1])) and bar is None:
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            if offs and c.proc.poll() is None:
                # The checkpoint follows the handler: wait for it (-w).
                self.run(["logcheckpoint", "-w", "-o", str(offs[-1]), "-T",
                          str(WAIT), self.L, name], quiet=True)
            self.settle_capply(name, c)

    def check(self):
        m = self.m
        self.quiesce()
        self.reconcile()
        # logcat: everything, from the beginning.
        rc, frames, err = self.read_all()
        self.check_view("logcat -B L", frames, rc, err, m.begin())
        # A read from an offset, sometimes with a count, an end or a key.
        if self.rng.random() < 0.4 and m.end > 0:
            self.check_partial()
        # logfsck
        rc, out, err = self.run(["logfsck", self.L], quiet=True)
        bad = [b for b in m.barriers]
        if m.bad_ckpt:
            self.expect_status("logfsck L", rc, err, 1)
            for n in m.bad_ckpt:
                if "consumers/%s" % n not in err:
                    self.fail("logfsck L does not name consumer %s's damaged "
                              "checkpoint: %s" % (n, err.strip()))
        elif bad:
            self.expect_status("logfsck L", rc, err, 1,
                               item=3 if any(b.kind == "lost" for b in bad) else None)
            for b in bad:
                if b.kind == "damage" and "%020d.log" % b.seg not in err:
                    self.fail("logfsck L does not name %r: %s" % (b, err.strip()))
        elif m.soft:
            if rc not in (0, 1) or (rc == 1 and any(
                    ".index" not in l for l in err.strip().splitlines())):
                self.fail("logfsck L: exit %d: %s (only indexes may be stale)" % (
                    rc, err.strip()))
            if rc == 0:
                m.soft = set()
        else:
            self.expect_status("logfsck L", rc, err, 0)
        self.check_stat()
        self.check_ckpts()
        if not m.barriers and self.rng.random() < 0.5:
            self.check_seek()

    def check_partial(self):
        """logcat -o START [-o END | -c COUNT | -k KEY], or -g NAME."""
        r = self.rng
        m = self.m
        start = r.randint(m.begin(), m.end)
        args = ["-o", str(start)]
        x = r.random()
        end = cnt = key = None
        if x < 0.25 and m.consumers:
            name = r.choice(sorted(m.consumers))
            if name in self.capply:
                return
            start = m.consumers[name]
            args = ["-g", name]
            what = "logcat -B -g %s L" % name
            if name in m.bad_ckpt:
                rc, frames, err = self.read_all(args)
                self.expect_status(what, rc, err, 1)
                if frames:
                    self.fail("%s printed records from a damaged checkpoint" % what)
                return
            if start < m.ret_begin:
                rc, frames, err = self.read_all(args)
                if rc == 0:
                    self.fail("%s: exit 0 (%d records) for consumer %s at %d, below "
                              "the beginning %d after retention: it must say the "
                              "range was lost (SPEC promise 8, issue 20 item 7)" % (
                                  what, len(frames), name, start, m.ret_begin))
                self.expect_status(what, rc, err, 1, item=7)
                return
        elif x < 0.5:
            end = r.randint(start, m.end + 2)
            args += ["-o", str(end)]
        elif x < 0.75:
            cnt = r.randint(0, 20)
            args += ["-c", str(cnt)]
        else:
            key = b"k%d" % r.randrange(self.nkeys)
            args += ["-k", key.decode()]
        what = "logcat -B %s L" % " ".join(args)
        rc, frames, err = self.read_all(args)
        offs, bar, alts = m.view(start)
        answers = [(offs, bar)] + alts
        ok = False
        for o, b in answers:
            stop = b
            either = False
            if end is not None:
                # The end bound comes first unless the barrier is before it
                # (or before the start, met by a reader that rescans); a
                # reader may still read the batch after the end bound to see
                # that it is past it, and meet the damage there.
                if b is not None and b.lo >= end and b.hi >= start:
                    stop = None
                    either = True
                o = [x for x in o if x < end]
            if cnt is not None:
                if len(o) >= cnt:
                    stop = None
                o = o[:cnt]
            if key is not None:
                o = [x for x in o if m.hist[x].key == key]
            want_rc = 1 if stop is not None else 0
            if key is not None and not o:
                want_rc = 1
            got = [f[0] for f in frames]
            if got == o and (rc == want_rc or (either and rc == 1)):
                ok = True
                break
        if not ok:
            o = answers[0][0]
            self.fail("%s: exit %d with %s; the model expects %s%s%s" % (
                what, rc, rng([f[0] for f in frames]),
                rng([x for x in o if (end is None or x < end) and
                     (key is None or m.hist[x].key == key)][:cnt]),
                " and exit 1 at %r" % bar if bar else "",
                "; stderr: " + err.strip() if err.strip() else ""))
        for f in frames:
            self.check_rec(what, *f)
        if rc == 0 and err.strip():
            self.fail("%s: exit 0 but stderr: %s" % (what, err.strip()))

    def check_stat(self):
        m = self.m
        rc, out, err = self.run(["logstat", "-J", self.L], quiet=True)
        if m.damaged_last():
            if rc not in (0, 1):
                self.fail("logstat -J L: exit %d: %s" % (rc, err.strip()))
            return
        damage = [b for b in m.barriers if b.kind == "damage"]
        # A segment missing from the middle is a lost range logstat names
        # (issue 20 item 3), exit 1 with nothing on stdout.
        lost = [b for b in m.barriers if b.kind == "lost" and b.lo >= m.begin()]
        self.expect_status("logstat -J L", rc, err, (0, 1) if damage else
                           1 if m.bad_ckpt or lost else 0)
        if lost and " lost: no segment holds" not in err and not damage:
            self.fail("logstat -J L: no word of the lost range %d-%d: %s" % (
                lost[0].lo, lost[0].hi, err.strip()))
        if rc == 1 and (lost or not m.bad_ckpt or (damage and not out.strip())):
            return      # damage or a lost range made it 1: only that is checked
        try:
            st = json.loads(out)
        except ValueError:
            self.fail("logstat -J L: not JSON: %r" % out[:200])
        offs = m.offsets()
        want = {"end": m.end, "segments": len(m.bases)}
        if not damage:
            want["records"] = len(offs)
        for k, v in want.items():
            if st.get(k) != v:
                self.fail("logstat -J L: %s %s, the model %s" % (k, st.get(k), v))
        # Damage before the first record hides the beginning (null).
        if st.get("begin") not in (m.begin(), offs[0] if offs else m.end) and \
                not (damage and st.get("begin") is None):
            self.fail("logstat -J L: begin %s, the model %d (first record %s)" % (
                st.get("begin"), m.begin(), offs[0] if offs else "-"))
        if offs and not damage and not [b for b in m.barriers if b.kind == "lost"]:
            for k, o in (("first_timestamp", offs[0]), ("last_timestamp", offs[-1])):
                if m.hist[o].ts is not None and st.get(k) != m.hist[o].ts:
                    self.fail("logstat -J L: %s %s, the model %s (offset %d)" % (
                        k, st.get(k), m.hist[o].ts, o))
        cs = {c["consumer"]: c.get("offset", c.get("error")) for c in st.get("consumers", [])}
        want = {k: ("damaged checkpoint" if k in m.bad_ckpt else v)
                for k, v in m.consumers.items()}
        if cs != want:
            self.fail("logstat -J L: consumers %s, the model %s" % (cs, want))

    def shifted(self, what, rc, err, cur, by):
        """A checkpoint CUR moved BY (-n, -S): the new one, or None when
        the run must have failed (no checkpoint: 1; outside the log: 2,
        never set below the beginning, what lies between is gone)."""
        m = self.m
        if cur is None:
            self.expect_status(what, rc, err, 1)
            return None
        new = cur + by
        if new < m.begin() or new > m.end:
            self.expect_status(what, rc, err, 2)
            return None
        self.expect_status(what, rc, err, 0)
        return new

    def check_ckpts(self):
        m = self.m
        rc, out, err = self.run(["logcheckpoint", "-J", self.L], quiet=True)
        # Damage in the last segment may hide where the log ends (when no
        # index entry after it lets a reader pass it): lags unknown, exit 1.
        want = (0, 1) if m.damaged_last() else 0
        good = {k: v for k, v in m.consumers.items() if k not in m.bad_ckpt}
        # Below the beginning (retention removed what it had yet to
        # apply): still listed, with a warning naming it, exit 1.
        below = sorted(k for k, v in good.items() if v < m.begin())
        if m.bad_ckpt or below:
            want = 1
        self.expect_status("logcheckpoint -J L", rc, err, want)
        for n in m.bad_ckpt:
            if "%s: damaged" % n not in err:
                self.fail("logcheckpoint -J L: no word of consumer %s's damaged "
                          "checkpoint: %s" % (n, err.strip()))
        for n in below if not m.damaged_last() else ():   # else: bounds unknown
            if "%s: checkpoint %d is below the beginning" % (n, good[n]) not in err:
                self.fail("logcheckpoint -J L: no word of consumer %s below the "
                          "beginning: %s" % (n, err.strip()))
        got = {}
        for line in out.decode().splitlines():
            o = json.loads(line)
            got[o["consumer"]] = o
        if {k: v["offset"] for k, v in got.items()} != good:
            self.fail("logcheckpoint -J L: %s; the model %s" % (
                {k: v["offset"] for k, v in got.items()}, good))
        if rc == 0 or ((m.bad_ckpt or below) and not m.damaged_last()):
            for k, v in got.items():
                if v["lag"] != m.end - v["offset"]:
                    self.fail("logcheckpoint -J L: %s lag %s, the model %d" % (
                        k, v["lag"], m.end - v["offset"]))

    def check_seek(self):
        m = self.m
        specs, wants = [], []
        for _ in range(3):
            spec, cands = self.spec()
            if spec == "end":
                wants.append(([m.end], 0))
            else:
                # The first record at or after what the spec names.
                offs = m.offsets()
                ans = set()
                for c in cands:
                    nxt = [o for o in offs if o >= c]
                    ans.add(nxt[0] if nxt else m.end)
                st = 0 if all(a < m.end for a in ans) else 1
                wants.append((sorted(ans), st))
            specs.append(spec)
        argv = ["logseek", self.L] + specs
        rc, out, err = self.run(argv, quiet=True)
        got = out.split()
        if len(got) != len(specs):
            self.fail("%s printed %r" % (self.cmdline(argv), out))
        st = 0
        for s, g, (w, ws) in zip(specs, got, wants):
            if int(g) not in w:
                self.fail("%s: %s resolves to %s; the model expects %s" % (
                    self.cmdline(argv), s, g.decode(), " or ".join(map(str, w))))
            if int(g) == m.end and not s.startswith("e") and s != "end":
                st = 1
        self.expect_status(self.cmdline(argv), rc, err, st)


def rng(offs):
    """A short text for a list of offsets: 3-7, 9, 12-15."""
    offs = list(offs)
    if not offs:
        return "none"
    out, lo, prev = [], offs[0], offs[0]
    for o in offs[1:] + [None]:
        if o is not None and o == prev + 1:
            prev = o
            continue
        out.append("%d" % lo if lo == prev else "%d-%d" % (lo, prev))
        if o is not None:
            lo = prev = o
    s = ", ".join(out)
    return s if len(s) < 200 else s[:200] + "..."


def rng_b(acks):
    try:
        return rng([int(a) for a in acks])
    except ValueError:
        return repr(acks)


def segs(bases):
    return "[" + " ".join("%d" % b for b in bases) + "]"


def main():
    p = argparse.ArgumentParser(description="the model-based interleaving test")
    p.add_argument("work")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--seconds", type=float, default=0)
    p.add_argument("--without", default="")
    p.add_argument("--tolerate", default="")
    p.add_argument("--keep-going", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--tail", type=int, default=40)
    a = p.parse_args()
    if a.seed is None:
        a.seed = int.from_bytes(os.urandom(4), "little")
    a.without = [x for x in a.without.split(",") if x]
    a.tolerate = [x for x in a.tolerate.split(",") if x]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    return Harness(a).go()


if __name__ == "__main__":
    sys.exit(main())
