#!/usr/bin/env bats
# The figures of the reliability tests of this run (t/06*.bats to
# t/09*.bats), gathered by rel_summary (t/tools/rel.bash): how many crash
# cycles, faults, crash points, bit flips and truncations, records and
# lookups they checked.  Printed last, so that `make check` and `make
# torture` end with them.
load helpers
load tools/rel

@test "summary: the reliability figures of this run" {
	[ -s "$REL_SUMMARY" ] || skip "no reliability test ran before this one"
	while IFS= read -r line; do
		printf '# %s\n' "$line" >&3
	done <"$REL_SUMMARY"
	# No figure may admit a loss.
	if grep -v -e ', 0 lost' -e 'nothing lost' -e 'no damaged record' \
	    -e 'once, in order' -e 'right$' -e 'none lost' "$REL_SUMMARY" |
	    grep -i -e lost -e damaged -e fail; then
		return 1
	fi
}
