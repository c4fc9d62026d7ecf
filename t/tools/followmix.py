#!/usr/bin/env python3
"""followmix.py - writers, `logcompact -k` in a loop and followers
(`logcat -f`) on one log at once, for issue 20's "one follower skipped a
whole segment": every follower must print every record that the log
still holds at the end, in order, once, byte for byte.

    followmix.py [options] DIR

The log is DIR/L, made of small segments (-s 1K) and first filled with
--prefill segments, so that a listing of the directory takes several
getdents(2) calls and is not a snapshot.  Then, for --seconds: --writers
threads each run `logappend -K ,` again and again (keys k0..k7 and one
record without a key in every batch: compaction never drops that one),
one thread runs `logcompact -k` again and again, and --followers
followers `logcat -f -J -o end L` print into pipes that a thread drains
in bursts, with pauses, so that they fall behind by several segments and
catch up (the state in which a follower lists the directory while
compaction renames the segments ahead of it).  With --slowdir the
followers run with t/shim/slowdir.so, which pauses their listings between
getdents calls; it changes no answer, only the timing.

At the end every follower is let catch up, and its output is compared
with the log (`logcat -J`): offsets strictly increasing; each record it
printed that the log still has identical; and every record the log still
has between its first and its last offset printed.  Compaction only
removes records, so a record the log has at the end was there all along:
a follower that passed its offset without printing it skipped it.

Options: --seconds T (20), --prefill N (600), --writers W (2),
--followers F (2), --slowdir (pause listings), --seed S, --build DIR
(for obj/t/slowdir.so; default $SYNCLOG_BUILD).  Prints one summary line;
exit 1 with the skipped offsets and the segments that hold them.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

KEYS = 8


class Mix:
    def __init__(self, a):
        self.a = a
        self.work = os.path.abspath(a.dir)
        self.L = os.path.join(self.work, "L")
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.errors = []
        self.appended = 0
        self.batches = 0
        self.compactions = 0
        self.rewritten = 0
        self.removed = 0
        self.rng = random.Random(a.seed)

    def error(self, msg):
        with self.lock:
            self.errors.append(msg)
        self.stop.set()

    def run(self, argv, data=None):
        p = subprocess.run(argv, input=data, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        return p.returncode, p.stdout, p.stderr.decode(errors="replace")

    def prefill(self):
        lines = []
        # About 25 records of ~40 bytes fill a 1 KiB segment.
        for i in range(self.a.prefill * 25):
            if i % 9 == 0:
                lines.append("prefill-%d-no-key-xxxxxxxxxxxxxxxx" % i)
            else:
                lines.append("k%d,prefill-%d-xxxxxxxxxxxxxxxxxxxxxxxx" % (i % KEYS, i))
        rc, out, err = self.run(["logappend", "-s", "1K", "-K", ",", self.L],
                                ("\n".join(lines) + "\n").encode())
        if rc != 0:
            raise SystemExit("followmix: prefill: logappend exit %d: %s" % (rc, err))

    def writer(self, wid):
        rng = random.Random(self.a.seed * 31 + wid)
        seq = 0
        while not self.stop.is_set():
            n = rng.randint(1, 24)
            lines = ["w%d-%d-unkeyed" % (wid, seq)]
            seq += 1
            for _ in range(n):
                # Hot keys, superseded at once, and keys of their own, which
                # a later record supersedes now and then: compaction then
                # rewrites old segments here and there, not all in a row.
                key = ("k%d" % rng.randrange(KEYS) if rng.random() < 0.5 else
                       "w%d-%d" % (wid, rng.randrange(max(1, seq))))
                lines.append("%s,w%d-%d-%s" % (key, wid, seq, "y" * rng.randrange(40)))
                seq += 1
            rng.shuffle(lines)
            rc, out, err = self.run(["logappend", "-K", ",", self.L],
                                    ("\n".join(lines) + "\n").encode())
            if rc != 0:
                self.error("writer %d: logappend exit %d: %s" % (wid, rc, err.strip()))
                return
            with self.lock:
                self.appended += len(lines)
                self.batches += 1

    def compactor(self):
        while not self.stop.is_set():
            argv = ["logcompact", "-v", "-k", "-g", "1ms", self.L]
            rc, out, err = self.run(argv)
            if rc != 0:
                self.error("logcompact exit %d: %s" % (rc, err.strip()))
                return
            text = out.decode(errors="replace")
            with self.lock:
                self.compactions += 1
                self.rewritten += sum(1 for l in text.splitlines()
                                      if l.startswith("compact "))
                self.removed += sum(1 for l in text.splitlines()
                                    if l.startswith("compact ") and "-> 0 records" in l)

    def follower(self, i, env):
        out = open(os.path.join(self.work, "follow%d.json" % i), "wb", buffering=0)
        err = open(os.path.join(self.work, "follow%d.err" % i), "wb")
        p = subprocess.Popen(["logcat", "-f", "-J", "-o", "end", self.L],
                             stdout=subprocess.PIPE, stderr=err, env=env)
        rng = random.Random(self.a.seed * 17 + i)

        def drain():
            # Bursts and pauses: the follower blocks on a full pipe and
            # falls behind, then catches up.
            while True:
                b = p.stdout.read1(rng.choice([512, 4096, 65536]))
                if not b:
                    break
                out.write(b)
                if rng.random() < 0.02:
                    time.sleep(rng.uniform(0.05, self.a.lag))
            out.close()
        t = threading.Thread(target=drain, daemon=True)
        t.start()
        return p, t

    def end_offset(self):
        rc, out, err = self.run(["logseek", self.L, "end"])
        if rc != 0:
            raise SystemExit("followmix: logseek end: %s" % err)
        return int(out)

    def go(self):
        a = self.a
        os.makedirs(self.work, exist_ok=True)
        self.prefill()
        env = dict(os.environ)
        if a.slowdir:
            env["LD_PRELOAD"] = os.path.join(a.build, "obj/t/slowdir.so")
            env["SLOWDIR_EVERY"] = "64"
            env["SLOWDIR_USEC"] = "300"
            env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                                   ":verify_asan_link_order=0").lstrip(":")
        fols = [self.follower(i, env) for i in range(a.followers)]
        time.sleep(0.2)     # let them list the directory and reach the end
        start = self.end_offset()
        threads = [threading.Thread(target=self.writer, args=(w,))
                   for w in range(a.writers)]
        threads.append(threading.Thread(target=self.compactor))
        for t in threads:
            t.start()
        self.stop.wait(a.seconds)
        self.stop.set()
        for t in threads:
            t.join()
        end = self.end_offset()
        # Let every follower catch up with the end, then stop it.
        deadline = time.monotonic() + 120
        for i, (p, t) in enumerate(fols):
            path = os.path.join(self.work, "follow%d.json" % i)
            while time.monotonic() < deadline and p.poll() is None:
                last = self.last_offset(path)
                if last is not None and last >= end - 1:
                    break
                time.sleep(0.05)
            if p.poll() is not None:
                self.error("follower %d exited %d: %s" % (
                    i, p.returncode, open(os.path.join(
                        self.work, "follow%d.err" % i)).read().strip()))
            p.send_signal(signal.SIGTERM)
            p.wait()
            t.join()
        rc, out, err = self.run(["logcat", "-J", self.L])
        if rc != 0:
            self.error("logcat -J L: exit %d: %s" % (rc, err.strip()))
        final = {}
        for line in out.splitlines():
            o = json.loads(line)
            final[o["offset"]] = line
        printed = 0
        for i in range(a.followers):
            printed += self.check(i, final, start, end)
        line = ("followmix: %ds, %d writers appended %d records in %d batches "
                "(offsets %d-%d), %d compaction runs rewrote %d segments (%d "
                "emptied), %d followers%s printed %d records" % (
                    a.seconds, a.writers, self.appended, self.batches, start,
                    end - 1, self.compactions, self.rewritten, self.removed,
                    a.followers, " (slow listings)" if a.slowdir else "", printed))
        if self.errors:
            print(line + ": FAILED", file=sys.stderr)
            for e in self.errors:
                print("followmix: " + e, file=sys.stderr)
            return 1
        print(line + ": nothing skipped, nothing twice")
        return 0

    def last_offset(self, path):
        try:
            with open(path, "rb") as f:
                f.seek(0, 2)
                size = f.tell()
                f.seek(max(0, size - 4096))
                tail = f.read().splitlines()
        except OSError:
            return None
        for line in reversed(tail):
            try:
                return json.loads(line)["offset"]
            except ValueError:
                continue
        return None

    def check(self, i, final, start, end):
        path = os.path.join(self.work, "follow%d.json" % i)
        lines = open(path, "rb").read().splitlines()
        offs = []
        for n, line in enumerate(lines):
            o = json.loads(line)["offset"]
            if offs and o <= offs[-1]:
                self.error("follower %d printed offset %d after %d (line %d)" % (
                    i, o, offs[-1], n + 1))
                return len(lines)
            if o in final and final[o] != line:
                self.error("follower %d printed %r; the log has %r" % (
                    i, line, final[o]))
            offs.append(o)
        if not offs:
            self.error("follower %d printed nothing" % i)
            return 0
        seen = set(offs)
        skipped = [o for o in sorted(final) if offs[0] <= o <= offs[-1] and o not in seen]
        if offs[-1] < end - 1:
            self.error("follower %d stopped at %d, the log ends at %d" % (
                i, offs[-1], end - 1))
        if skipped:
            segs = sorted(int(n[:20]) for n in os.listdir(self.L) if n.endswith(".log"))
            where = sorted(set(max(s for s in segs if s <= o) for o in skipped))
            prev = max([o for o in offs if o < skipped[0]], default=None)
            nxt = min([o for o in offs if o > skipped[0]], default=None)
            self.error("follower %d skipped %d records the log still has, first "
                       "%d (it printed %s, then %s), in segments %s" % (
                           i, len(skipped), skipped[0], prev, nxt,
                           " ".join("%020d.log" % s for s in where)))
        return len(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--seconds", type=int, default=20)
    p.add_argument("--prefill", type=int, default=600)
    p.add_argument("--writers", type=int, default=2)
    p.add_argument("--followers", type=int, default=2)
    p.add_argument("--slowdir", action="store_true")
    p.add_argument("--lag", type=float, default=2.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--build", default=os.environ.get("SYNCLOG_BUILD", "."))
    return Mix(p.parse_args()).go()


if __name__ == "__main__":
    sys.exit(main())
