# synclog - plain make; `make -j` safe.  B is the build directory, so that a
# sanitizer build (make check-sanitize) lives beside the normal one.
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
# Where bash-completion looks for a command's completion (it loads the
# file named after the command when that is first completed).
BASHCOMPDIR ?= $(or $(shell pkg-config --variable=completionsdir \
	    bash-completion 2>/dev/null),$(PREFIX)/share/bash-completion/completions)
CC	?= cc
CFLAGS	?= -O2 -g
B	?= .
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Ilib
LDLIBS	+= -lz -lyaml

# The CRC: ISA-L's when its header is found (Debian's libisal-dev), zlib's
# otherwise; ISAL=no chooses zlib's.  Both give the same CRC, and `make
# check` tests a build of each against the other (t/040).
ISAL_FOUND := $(shell printf '\043include <isa-l/crc.h>\n' | \
	    $(CC) -E -x c - >/dev/null 2>&1 && echo yes || echo no)
ISAL	?= $(ISAL_FOUND)
ifeq ($(ISAL),yes)
CRCFLAGS := -DSL_HAVE_ISAL
LDLIBS	+= -lisal
endif
# The other CRC build, when this machine can make one (t/040 compares).
ALT_ISAL := $(if $(filter yes,$(ISAL)),no,$(ISAL_FOUND))
ALTB	:= $(B)/obj/crc-$(ALT_ISAL)
ALTDEPS	:= $(if $(filter $(ISAL),$(ALT_ISAL)),,crc-alt)
# What `tools/deps` leaves out: ISA-L when ISAL=no was asked for.
DEPSFLAGS := $(if $(filter no,$(ISAL)),$(if $(filter command environment,\
	    $(origin ISAL)),--without libisal-dev))

# A program is cmd/NAME.c, or a folder cmd/NAME/ of .c files and their
# private header(s) when it has several jobs (OpenBSD tail's layout).
# CFLAGS_NAME and LDLIBS_NAME add what only that program uses.
# cmd/common/ is no program: what every program shares that is not the
# library's, because it talks to the user (options, --help, messages).
FOLDERS	:= $(filter-out common,$(patsubst cmd/%/,%,$(wildcard cmd/*/)))
COMMON	:= $(patsubst cmd/%.c,$(B)/obj/cmd/%.o,$(wildcard cmd/common/*.c))
# logmirror talks to NATS JetStream through libnats (Debian's libnats-dev).
CFLAGS_logmirror := $(shell pkg-config --cflags libnats 2>/dev/null)
LDLIBS_logmirror := $(or $(shell pkg-config --libs libnats 2>/dev/null),-lnats) -lpthread
PROGS	:= $(basename $(notdir $(wildcard cmd/*.c))) $(FOLDERS)
LIBSRC	:= $(wildcard lib/*.c)
LIBOBJ	:= $(patsubst lib/%.c,$(B)/obj/lib/%.o,$(LIBSRC))
BINS	:= $(addprefix $(B)/bin/,$(PROGS))
# Test-only helper programs (t/tools/*.c) and LD_PRELOAD shims (t/shim/*.c).
TTOOLS	:= $(patsubst t/tools/%.c,$(B)/obj/t/%,$(wildcard t/tools/*.c))
TSHIMS	:= $(patsubst t/shim/%.c,$(B)/obj/t/%.so,$(wildcard t/shim/*.c))
MAN1	:= $(wildcard man/*.1)
MAN5	:= $(wildcard man/*.5)
MAN7	:= $(wildcard man/*.7)
SAN	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=all

all: deps-all
	@$(MAKE) --no-print-directory build

build: $(BINS) $(TTOOLS) $(TSHIMS)

# Installs what a target needs (as root, or through sudo -n), or says
# exactly what to install and stops; nothing when all is there.
deps-all deps-demo deps-check deps-bench:
	@tools/deps $(DEPSFLAGS) $(@:deps-%=%)

$(B)/obj/lib/%.o: lib/%.c lib/synclog.h $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# Which CRC the build uses is remembered, so that changing it rebuilds.
$(B)/obj/crc.conf: FORCE
	@mkdir -p $(@D)
	@echo '$(ISAL)' | cmp -s - $@ || echo '$(ISAL)' > $@

$(B)/obj/lib/crc32.o: lib/crc32.c lib/bytes.h $(B)/obj/crc.conf
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CRCFLAGS) -c -o $@ $<

$(B)/obj/cmd/%.o: cmd/%.c lib/synclog.h $(wildcard cmd/*/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Icmd/common $(CFLAGS_$(firstword $(subst /, ,$*))) \
	    -c -o $@ $<

$(B)/obj/libsynclog.a: $(LIBOBJ)
	@rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(B)/bin/%: $(B)/obj/cmd/%.o $(COMMON) $(B)/obj/libsynclog.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(LDLIBS_$*)

define folder_prog
$$(B)/bin/$(1): $$(patsubst cmd/%.c,$$(B)/obj/cmd/%.o,$$(wildcard cmd/$(1)/*.c)) \
    $$(COMMON) $$(B)/obj/libsynclog.a
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS) $$(LDLIBS_$(1))
endef
$(foreach p,$(FOLDERS),$(eval $(call folder_prog,$(p))))

$(B)/obj/t/%: t/tools/%.c $(B)/obj/libsynclog.a $(wildcard t/tools/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS)

# Shims are preloaded into sanitized programs too, so they are built
# without sanitizers (the runtime must come first in the link order).
$(B)/obj/t/%.so: t/shim/%.c
	@mkdir -p $(@D)
	cc -O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fPIC -shared \
	    -o $@ $< -ldl

# The whole suite: what it needs installed, then man page lint, the
# tests, the same tests on a build with AddressSanitizer and
# UndefinedBehaviorSanitizer, and the fuzz corpora.
check: deps-check
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory lint test check-sanitize fuzz-replay

test: build $(ALTDEPS)
	SYNCLOG_BUILD=$(abspath $(B)) \
	    SYNCLOG_CRC_ALT=$(if $(ALTDEPS),$(abspath $(ALTB))) bats t

# The programs again with the other CRC (ISA-L's or zlib's), for t/040.
crc-alt:
	@$(MAKE) --no-print-directory B=$(ALTB) ISAL=$(ALT_ISAL) \
	    $(addprefix $(ALTB)/bin/,logappend logcat logfsck) \
	    $(ALTB)/obj/t/crc32check

lint:
	@if command -v mandoc >/dev/null; then \
		echo "mandoc -Tlint man/*"; \
		mandoc -Tlint -Wwarning $(MAN1) $(MAN5) $(MAN7); \
	else \
		echo "lint: mandoc not installed, using groff"; \
		for m in $(MAN1) $(MAN5) $(MAN7); do \
			out=$$(groff -mandoc -ww -z $$m 2>&1); \
			[ -z "$$out" ] || { echo "$$out"; exit 1; }; \
		done; \
	fi

check-sanitize:
	$(MAKE) B=build/san CFLAGS='$(SAN)' LDFLAGS='$(SAN)' test

bench: deps-bench
	@$(MAKE) --no-print-directory build
	bench/run

# The benchmarks of this tree against those of commit BASE, in one run.
BASE	?= HEAD~1
bench-compare: deps-bench
	@$(MAKE) --no-print-directory build
	bench/compare $(BASE)

demo: deps-demo
	@$(MAKE) --no-print-directory build
	examples/demo/run

install: $(BINS)
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(BASHCOMPDIR)
	cp $(BINS) $(DESTDIR)$(BINDIR)/
	cp $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	cp $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	cp $(MAN7) $(DESTDIR)$(MANDIR)/man7/
	cp completion/synclog.bash $(DESTDIR)$(BASHCOMPDIR)/synclog
	for p in $(PROGS); do ln -sf synclog $(DESTDIR)$(BASHCOMPDIR)/$$p; \
	    done

clean:
	rm -rf bin obj build

# ---- fuzzing and torture (fuzz/, t/06*-t/09*) --------------------------
# fuzz-replay: each harness fuzz/NAME.c linked with fuzz/replay.c under
# ASan and UBSan, run once over its committed corpus fuzz/corpus/NAME/.
# fuzz: each harness under libFuzzer (clang) for FUZZTIME seconds, from a
# copy of the corpus in build/fuzz/corpus; crashes land in build/fuzz.
# torture: the reliability tests with TORTURE=1, then fuzzing, then the
# summary of both.
FUZZERS	:= $(filter-out replay,$(basename $(notdir $(wildcard fuzz/*.c))))
FUZZCC	?= $(shell command -v clang >/dev/null 2>&1 && echo clang || echo cc)
FUZZTIME ?= 60
FZFLAGS	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=all -std=c11 -D_GNU_SOURCE -Wall -Ilib
FZREPLAY := $(addprefix build/fuzz/replay/,$(FUZZERS))
FZLIBF	:= $(addprefix build/fuzz/libfuzzer/,$(FUZZERS))
FZROBJ	:= $(patsubst lib/%.c,build/fuzz/obj-replay/%.o,$(LIBSRC))
FZLOBJ	:= $(patsubst lib/%.c,build/fuzz/obj-libfuzzer/%.o,$(LIBSRC))

build/fuzz/obj-replay/%.o: lib/%.c lib/synclog.h $(wildcard lib/*.h) $(B)/obj/crc.conf
	@mkdir -p $(@D)
	$(FUZZCC) $(FZFLAGS) $(CRCFLAGS) -c -o $@ $<

build/fuzz/replay/%: fuzz/%.c fuzz/replay.c fuzz/fuzz.h $(FZROBJ)
	@mkdir -p $(@D)
	$(FUZZCC) $(FZFLAGS) -o $@ fuzz/$*.c fuzz/replay.c $(FZROBJ) $(LDLIBS)

build/fuzz/obj-libfuzzer/%.o: lib/%.c lib/synclog.h $(wildcard lib/*.h) $(B)/obj/crc.conf
	@mkdir -p $(@D)
	clang $(FZFLAGS) $(CRCFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/libfuzzer/%: fuzz/%.c fuzz/fuzz.h $(FZLOBJ)
	@mkdir -p $(@D)
	clang $(FZFLAGS) -fsanitize=fuzzer -o $@ fuzz/$*.c $(FZLOBJ) $(LDLIBS)

fuzz-replay: $(FZREPLAY)
	@for f in $(FUZZERS); do \
		build/fuzz/replay/$$f fuzz/corpus/$$f || exit 1; \
	done

fuzz: $(FZLIBF)
	FUZZTIME=$(FUZZTIME) fuzz/run $(FUZZERS)

torture: build fuzz-replay $(FZLIBF)
	MAKE="$(MAKE)" t/tools/rel-torture

.PHONY: all build check test lint check-sanitize bench bench-compare demo \
	install clean \
	fuzz fuzz-replay torture crc-alt deps-all deps-demo deps-check \
	deps-bench FORCE
.SECONDARY:
