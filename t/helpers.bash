# Shared by every t/*.bats file: `load helpers`.
# Every run of a synclog program goes through ok/fails, which assert the
# exit status (and, for ok, an empty stderr) so that no test can pass on a
# crash or a silent error.
bats_require_minimum_version 1.5.0

SYNCLOG_BUILD=${SYNCLOG_BUILD:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
PATH=$SYNCLOG_BUILD/bin:$PATH
TTOOLS=$SYNCLOG_BUILD/t
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
