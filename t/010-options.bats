#!/usr/bin/env bats
# Every program's command line, told three ways that must agree: what
# getopt accepts, what --help says, and what the man page says (SYNOPSIS
# and option list).  Every program in bin/ is checked, so a new one is
# covered as soon as it is built.
load helpers

# The programs, and where their man pages are.
progs() { ls "$SYNCLOG_BUILD/bin"; }
MAN=$BATS_TEST_DIRNAME/../man

# opts_help PROG: "X long arg" for each option --help lists (arg "-"
# when it takes none), sorted.
opts_help() {
	"$1" --help | sed -n \
	    -e 's/^  -\(.\), --\([a-z0-9-]*\)=\([^ ]*\)  .*$/\1 \2 \3/p' \
	    -e 's/^  -\(.\), --\([a-z0-9-]*\)  .*$/\1 \2 -/p' | LC_ALL=C sort
}

# opts_man PAGE: the same of the man page's option list, whose entries
# read `.It Fl X Ar arg , Fl \-long Ns = Ns Ar arg`.
opts_man() {
	python3 - "$1" <<'EOF'
import re, sys
out = []
for line in open(sys.argv[1]):
    m = re.match(r'\.It Fl (\S)( .*)? , Fl \\-([a-z0-9-]+)(.*)$', line)
    if not m:
        continue
    arg = m.group(4).strip()
    if arg:
        # Ns = Ns Ar name [Ns = Ns Ar value]: the words, unspaced
        arg = re.sub(r'^Ns = Ns ', '', arg)
        arg = ''.join(w for w in arg.split() if w not in ('Ar', 'Ns'))
    out.append('%s %s %s' % (m.group(1), m.group(3), arg or '-'))
print('\n'.join(sorted(out, key=lambda s: s.encode())))
EOF
}

# synopsis_letters PAGE: the option letters the SYNOPSIS shows, sorted,
# one per line (a cluster as -01BfJ counts each letter).
synopsis_letters() {
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$1" |
	    grep -o 'Fl [^ ]*' | sed 's/^Fl //' | grep -v '^\\-$' |
	    fold -w 1 | LC_ALL=C sort -u
}

# squeeze: the words of stdin separated by single spaces.
squeeze() { tr -s ' \n\t' '   ' | sed 's/^ //; s/ $//'; }

@test "options: every program's --help is the usage, then one line per option, on stdout" {
	local p n=0
	for p in $(progs); do
		ok "$p" --help
		[[ ${lines[0]} == "usage: $p "* ]] ||
		    { echo "$p: no usage first" >&2; return 1; }
		# A blank line, then options only: "  -X, --long[=arg]  text".
		printf '%s\n' "$output" | awk -v p="$p" '
		    !seen && /^$/ { seen = 1; next }
		    !seen { next }
		    !/^  -., --[a-z0-9-]+(=[^ ]+)?  +[a-z]/ {
			print p ": not an option line: " $0; bad = 1 }
		    length($0) > 80 { print p ": longer than 80: " $0; bad = 1 }
		    END { exit bad || !seen }' >&2
		opts_help "$p" | grep -qx 'h help -'
		opts_help "$p" | grep -qx 'V version -'
		ok "$p" -h
		n=$((n + 1))
	done
	[ "$n" -ge 8 ]
}

@test "options: getopt accepts every option --help lists, short and long, and no other letter" {
	local p ch long arg known
	for p in $(progs); do
		known=
		while read -r ch long arg; do
			known+=$ch
			[ "$ch" = h ] || [ "$ch" = V ] && continue
			# No operands: each run stops at a usage or argument
			# error, never at getopt's complaint about the option.
			if [ "$arg" = - ]; then
				expect_any "$p" "-$ch"
				expect_any "$p" "--$long"
			else
				expect_any "$p" "-$ch" 1
				expect_any "$p" "--$long=1"
			fi
			case $stderr in
			*"invalid option"* | *"unrecognized option"* | \
			    *"requires an argument"* | *"doesn't allow"*)
				echo "$p: getopt refuses --$long: $stderr" >&2
				return 1 ;;
			esac
		done < <(opts_help "$p")
		for ch in {0..9} {A..Z} {a..z}; do
			[[ $known == *"$ch"* ]] && continue
			expect 2 "$p" "-$ch" </dev/null
			[[ $stderr == *"invalid option -- '$ch'"* ]] ||
			    { echo "$p accepts -$ch: $stderr" >&2; return 1; }
		done
	done
}

# expect_any PROG ARG...: run it (stdin empty), whatever its status.
expect_any() {
	run --separate-stderr timeout 10 "$@" </dev/null
	[ "$status" -ne 124 ] || { echo "$*: timed out" >&2; return 1; }
}

@test "options: every program's man page lists the options --help lists" {
	local p
	for p in $(progs); do
		[ -f "$MAN/$p.1" ] || { echo "no man page for $p" >&2; return 1; }
		is "$(opts_man "$MAN/$p.1")" "$(opts_help "$p")" ||
		    { echo "$p(1) and $p --help differ" >&2; return 1; }
	done
}

@test "options: every program's SYNOPSIS is its usage and shows every option but -h and -V" {
	require mandoc
	local p synopsis usage
	for p in $(progs); do
		synopsis=$(mandoc -Tascii "$MAN/$p.1" | col -b |
		    sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | squeeze)
		expect 2 "$p"
		usage=$(squeeze <<<"${stderr#usage: }")
		is "$synopsis" "$usage" ||
		    { echo "$p(1)'s SYNOPSIS is not $p's usage" >&2; return 1; }
		is "$(synopsis_letters "$MAN/$p.1")" \
		    "$(opts_help "$p" | cut -c1 | grep -v '^[hV]$' | LC_ALL=C sort)" ||
		    { echo "$p(1)'s SYNOPSIS lacks options" >&2; return 1; }
	done
}

@test "options: a bad delimiter, template, spec or consumer name gets the same words from every program" {
	local p n=0
	for p in $(progs); do
		if opts_help "$p" | grep -q '^D delimiter delim$'; then
			expect 2 "$p" -D '\xZZ'
			stderr_is "$p: -D: invalid delimiter: \\xZZ"
			expect 2 "$p" --key-delimiter=
			stderr_is "$p: -K: invalid delimiter:"
			n=$((n + 1))
		fi
		if opts_help "$p" | grep -q '^F format template$'; then
			expect 2 "$p" -F '%Q'
			stderr_is "$p: -F: invalid template: %Q"
		fi
		if opts_help "$p" | grep -q '^o offset spec$'; then
			expect 2 "$p" -o nowhere
			stderr_is "$p: -o: invalid offset specification: nowhere"
		fi
	done
	[ "$n" -ge 3 ]
	seq 1 3 | logappend L
	local bad=".x: invalid consumer name (letters, digits, '.', '_' and '-', not starting with '.' or '-')"
	fails 2 logapply L .x -- cat
	stderr_is "logapply: $bad"
	fails 2 logcat -g .x L
	stderr_is "logcat: $bad"
	fails 2 logcheckpoint L .x
	stderr_is "logcheckpoint: $bad"
	fails 2 logcheckpoint -s 1 L .x
	stderr_is "logcheckpoint: $bad"
}
