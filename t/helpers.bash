# Shared by every t/*.bats file: `load helpers`.
# Every run of a synclog program goes through ok/fails, which assert the
# exit status (and, for ok, an empty stderr) so that no test can pass on a
# crash or a silent error.
bats_require_minimum_version 1.5.0

SYNCLOG_BUILD=${SYNCLOG_BUILD:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
PATH=$SYNCLOG_BUILD/bin:$PATH
TTOOLS=$SYNCLOG_BUILD/obj/t
export SYNCLOG_BUILD TTOOLS PATH

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

# expect STATUS CMD [ARG]...: run CMD; $output is its stdout, $stderr its
# stderr; fail unless it exits with STATUS.
expect() {
	local want=$1
	shift
	run --separate-stderr "$@"
	if [ "$status" -ne "$want" ]; then
		printf 'command: %s\nexpected exit %s, got %s\nstdout: %s\nstderr: %s\n' \
		    "$*" "$want" "$status" "$output" "$stderr" >&2
		return 1
	fi
}

# ok CMD [ARG]...: CMD must exit 0 with nothing on stderr.
ok() {
	expect 0 "$@" || return 1
	if [ -n "$stderr" ]; then
		printf 'command: %s\nunexpected stderr: %s\n' "$*" "$stderr" >&2
		return 1
	fi
}

# fails STATUS CMD [ARG]...: CMD must exit STATUS (non-zero) and say why
# on stderr in one line starting with the program's name.
fails() {
	local want=$1 prog
	shift
	expect "$want" "$@" || return 1
	prog=${1##*/}
	if [ -z "$stderr" ]; then
		printf 'command: %s\nexited %s without a message\n' "$*" "$want" >&2
		return 1
	fi
	case $stderr in
	"$prog: "* | *"
$prog: "*) ;;
	*)
		printf 'command: %s\nstderr does not start with "%s: ": %s\n' \
		    "$*" "$prog" "$stderr" >&2
		return 1 ;;
	esac
}

# sh_ok 'PIPELINE': a shell pipeline (pipefail on) that must exit 0.
sh_ok() {
	ok bash -o pipefail -c "$1"
}

# is ACTUAL EXPECTED: string equality with a readable failure.
is() {
	if [ "$1" != "$2" ]; then
		printf 'expected: %s\nactual:   %s\n' "$2" "$1" >&2
		return 1
	fi
}

# stderr_is EXPECTED / stderr_has SUBSTRING / output_is EXPECTED
stderr_is() { is "$stderr" "$1"; }
output_is() { is "$output" "$1"; }
stderr_has() {
	case $stderr in
	*"$1"*) ;;
	*) printf 'stderr lacks: %s\nstderr: %s\n' "$1" "$stderr" >&2; return 1 ;;
	esac
}

# require CMD: skip (saying why) when an optional tool is missing.  CI
# installs all of them, so there every test runs.
require() {
	command -v "$1" >/dev/null || skip "$1 is not installed"
}

# wait_until [-t SECONDS] CMD...: run CMD every 20 ms until it succeeds,
# for at most SECONDS (default 10, generous for the sanitizer build on a
# loaded machine); a bounded wait, never a fixed sleep.
wait_until() {
	local i secs=10
	if [ "$1" = -t ]; then
		secs=$2
		shift 2
	fi
	for ((i = 0; i < secs * 50; i++)); do
		"$@" && return 0
		sleep 0.02
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# ---- fault injection (t/shim/fault.c; owned by its author) ------------
# with_fault RULES CMD [ARG]...: run one command with the fault shim
# preloaded, SYNCLOG_FAULT=RULES (syntax: the comment atop t/shim/fault.c,
# e.g. 'fdatasync:1:EIO' or 'write:3:ENOSPC:forever,rename:1:kill') and
# every injected fault logged to $FAULT_LOG (default: fault.log in the
# test's directory).  When CMD is ok, fails or expect, only the program
# that wrapper runs gets the shim (not the wrapper's own helpers), and
# `fails` still checks the program's name:
#	with_fault 'fdatasync:1:EIO' fails 2 logappend log <input
#	with_fault 'write:2:kill' expect 137 logappend log <input
# Any other CMD runs directly with the shim's environment, which its
# children inherit; set SYNCLOG_FAULT_EXE=NAME to limit the rules to the
# programs called NAME.  A test must also prove its fault fired:
# faults_fired N [REGEX] asserts that the log holds exactly N faults
# (matching the grep -E REGEX).
with_fault() {
	local rules=$1 pos cmd rc=0
	shift
	case ${1-} in
	ok) pos=2 ;;
	fails | expect) pos=3 ;;
	*)
		_fault_env "$rules" "$@"
		return ;;
	esac
	cmd=${!pos-}
	case $cmd in
	'' | *[!A-Za-z0-9_./+-]*)
		printf 'with_fault: cannot wrap command "%s"\n' "$cmd" >&2
		return 1 ;;
	esac
	if declare -F -- "$cmd" >/dev/null; then
		printf 'with_fault: "%s" is already a function\n' "$cmd" >&2
		return 1
	fi
	# A function named like the program stands in for it for one call.
	eval "function $cmd { _fault_env $(printf %q "$rules") command $cmd \"\$@\"; }"
	"$@" || rc=$?
	unset -f -- "$cmd"
	return "$rc"
}

_fault_env() {
	local rules=$1
	shift
	LD_PRELOAD=$TTOOLS/fault.so SYNCLOG_FAULT=$rules \
	    SYNCLOG_FAULT_LOG=${FAULT_LOG:-$BATS_TEST_TMPDIR/fault.log} \
	    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    "$@"
}

faults_fired() {
	local want=$1 re=${2:-.} log=${FAULT_LOG:-$BATS_TEST_TMPDIR/fault.log} n=0
	if [ -e "$log" ]; then
		n=$(grep -E -c -- "$re" "$log" || true)
	fi
	if [ "$n" -ne "$want" ]; then
		printf 'expected %s fault(s) matching %s, %s fired; fault log:\n' \
		    "$want" "$re" "$n" >&2
		cat "$log" >&2 2>/dev/null
		return 1
	fi
}

# unprivileged CMD [ARG]...: run CMD as an ordinary user (nobody) when the
# suite runs as root, as CI does, so that permission tests still test
# something.  Run it from a directory made by perm_dir.
unprivileged() {
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
	else
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		    env PATH="$PATH" "$@"
	fi
}

# perm_dir: make and enter a directory that nobody can reach (the bats
# run directory is private to root).
perm_dir() {
	PERM_DIR=$(mktemp -d /tmp/synclog-perm.XXXXXX) || return 1
	chmod 755 "$PERM_DIR"
	cd "$PERM_DIR" || return 1
}

# ---- index files (lib/index.c, synclog(5)) -----------------------------
# reentry INDEX 'PYTHON' [FROM]: rewrite every entry of INDEX (read from
# FROM, default INDEX itself) with the Python statement run on bytearray d
# at entry offset i, then seal each entry again with a valid checksum (the
# segment's base and the log's id, from the names and LOG/settings): an
# index that lies but whose checksums hold.
reentry() {
	python3 - "$1" "$2" "${3:-$1}" <<'PYEOF'
import os, sys, zlib
path, stmt, src = sys.argv[1:]
log = os.path.dirname(path) or "."
lid = b""
for line in open(os.path.join(log, "settings")):
    if line.startswith("id "):
        lid = line.split()[1].encode()
base = int(os.path.basename(path).split(".")[0])
key = zlib.crc32(base.to_bytes(8, "little") + lid.ljust(32, b"\0"))
d = bytearray(open(src, "rb").read())
for i in range(0, len(d) - len(d) % 20, 20):
    exec(stmt)
    d[i+16:i+20] = zlib.crc32(bytes(d[i:i+16]), key).to_bytes(4, "little")
open(path, "wb").write(d)
PYEOF
}
