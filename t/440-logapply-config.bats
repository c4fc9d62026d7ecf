#!/usr/bin/env bats
# logapply -c FILE.yaml: every consumer of a file, each in a process of
# its own, independent of the others' failures.
load helpers

mklog() {
	sh_ok "seq 1 $1 | logappend -N ${2:-L}"
}

@test "logapply -c runs every consumer to the end, with its batch and format" {
	require jq
	mklog 5
	mklog 3 M
	cat > c.yaml <<-'EOF'
	# comments are fine
	consumers:
	  - name: lines
	    log: L
	    command: [sh, -c, 'echo "$LOGAPPLY_CONSUMER $LOGAPPLY_FIRST-$LOGAPPLY_LAST" >> lines.out; cat >> lines.out']
	    batch: 2
	  - name: json
	    log: L
	    command: "jq -c '[.offset, .value]' >> json.out"
	    format: json
	  - name: other
	    log: M
	    command: [sh, -c, 'cat >> other.out']
	    format: text
	    follow: false
	EOF
	ok logapply -c c.yaml
	output_is ""
	is "$(cat lines.out)" "$(printf 'lines 0-1\n1\n2\nlines 2-3\n3\n4\nlines 4-4\n5')"
	is "$(head -n 1 json.out)" '[0,"1"]'
	is "$(wc -l < json.out)" 5
	is "$(tr '\n' ' ' < other.out)" "1 2 3 "
	ok logcheckpoint L
	[ "${#lines[@]}" -eq 2 ]
	ok logcheckpoint M other
	output_is 3
}

@test "logapply -c: yaml and binary formats" {
	mklog 2
	cat > c.yaml <<-'EOF'
	consumers:
	- {name: y, log: L, command: [sh, -c, 'cat > y.out'], format: yaml}
	- {name: b, log: L, command: [sh, -c, 'cat > b.out'], format: binary}
	EOF
	ok logapply -c c.yaml
	sh_ok 'logcat -Y L | cmp - y.out'
	sh_ok 'logcat -B L | cmp - b.out'
}

@test "logapply -c: a failing consumer does not stop the others; exit 1" {
	mklog 4
	cat > c.yaml <<-'EOF'
	consumers:
	  - name: bad
	    log: L
	    command: [false]
	  - name: good
	    log: L
	    command: [sh, -c, 'sleep 0.2; cat >> good.out']
	    batch: 1
	EOF
	fails 1 logapply -c c.yaml
	stderr_is "logapply: L: bad: command failed on offsets 0-3 (exit status 1)"
	is "$(wc -l < good.out)" 4
	ok logcheckpoint L good
	output_is 4
	ok logcheckpoint L bad
	output_is 0
}

@test "logapply -c: a system error in one consumer is exit 2" {
	mklog 1
	cat > c.yaml <<-'EOF'
	consumers:
	  - {name: a, log: L, command: [cat]}
	  - {name: b, log: nolog, command: [cat]}
	  - {name: c, log: L, command: [false]}
	EOF
	fails 2 logapply -c c.yaml
	stderr_has 'nolog'
	stderr_has 'logapply: L: c: command failed'
	ok logcheckpoint L a
	output_is 1
}

@test "logapply -c: follow keeps following consumers; SIGTERM stops them all, exit 0" {
	mklog 2
	cat > c.yaml <<-'EOF'
	consumers:
	  - {name: f1, log: L, command: [sh, -c, 'cat >> f1.out'], follow: true}
	  - {name: f2, log: L, command: [sh, -c, 'cat >> f2.out'], follow: yes}
	  - {name: once, log: L, command: [sh, -c, 'cat >> once.out']}
	EOF
	logapply -c c.yaml &
	pid=$!
	for _ in $(seq 200); do
		[ -e L/consumers/f1.ckpt ] && [ -e L/consumers/f2.ckpt ] && break
		sleep 0.02
	done
	ok logcheckpoint -w -T 10 L f1 f2 once
	sh_ok 'echo 3 | logappend -N L'
	ok logcheckpoint -w -T 10 L f1 f2
	kill -TERM $pid
	wait $pid
	is "$(tr '\n' ' ' < f1.out)" "1 2 3 "
	is "$(tr '\n' ' ' < f2.out)" "1 2 3 "
	is "$(tr '\n' ' ' < once.out)" "1 2 "
}

@test "logapply -c: options on the command line are defaults for every consumer" {
	mklog 3
	cat > c.yaml <<-'EOF'
	consumers:
	  - {name: a, log: L, command: 'echo $LOGAPPLY_FIRST >> a.out'}
	  - {name: b, log: L, command: 'echo $LOGAPPLY_FIRST >> b.out', batch: 2}
	EOF
	ok logapply -1 -o 1 -c c.yaml
	is "$(tr '\n' ' ' < a.out)" "1 2 "
	is "$(tr '\n' ' ' < b.out)" "1 "
}

@test "logapply -c: optional retries, offset and dead-letter keys" {
	sh_ok 'printf "%s\n" a bad b | logappend -N L'
	cat > c.yaml <<-'EOF'
	consumers:
	  - name: d
	    log: L
	    command: 'b=$(cat); case $b in *bad*) exit 1 ;; esac'
	    retries: 1
	    offset: 1
	    dead-letter: D
	EOF
	expect 0 logapply -R 1 -c c.yaml
	stderr_is "logapply: L: d: offset 1 failed (exit status 1); appended to D at offset 0"
	ok logcat D
	output_is bad
}

@test "logapply -c: errors in the file name its line and column" {
	mklog 1
	check() {	# check 'MESSAGE' < yaml
		cat > c.yaml
		fails 2 logapply -c c.yaml
		stderr_is "logapply: c.yaml:$1"
	}
	check '3:5: unknown key nmae' <<-'EOF'
	consumers:
	  - log: L
	    nmae: x
	    command: [cat]
	EOF
	check '2:5: consumer without a name' <<-'EOF'
	consumers:
	  - log: L
	    command: [cat]
	EOF
	check '2:5: consumer x without a log' <<-'EOF'
	consumers:
	  - name: x
	    command: [cat]
	EOF
	check '2:5: consumer x without a command' <<-'EOF'
	consumers:
	  - name: x
	    log: L
	EOF
	check '4:12: batch must be a number from 1 to 4294967295' <<-'EOF'
	consumers:
	  - name: x
	    log: L
	    batch: 0
	    command: [cat]
	EOF
	check '3:14: format must be text, json, yaml or binary' <<-'EOF'
	consumers:
	  - {name: x, log: L, command: [cat],
	     format: xml}
	EOF
	check '1:31: follow must be true or false' <<-'EOF'
	consumers: [{name: x, follow: maybe, log: L, command: [cat]}]
	EOF
	check '1:20: .x: invalid consumer name' <<-'EOF'
	consumers: [{name: .x, log: L, command: [cat]}]
	EOF
	check '1:40: command is empty' <<-'EOF'
	consumers: [{name: x, log: L, command: []}]
	EOF
	check '1:40: command must be a list of arguments or a string' <<-'EOF'
	consumers: [{name: x, log: L, command: {a: b}}]
	EOF
	check '1:1: unknown key consumer' <<-'EOF'
	consumer: []
	EOF
	check '1:12: no consumers' <<-'EOF'
	consumers: []
	EOF
	check '1:12: consumers must be a list' <<-'EOF'
	consumers: {a: b}
	EOF
	check '1:1: the top level must be a mapping with consumers' <<-'EOF'
	- a
	EOF
	check '2:3: a consumer must be a mapping' <<-'EOF'
	consumers:
	- x
	EOF
	check '3:3: consumer x of L is defined twice' <<-'EOF'
	consumers:
	- {name: x, log: L, command: [cat]}
	- {name: x, log: L, command: [true]}
	EOF
	check '2:13: did not find expected node content while parsing a flow node' <<-'EOF'
	consumers:
	- {name: x, ]
	EOF
	: > c.yaml
	fails 2 logapply -c c.yaml
	stderr_is "logapply: c.yaml: empty file"
	fails 2 logapply -c nofile.yaml
	stderr_is "logapply: nofile.yaml: No such file or directory"
	expect 2 logapply -c c.yaml L c -- cat
	expect 2 logapply -J -c c.yaml
	[ ! -e L/consumers/x.ckpt ]
}
