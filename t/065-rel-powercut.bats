#!/usr/bin/env bats
# Power-loss simulation.  t/shim/powercut.c journals every change the
# programs make under a directory; t/tools/powertool.c rebuilds that
# directory as a power cut after any journal entry would have left it
# (file data as of its last sync, directory entries as of their
# directory's last sync; the unsynced rest cut, zeroed, garbage, partly
# kept, all kept) and checks the log of each: it reads, its offsets are
# dense, every acknowledged offset holds its record, the next writer
# recovers it.  Both tools state the model in full at their top.
load helpers
load tools/rel

P=$TTOOLS/powertool
SHIM=$TTOOLS/powercut.so
FSHIM=$TTOOLS/fault.so

teardown() {
	rel_cleanup
}

# records N PREFIX: N lines of various lengths, each unique.
records() {
	local i
	for ((i = 0; i < $1; i++)); do
		printf '%s%d.%*s\n' "$2" "$i" $(((i * 37) % 180)) "" | tr ' ' x
	done
}

# power_run INPUT ARG...: run a command in W under the shim, journal J.
power_run() {
	local input=$1
	shift
	(cd W && "$P" run -P "$SHIM" -r "$(rel_seed)" ${input:+-i "../$input"} \
	    . ../J -- "$@")
}

# power_check SUMMARY [ARG]...: check every crash point of J from base.
power_check() {
	local what=$1
	shift
	rel_scratch
	ok "$P" check -r "$(rel_seed)" -o "$REL_SCRATCH/out" "$@" J base
	rel_summary "$what: $(rel_last_line)"
}

setup_root() {
	mkdir -p W
	cp -a W base
}

@test "power cut: a synced writer keeps every acknowledged record at every crash point" {
	setup_root
	records "$(rel_n 60 400)" a >in
	power_run in logappend -p -s 1K L >acks
	[ "$(wc -l <acks)" -eq "$(wc -l <in)" ]
	power_check "power cut, synced appends with rotation"
}

@test "power cut: pages reaching the disk out of order never cost the durable mode a record" {
	# Many batches in one large segment: each is written only after the
	# one before it is synced, so whichever pages of the last batch the
	# disk kept, the damage is at the end, a torn tail.
	mkdir W
	echo first | logappend -s 64K W/L
	cp -a W base
	records "$(rel_n 150 400)" p >in
	power_run in logappend -p L >acks
	power_check "power cut, synced appends, pages out of order" -m pages
}

@test "power cut: compressed batches appended to an existing log" {
	mkdir W
	seq 1 500 | logappend -s 4K W/L
	cp -a W base
	records "$(rel_n 60 400)" z >in
	power_run in logappend -z -p -s 4K L >acks
	power_check "power cut, compressed appends to an existing log"
}

@test "power cut: with -N the log is a valid prefix, acknowledged or not" {
	# -N never syncs a directory either: only the segment that existed
	# before can keep anything, so it is large and made durably first.
	mkdir W
	echo first | logappend -s 64K W/L
	cp -a W base
	records "$(rel_n 60 400)" n >in
	power_run in logappend -N -p L >acks
	# Every mode but pages, whose holes are the next test's.
	power_check "power cut, -N appends" -N -m cut -m zero -m garbage \
	    -m prefix -m keep -m names
}

@test "power cut: -N batches that reach the disk out of order leave a hole that logfsck --salvage mends" {
	# The durable mode syncs each batch before writing the next, so only
	# the last can be damaged (the pages mode runs in every check above).
	# -N writes many batches before any sync: a disk that keeps a later
	# page and loses an earlier one leaves damage followed by valid data,
	# which readers report, as man logappend says.
	mkdir W
	echo first | logappend -s 64K W/L
	cp -a W base
	# Enough batches for a hole at some crash point, in every build.
	records 300 n >in
	power_run in logappend -N -p L >acks
	expect 1 "$P" check -N -m pages -r "$(rel_seed)" -o R J base
	stderr_has "followed by valid data at byte"
	stderr_has "(rebuilt log kept in R)"
	# R is the directory that crash point left.
	fails 1 logcat R/L
	stderr_has "followed by valid data"
	# (A writer may refuse, or, resuming from an index entry past the
	# hole, append: either way the hole stays until it is mended.)
	expect 0 logfsck --salvage R/L
	stderr_has "followed by valid data"
	grep -q 'set aside as 00000000000000000000.log.damaged' <<<"$output"
	# The records before the hole and after it, in order, offsets kept.
	ok logcat -F '%o %s\n' R/L
	printf '%s\n' "$output" >got
	[ "$(head -n 1 got)" = "0 first" ]
	while read -r o v; do
		[ "$o" = 0 ] || [ "$v" = "$(sed -n "${o}p" in)" ]
	done <got
	ok logfsck R/L
	sh_ok 'echo after | logappend R/L'
	ok logcat -o -1 R/L
	output_is after
}

@test "power cut: the checker catches -N losing acknowledged records" {
	# The model must be able to fail: without syncs, acknowledged
	# offsets are lost when nothing unsynced survives.
	setup_root
	records 30 u >in
	power_run in logappend -N -p L >acks
	expect 1 "$P" check -m cut -o out J base
	stderr_has "acknowledged offset 0 is lost"
}

# sync_race_journal B: a journal J of a writer that writes batch a, begins
# a sync, writes batch b while the sync runs, and acknowledges both when
# it returns; B is the sync entry's "began at" mark (0: none).
sync_race_journal() {
	local seg=00000000000000000000.log
	mkdir W
	logappend W/L </dev/null
	cp -a W base
	cp -a W S
	echo a | logappend S/L
	cp S/L/$seg A
	echo b | logappend S/L
	python3 - "$1" "A" "S/L/$seg" J <<'PY'
import struct, sys
mark, a_path, seg_path, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
a = open(a_path, "rb").read()
ab = open(seg_path, "rb").read()
b = ab[len(a):]
path = b"L/00000000000000000000.log"
PC = dict(WRITE=2, FSYNC=4, INPUT=10, ACK=11)
j = bytearray()
def ent(t, ino=0, x=0, y=0, p=b"", data=b""):
    off = len(j)
    j.extend(struct.pack("<IIIIIIQQQQ", 0x54554350, t, 4242, len(p), 0, 0,
        ino, x, y, len(data)) + p + data)
    return off
ent(PC["INPUT"], data=b"a")
ent(PC["INPUT"], data=b"b")
ent(PC["WRITE"], 77, 0, len(a), path, a)
wb = ent(PC["WRITE"], 77, len(a), len(b), path, b)
ent(PC["FSYNC"], 77, 0, wb + 1 if mark else 0, path)
ent(PC["ACK"], 0, 0, 0, b"", b"0")
ent(PC["ACK"], 0, 1, 0, b"", b"1")
open(out, "wb").write(j)
PY
}

@test "power cut: a sync covers what was written before it began, not what another thread wrote during it" {
	# A writer that acknowledges a batch written while the sync ran
	# (after it began) is caught ...
	sync_race_journal 1
	expect 1 "$P" check -m cut -o out J base
	stderr_has "acknowledged offset 1 is lost"
	# ... which a model that took the sync's end for its beginning
	# would miss (the same journal without the mark passes).
	rm -rf W base S J out
	sync_race_journal 0
	ok "$P" check -m cut -o out J base
}

@test "power cut: a crash while recovering the tail a power cut left" {
	local k mode
	setup_root
	records 60 a >in
	power_run in logappend -p -s 1K L >acks
	k=$("$P" count J)
	mv J J1
	mv base base1
	rel_scratch
	for mode in garbage prefix $(rel_n '' 'zero names'); do
		# The state a cut at two thirds of the run leaves ...
		rm -rf W base J
		ok "$P" replay -m "$mode" -r "$k" J1 base1 W $((k * 2 / 3))
		cp -a W base
		# ... recovered and appended to by the next writer, cut
		# anywhere again.
		records 30 "b$mode" >in2
		power_run in2 logappend -p -s 1K L >acks2
		[ "$(wc -l <acks2)" -eq 30 ]
		power_check "power cut while recovering a $mode tail"
	done
}

@test "power cut: a writer killed before syncing a new entry, then a power cut" {
	# The killed writer created the log, its settings or a segment but
	# never synced their directory: the next writer must, before it
	# acknowledges anything appended there.
	local n
	records 40 a >in
	records 40 b >in2
	for n in 1 2 3 4 $(rel_n '' '5 6 7 8'); do
		rm -rf W base J
		setup_root
		LD_PRELOAD=$FSHIM SYNCLOG_FAULT="fsync@dir:$n:kill" \
		    SYNCLOG_FAULT_EXE=logappend \
		    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		    expect 137 power_run in logappend -p -s 1K L
		power_run in2 logappend -p -s 1K L >acks
		[ "$(wc -l <acks)" -eq 40 ]
		power_check "power cut after a writer killed at directory sync $n" \
		    -m cut -m names
	done
}

@test "power cut: the tools read every rebuilt log and the next writer recovers it" {
	local k n mode
	setup_root
	records 40 a >in
	power_run in logappend -p -s 1K L >acks
	n=$("$P" count J)
	rel_scratch
	for ((k = 0; k <= n; k += $(rel_step 25 3))); do
		for mode in cut garbage $(rel_n '' 'zero prefix keep names'); do
			rm -rf "$REL_SCRATCH/o"
			ok "$P" replay -m "$mode" -r "$k" J base "$REL_SCRATCH/o" "$k"
			printf '%s\n' "$output" | grep . >acked || :
			[ -e "$REL_SCRATCH/o/L/settings" ] || {
				[ ! -s acked ] || return 1
				continue
			}
			ok logcat -F '%o %s\n' "$REL_SCRATCH/o/L"
			printf '%s\n' "$output" | grep . >got || :
			# Every acknowledged offset is there with its record.
			while read -r o; do
				grep -qx "$o $(sed -n "$((o + 1))p" in)" got
			done <acked
			sh_ok "echo recovered | logappend -p '$REL_SCRATCH/o/L'"
			output_is "$(grep -c . got)"
			if command -v logfsck >/dev/null; then
				# Indexes are never synced: a cut may damage
				# a sealed segment's (a cache, which only
				# logfsck -r rebuilds), nothing else.
				run --separate-stderr logfsck "$REL_SCRATCH/o/L"
				if [ "$status" -ne 0 ]; then
					if grep -v 'index: byte [0-9]*: offset [0-9]*: stale index: ' <<<"$stderr"; then
						echo "logfsck: more than stale index entries" >&2
						return 1
					fi
					expect 0 logfsck -r "$REL_SCRATCH/o/L"
				fi
				ok logfsck "$REL_SCRATCH/o/L"
			fi
		done
	done
}

@test "power cut: a checkpoint update leaves the old or the new checkpoint, never none" {
	local k n mode
	mkdir W
	seq 1 100 | logappend W/L
	ok logcheckpoint -s 10 W/L c
	cp -a W base
	power_run '' logcheckpoint -s 50 L c
	n=$("$P" count J)
	[ "$n" -gt 3 ]
	rel_scratch
	local old=0 new=0
	for ((k = 0; k <= n; k++)); do
		for mode in cut zero garbage prefix keep names; do
			rm -rf "$REL_SCRATCH/o"
			ok "$P" replay -m "$mode" -r "$k" J base "$REL_SCRATCH/o" "$k"
			ok logcheckpoint "$REL_SCRATCH/o/L" c
			case $output in
			10) old=$((old + 1)) ;;
			50) new=$((new + 1)) ;;
			*) echo "crash point $k, $mode: checkpoint $output" >&2
			   return 1 ;;
			esac
		done
	done
	[ "$old" -gt 0 ] && [ "$new" -gt 0 ]
	rel_summary "power cut during a checkpoint update: $((old + new))" \
	    "crash points, $old old, $new new, none lost or damaged"
}

@test "power cut: compaction swaps segments atomically" {
	mkdir W
	local i
	for ((i = 0; i < $(rel_n 150 1500); i++)); do
		printf 'k%d\tv%d-padding-padding\n' $((i % 7)) "$i"
	done | logappend -K '\t' -s 1K W/L
	cp -a W base
	power_run '' logcompact -k L
	# What survived the whole run must survive any crash in it.
	logcat -F '%o\n' W/L >keep
	[ "$(wc -l <keep)" -lt 50 ]
	power_check "power cut during compaction" -S -k keep -s "$(rel_step 2 1)"
}

@test "power cut: retention removes whole segments, never a record after them" {
	mkdir W
	seq 1 "$(rel_n 3000 20000)" | logappend -s 2K W/L
	cp -a W base
	power_run '' logcompact -r 500 L
	logcat -F '%o\n' W/L >keep
	[ "$(wc -l <keep)" -lt 1000 ]
	power_check "power cut during retention" -S -k keep -s "$(rel_step 4 1)"
}
