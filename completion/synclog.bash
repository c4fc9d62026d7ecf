# bash completion for the synclog programs: logappend, logapply, logcat,
# logcheckpoint, logcompact, logfsck, logmirror, logseek, logstat.
#
# The options come from each program's --help (made from the same table
# as its getopt string, so they cannot differ), read once per shell; an
# option's argument is completed by its name there: a log, a consumer
# name, an offset specification, a file.  Operands: log directories, and
# the names of the consumers in LOG/consumers/.

# _synclog_opts PROG: fill _synclog_help[PROG] with "X long arg" lines.
declare -gA _synclog_help
_synclog_opts()
{
	[[ -n ${_synclog_help[$1]+set} ]] && return
	_synclog_help[$1]=$(LC_ALL=C "$1" --help 2>/dev/null | sed -n \
	    -e 's/^  -\(.\), --\([a-z0-9-]*\)=\([^ ]*\)  .*$/\1 \2 \3/p' \
	    -e 's/^  -\(.\), --\([a-z0-9-]*\)  .*$/\1 \2 -/p')
}

# _synclog_arg PROG OPT: the argument's name of option OPT (-X or
# --long), "-" when it takes none, empty when there is no such option.
_synclog_arg()
{
	local ch long arg
	while read -r ch long arg; do
		if [[ $2 == "-$ch" || $2 == "--$long" ]]; then
			printf '%s\n' "$arg"
			return
		fi
	done <<<"${_synclog_help[$1]}"
}

# _synclog_consumers LOG: the consumer names of LOG.
_synclog_consumers()
{
	local f
	for f in "$1"/consumers/*.ckpt; do
		[[ -e $f ]] || continue
		f=${f##*/}
		printf '%s\n' "${f%.ckpt}"
	done
}

# _synclog_value WHAT CUR LOG: complete a value called WHAT (an option's
# argument name or an operand's) from CUR; LOG is the log, if known.
_synclog_value()
{
	local what=$1 cur=$2 log=$3
	case $what in
	log | deadlog)
		compopt -o filenames 2>/dev/null || :
		COMPREPLY=($(compgen -d -- "$cur")) ;;
	segment)
		compopt -o filenames 2>/dev/null || :
		COMPREPLY=($(compgen -f -- "$cur")) ;;
	name)
		[[ -n $log ]] &&
		    COMPREPLY=($(compgen -W "$(_synclog_consumers "$log")" \
		    -- "$cur")) ;;
	spec)
		COMPREPLY=($(compgen -W 'beginning end -1 s@ e@' -- "$cur"))
		[[ $cur == [se]@* ]] || compopt -o nospace 2>/dev/null || : ;;
	file)
		compopt -o filenames 2>/dev/null || :
		COMPREPLY=($(compgen -f -X '!*.@(yaml|yml)' -- "$cur")
		    $(compgen -d -- "$cur")) ;;
	command)
		COMPREPLY=($(compgen -c -- "$cur")) ;;
	*)	COMPREPLY=() ;;
	esac
	return 0
}

# _synclog_operand PROG N: what the Nth operand (from 0) of PROG is.
_synclog_operand()
{
	case $1:$2 in
	logappend:0 | logcompact:* | logstat:*) echo log ;;
	logcat:*) echo log ;;
	logfsck:*) echo segment ;;
	logseek:0 | logcheckpoint:0 | logapply:0) echo log ;;
	logseek:*) echo spec ;;
	logcheckpoint:*) echo name ;;
	logapply:1) echo name ;;
	logapply:*) echo command ;;
	logmirror:0) echo verb ;;
	logmirror:*) echo log ;;
	esac
}

_synclog()
{
	local cur prev words cword prog w i j n=0 log= what arg ch opts
	if declare -F _init_completion >/dev/null; then
		_init_completion -n = || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi
	prog=${words[0]##*/}
	_synclog_opts "${words[0]}"

	# What the words before this one were: options, their arguments,
	# operands; logapply and logseek stop at their first operand.
	local inopts=1 argnext=
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ -n $argnext ]]; then
			argnext=
			continue
		fi
		if [[ $inopts && $w == -- ]]; then
			inopts=
			continue
		fi
		if [[ $inopts && $w == --?* ]]; then
			[[ $w != *=* && $(_synclog_arg "$prog" "$w") != - ]] &&
			    argnext=1
			continue
		fi
		if [[ $inopts && $w == -?* ]]; then
			# A cluster: an option with an argument ends it.
			for ((j = 1; j < ${#w}; j++)); do
				arg=$(_synclog_arg "$prog" "-${w:j:1}")
				if [[ -n $arg && $arg != - ]]; then
					((j == ${#w} - 1)) && argnext=1
					break
				fi
			done
			continue
		fi
		# logapply LOG NAME -- COMMAND: the -- is no operand.
		[[ $prog == logapply && $n -eq 2 && $w == -- ]] && continue
		[[ $n -eq 0 && $prog != logmirror ]] && log=$w
		[[ $n -eq 1 && $prog == logmirror ]] && log=$w
		[[ $prog == logapply || $prog == logseek ]] && inopts=
		n=$((n + 1))
	done

	# The argument of the option before.
	if [[ -n $argnext ]]; then
		what=$(_synclog_arg "$prog" "${words[cword - 1]}")
		[[ $what == - ]] && what=
		# Its operand log may come after it: look ahead.
		if [[ -z $log ]]; then
			for ((i = cword + 1; i < ${#words[@]}; i++)); do
				[[ ${words[i]} == -* ]] || { log=${words[i]}; break; }
			done
		fi
		[[ -z $log ]] && log=.
		_synclog_value "$what" "$cur" "$log"
		return
	fi
	# --long=value
	if [[ $inopts && $cur == --*=* ]]; then
		what=$(_synclog_arg "$prog" "${cur%%=*}")
		_synclog_value "$what" "${cur#*=}" "${log:-.}"
		return
	fi
	if [[ $inopts && $cur == -* ]]; then
		opts=
		while read -r ch w arg; do
			[[ -n $ch ]] || continue
			if [[ $cur == --* ]]; then
				[[ $arg == - ]] && opts+=" --$w" || opts+=" --$w="
			else
				opts+=" -$ch"
			fi
		done <<<"${_synclog_help[$prog]}"
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		[[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null || :
		return
	fi
	what=$(_synclog_operand "$prog" "$n")
	if [[ $what == verb ]]; then
		COMPREPLY=($(compgen -W 'push pull wait' -- "$cur"))
		return
	fi
	# logapply LOG NAME [--] COMMAND [ARG]...
	if [[ $prog == logapply && $n -eq 2 && $cur == -* ]]; then
		COMPREPLY=(--)
		return
	fi
	[[ $prog == logapply && $n -gt 2 ]] && what=segment
	_synclog_value "$what" "$cur" "$log"
}

complete -F _synclog logappend logapply logcat logcheckpoint logcompact \
    logfsck logmirror logseek logstat
