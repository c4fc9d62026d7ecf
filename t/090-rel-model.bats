#!/usr/bin/env bats
# The model-based interleaving test of issue 20: t/tools/model.py keeps a
# small reference model of SPEC.md (records, offsets, segments as observed,
# consumers, retention, compaction, damage, lost segments) and drives random
# interleavings of every tool against one log: short-lived and long-lived
# writers, compaction and retention (alone and beside a writer), repair and
# salvage, consumers (once and following), followers, checkpoint moves, byte
# damage, deleted and renamed segments and indexes, symlinks planted in the
# log, plain files.  After each step it compares the answers of logcat,
# logstat, logfsck, logseek and logcheckpoint, and what every follower and
# consumer printed or applied, with the model.  A seed and a step count
# reproduce a run; a failure prints them, the disagreement and the steps.
# Bounded here; TORTURE=1 (make torture) runs many more seeds and steps.
# MODEL_ARGS adds options to every run (say "--tolerate 5,9" to steer
# around bugs already known while looking for others).
load helpers
load tools/rel

MODEL=$BATS_TEST_DIRNAME/tools/model.py

# model_runs SEEDS STEPS SECONDS: SEEDS runs of STEPS steps (each stopped
# after SECONDS), from seed REL_SEED (or a new one); the figures go to the
# summary.
model_runs() {
	local seeds=$1 steps=$2 secs=$3 base nth s line n m tools=0 done=0
	base=$(rel_seed)
	# (not "i": bats' run sets it)
	for ((nth = 0; nth < seeds; nth++)); do
		s=$(((base + nth) % 4294967296))
		# shellcheck disable=SC2086
		run --separate-stderr python3 "$MODEL" --quiet --seed "$s" \
		    --steps "$steps" --seconds "$secs" ${MODEL_ARGS-} \
		    "$BATS_TEST_TMPDIR/run$nth"
		if [ "$status" -ne 0 ]; then
			printf '%s\n' "$stderr" "$output" >&2
			return 1
		fi
		line=$(rel_last_line)
		[[ $line == *", 0 disagreements"* ]] || {
			printf 'unexpected summary: %s\n' "$line" >&2
			return 1
		}
		# "model: seed S: N steps, M tool runs, ..."
		read -r _ _ _ n _ m _ <<<"$line"
		done=$((done + n))
		tools=$((tools + m))
		rm -rf "$BATS_TEST_TMPDIR/run$nth"
	done
	rel_summary "model: $seeds seeds from $base, $done steps, $tools tool" \
	    "runs: every answer as the model says"
}

@test "model: random interleavings of every tool agree with the model" {
	model_runs "$(rel_n 4 40)" "$(rel_t 250 400)" "$(rel_t 20 300)"
}

# mutant DIR PROGRAM 'SHELL': a PROGRAM in DIR that runs the real one, then
# the shell code (with $log the log, the last argument): a tool gone wrong.
mutant() {
	mkdir -p "$1"
	{
		printf '#!/bin/bash\n"%s/bin/%s" "$@"\nrc=$?\nlog=${@: -1}\n' \
		    "$SYNCLOG_BUILD" "$2"
		printf '%s\nexit $rc\n' "$3"
	} >"$1/$2"
	chmod +x "$1/$2"
}

# caught DIR SEED REGEX: model.py, with the programs of DIR first in PATH,
# must report a disagreement matching REGEX (bash's =~).  The known
# bugs of issue 20 are steered around, so that only the mutant is caught.
caught() {
	PATH=$1:$PATH run --separate-stderr python3 "$MODEL" --quiet --seed "$2" \
	    --steps 150 --tolerate 1,2,3,4,5,6,7,8,9 "$BATS_TEST_TMPDIR/caught${1##*/}"
	if [ "$status" -ne 1 ] || ! [[ $stderr =~ DISAGREEMENT:\ .*($3) ]]; then
		printf 'the model did not notice %s: exit %s\n%s\n' "$1" "$status" \
		    "$stderr" >&2
		return 1
	fi
	printf '# %s: %s\n' "${1##*/}" "$(grep -m1 DISAGREEMENT <<<"$stderr" |
	    cut -c1-160)" >&3
}

@test "model: it notices a tool gone wrong (a record slipped in, a segment gone)" {
	# A writer that now and then appends one more record than it says.
	mutant "$BATS_TEST_TMPDIR/sneak" logappend \
	    '[ $rc = 0 ] && [ $((RANDOM % 4)) = 0 ] && [ -d "$log" ] &&
	    echo sneaked | "'"$SYNCLOG_BUILD"'/bin/logappend" "$log"'
	caught "$BATS_TEST_TMPDIR/sneak" 1 'unexpected|does not have|never gave'
	# Compaction that also removes a sealed segment, records and all.
	mutant "$BATS_TEST_TMPDIR/greedy" logcompact \
	    'set -- "$log"/*.log; [ $# -ge 3 ] && rm -f "$2"'
	caught "$BATS_TEST_TMPDIR/greedy" 2 'logcompact'
}
