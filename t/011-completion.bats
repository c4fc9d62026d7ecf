#!/usr/bin/env bats
# The bash completion (completion/synclog.bash): options from --help,
# log directories, consumer names, offset specifications; and `make
# install` puts it where bash-completion loads it from.
load helpers

COMPLETION=$BATS_TEST_DIRNAME/../completion/synclog.bash
BASH_COMPLETION=/usr/share/bash-completion/bash_completion

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	[ -f "$BASH_COMPLETION" ] || skip "bash-completion is not installed"
}

# comp LINE: what bash completes LINE (the cursor at its end) to, with
# bash-completion and synclog's completion loaded: the candidates,
# sorted, on one line.  The words are split as bash splits them, an =
# being a word of its own (COMP_WORDBREAKS); a candidate replaces what
# follows the last break.
comp() {
	bash --norc --noprofile -c '
		source "$1" && source "$2" || exit 1
		line=$3
		COMP_LINE=$line
		COMP_POINT=${#line}
		read -ra COMP_WORDS <<<"${line//=/ = }"
		[[ $line == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=()
		_synclog "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" \
		    "${COMP_WORDS[COMP_CWORD - 1]}"
		((${#COMPREPLY[@]} == 0)) ||
		    printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | tr "\n" " "
	' comp "$BASH_COMPLETION" "$COMPLETION" "$1"
}

mklog() {
	seq 1 3 | logappend L
	logcheckpoint -s end L db
	logcheckpoint -s 1 L dashboard
	logcheckpoint -s 0 L cache
	mkdir other
	touch afile
}

@test "completion: consumer names from LOG/consumers/" {
	mklog
	is "$(comp 'logcheckpoint L ')" "cache dashboard db "
	is "$(comp 'logcheckpoint L d')" "dashboard db "
	is "$(comp 'logcheckpoint -w -T 5 L db c')" "cache "
	is "$(comp 'logapply -b 10 L d')" "dashboard db "
	is "$(comp 'logcat -k x -g da')" ""
	is "$(comp 'logcat L -g da')" "dashboard "
	is "$(comp 'logcat L --consumer=c')" "cache "
}

@test "completion: options, short and long, as --help lists them" {
	mklog
	is "$(comp 'logcat --fo')" "--follow --format= "
	is "$(comp 'logapply --sk')" "--skip-lost "
	is "$(comp 'logcheckpoint -')" \
	    "$(logcheckpoint --help | sed -n 's/^  \(-.\),.*/\1/p' | LC_ALL=C sort | tr '\n' ' ')"
	local p want
	for p in $(ls "$SYNCLOG_BUILD/bin"); do
		want=$("$p" --help | sed -n 's/^  -., \(--[a-z0-9-]*=\{0,1\}\).*/\1/p' |
		    LC_ALL=C sort | tr '\n' ' ')
		[ -n "$want" ]
		is "$(comp "$p --")" "$want"
	done
}

@test "completion: log directories, offset specifications, a -c file" {
	mklog
	is "$(comp 'logcat ')" "L other "
	is "$(comp 'logstat o')" "other "
	is "$(comp 'logcat -o ')" "-1 beginning e@ end s@ "
	is "$(comp 'logcat --offset=b')" "beginning "
	is "$(comp 'logseek L e')" "e@ end "
	is "$(comp 'logapply -d ')" "L other "
	touch c.yaml notes.txt
	is "$(comp 'logapply -c ')" "L c.yaml other "
	# logapply LOG NAME -- COMMAND: a command after the --.
	is "$(comp 'logapply L db -')" "-- "
	[[ $(comp 'logapply L db -- logc') == *logcat* ]]
}

# install ARG...: make install of the programs as built (-o: never made
# again here, from other sources or flags), into ./root.
install() {
	local b old=()
	for b in "$SYNCLOG_BUILD"/bin/*; do
		old+=(-o "$b")
	done
	mkdir root
	make -s -C "$BATS_TEST_DIRNAME/.." install B="$SYNCLOG_BUILD" \
	    "${old[@]}" DESTDIR="$PWD/root" PREFIX=/usr/local "$@" >/dev/null
}

@test "completion: make install puts it where bash-completion loads it" {
	install BASHCOMPDIR=/usr/share/bash-completion/completions
	[ -x root/usr/local/bin/logcat ]
	local p
	for p in $(ls "$SYNCLOG_BUILD/bin"); do
		[ -e "root/usr/share/bash-completion/completions/$p" ] ||
		    { echo "no completion for $p" >&2; return 1; }
	done
	# bash-completion finds it by the command's name, and loads it.
	run bash --norc --noprofile -c '
		export XDG_DATA_DIRS=$1/usr/share
		source "$2"
		_completion_loader logcheckpoint
		complete -p logcheckpoint' x "$PWD/root" "$BASH_COMPLETION"
	is "$output" "complete -F _synclog logcheckpoint"
}

@test "completion: the default directory is bash-completion's own" {
	require pkg-config
	install
	[ -L "root$(pkg-config --variable=completionsdir bash-completion)/logcat" ]
}
