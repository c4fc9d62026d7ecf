# Shared by the reliability tests t/06*.bats .. t/09*.bats (`load
# tools/rel` after `load helpers`): loop counts that scale with TORTURE,
# and the summary every test adds its figures to.
#
# TORTURE=1 (make torture) runs the long versions.  Under the sanitizer
# build (SYNCLOG_BUILD ending in /build/san) every program is slower, so
# the fast versions run a quarter of their loops there.
# SYNCLOG_SUMMARY names the summary file; by default it lives in the bats
# run's temporary directory, where t/099-rel-summary.bats prints it.

REL_SUMMARY=${SYNCLOG_SUMMARY:-${BATS_RUN_TMPDIR:-/tmp}/rel-summary}
export REL_SUMMARY

# rel_n FAST TORTURE: the loop count (or any other word) for this run.
rel_n() {
	if [ -n "${TORTURE-}" ] && [ "$TORTURE" != 0 ]; then
		echo "$2"
	else
		case $SYNCLOG_BUILD:$1 in
		*/build/san:[0-9]*) echo $((($1 + 3) / 4)) ;;
		*) echo "$1" ;;
		esac
	fi
}

# rel_t FAST TORTURE: FAST, or TORTURE in torture; never scaled down.
rel_t() {
	if [ -n "${TORTURE-}" ] && [ "$TORTURE" != 0 ]; then
		echo "$2"
	else
		echo "$1"
	fi
}

# rel_step FAST TORTURE: a stride through crash points: every FAST-th
# (four times sparser under the sanitizers), every TORTURE-th in torture.
rel_step() {
	if [ -n "${TORTURE-}" ] && [ "$TORTURE" != 0 ]; then
		echo "$2"
	else
		case $SYNCLOG_BUILD in
		*/build/san) echo $(($1 * 4)) ;;
		*) echo "$1" ;;
		esac
	fi
}

# rel_us USEC: a delay, longer under the sanitizers (slow to start).
rel_us() {
	case $SYNCLOG_BUILD in
	*/build/san) echo $(($1 * 4)) ;;
	*) echo "$1" ;;
	esac
}

# rel_seed: a seed for this test, fixed by REL_SEED or new every run; it
# is shown on failure so that a failing run can be repeated.
rel_seed() {
	local s=${REL_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
	printf 'seed %s\n' "$s" >&2
	echo "$s"
}

# rel_summary TEXT: one line for the summary, also shown by bats.
rel_summary() {
	local name=${BATS_TEST_FILENAME##*/}
	printf '%s: %s\n' "${name%.bats}" "$*" >>"$REL_SUMMARY"
	printf '# %s\n' "$*" >&3
}

# rel_last_line: the summary line of a tool's output ($output).
rel_last_line() {
	printf '%s\n' "$output" | tail -n 1
}

# rel_scratch: set REL_SCRATCH (once per test) to a directory for scratch files that are
# written and removed by the thousand (rebuilt logs), in memory when
# /dev/shm allows, since some disks make every unlink slow.  rel_cleanup
# (call it from teardown) removes it.
rel_scratch() {
	[ -z "${REL_SCRATCH-}" ] || return 0
	REL_SCRATCH=$(mktemp -d /dev/shm/synclog-rel.XXXXXX 2>/dev/null) ||
	    REL_SCRATCH=$(mktemp -d "$BATS_TEST_TMPDIR/scratch.XXXXXX")
}

rel_cleanup() {
	if [ -n "${REL_SCRATCH-}" ]; then
		rm -rf "$REL_SCRATCH"
		REL_SCRATCH=
	fi
}
