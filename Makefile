# Newchat - GNU Makefile. `make deps` installs what a fresh Debian 12 lacks;
# `make check` and `make demo` run it first, so nothing is installed by hand.

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANPREFIX ?= $(PREFIX)/share/man
# Shell completion (contrib/completion): bash-completion loads a command's
# file by its name; zsh reads _newchat from its fpath.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
DESTDIR   ?=
B         ?= build
CC        ?= cc
CFLAGS    ?= -O2 -g
LDFLAGS   ?=

PKGS     = libsodium libcurl sqlite3 libmicrohttpd libarchive libpq
# Recursive (=) so pkg-config runs only when a recipe needs it: after `deps`.
# lib/ is layered: proto (encodings and cryptography, no I/O), store (the
# sqlite state), net (HTTP to relays), app (the commands' shared logic).
LIB_DIRS    = proto store net app
NC_CPPFLAGS = $(LIB_DIRS:%=-Ilib/%) -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
              $(shell pkg-config --cflags $(PKGS))
NC_CFLAGS   = -std=c11 -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 \
              -fno-strict-aliasing -MMD -MP
# --as-needed: each binary records only the libraries it really calls.
NC_LIBS     = -Wl,--as-needed $(shell pkg-config --libs $(PKGS)) -lpthread -ldl -lm

LIB_SRC   := $(foreach d,$(LIB_DIRS),$(wildcard lib/$(d)/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o)
LIBNC     := $(B)/libnewchat.a
CMD_SRC   := $(wildcard cmd/nc-*.c)
CMDS      := $(patsubst cmd/%.c,$(B)/%,$(CMD_SRC))
RELAYD_SRC:= $(wildcard cmd/nc-relayd/*.c)
RELAYD_OBJ:= $(RELAYD_SRC:%.c=$(B)/%.o)
RELAYD    := $(if $(RELAYD_SRC),$(B)/nc-relayd)
COMPLETED := $(notdir $(CMDS) $(RELAYD))
UNIT_SRC  := $(wildcard t/unit/test-*.c)
UNITS     := $(patsubst t/unit/%.c,$(B)/t/%,$(UNIT_SRC))
HELP_SRC  := $(wildcard t/helpers/*.c)
HELPERS   := $(patsubst t/helpers/%.c,$(B)/t/%,$(HELP_SRC))
PRE_SRC   := $(wildcard t/preload/*.c)
PRELOADS  := $(patsubst t/preload/%.c,$(B)/t/%.so,$(PRE_SRC))
FUZZ_SRC  := $(wildcard t/fuzz/fuzz-*.c)
REPLAYS   := $(patsubst t/fuzz/%.c,$(B)/t/replay-%,$(FUZZ_SRC))
BENCH_SRC := $(wildcard t/bench/bench-*.c)
MAN1      := $(wildcard man/*.1)
MAN5      := $(wildcard man/*.5)
MAN7      := $(wildcard man/*.7)
MAN8      := $(wildcard man/*.8)

ALL_CFLAGS = $(NC_CPPFLAGS) $(NC_CFLAGS) $(CFLAGS)

.SECONDARY:

.PHONY: all deps bench-deps check check-asan check-tsan check-build test install uninstall \
        demo bench fuzz soak clean lint

all: $(LIBNC) $(CMDS) $(RELAYD) $(UNITS) $(HELPERS) $(PRELOADS) $(REPLAYS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBNC): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(B)/nc-%: $(B)/cmd/nc-%.o $(LIBNC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBNC) $(NC_LIBS)

$(B)/nc-relayd: $(RELAYD_OBJ) $(LIBNC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(RELAYD_OBJ) $(LIBNC) $(NC_LIBS)

$(B)/t/test-%: $(B)/t/unit/test-%.o $(LIBNC)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBNC) $(NC_LIBS)

$(B)/t/%: $(B)/t/helpers/%.o $(LIBNC)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBNC) $(NC_LIBS)

# LD_PRELOAD shims for tests: plain, never sanitized (they load first).
$(B)/t/%.so: t/preload/%.c
	@mkdir -p $(@D)
	$(CC) $(NC_CPPFLAGS) -std=c11 -Wall -Wextra -Werror -O2 -g -shared -fPIC -o $@ $< -ldl

# Each fuzz target also builds with a plain driver that replays its corpus,
# so `make check` replays every corpus without clang's libFuzzer.
$(B)/t/replay-%: $(B)/t/fuzz/%.o $(B)/t/fuzz/replay.o $(LIBNC) $(filter-out $(B)/cmd/nc-relayd/main.o,$(RELAYD_OBJ))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/t/fuzz/replay.o \
	    $(filter-out $(B)/cmd/nc-relayd/main.o,$(RELAYD_OBJ)) $(LIBNC) $(NC_LIBS)

# Installs the Debian packages that are missing, and nothing else.
DEPS_PKGS = gcc libc6-dev make pkg-config libsodium-dev libcurl4-openssl-dev \
            libsqlite3-dev libarchive-dev libmicrohttpd-dev bats jq curl clang \
            libclang-rt-14-dev mandoc valgrind sqlite3 procps psmisc openssl xxd \
            faketime postgresql-15 libpq-dev zsh python3
BENCH_PKGS = wrk gnuplot-nox libolm-dev libsignal-protocol-c-dev age
deps:
	@sh t/helpers/install-deps $(DEPS_PKGS)
bench-deps: deps
	@sh t/helpers/install-deps $(BENCH_PKGS)

check: deps
	@$(MAKE) --no-print-directory check-build
	@NC_BUILD=$(B) NC_VALGRIND=1 bash t/run

check-build: all

check-asan: deps
	@$(MAKE) --no-print-directory B=build-asan CC=gcc \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined" all
	@NC_BUILD=build-asan NC_ASAN=1 \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 bash t/run

# The suite with every program built under ThreadSanitizer (CI runs it).
# A data race needs threads: the relay's (connections, waiters, push, the
# PostgreSQL listener), the client's network process and its media and
# group-sealing threads. TSAN_TESTS are
# the files that drive those concurrently; the rest send one request at a
# time and find nothing more under TSan (check and check-asan run them).
# Reports go to build-tsan/reports; any report fails the run.
TSAN_TESTS = $(wildcard t/1*.bats) t/2120-netproc.bats t/2130-push-client.bats \
             t/2500-concurrency.bats t/2510-late-ack.bats t/2630-parallel.bats \
             t/4210-relay-wal.bats t/4300-relay-disk-full.bats \
             t/5100-media-resume.bats t/6020-group-upload.bats
check-tsan: deps
	@$(MAKE) --no-print-directory B=build-tsan CC=gcc \
	    CFLAGS="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread" all
	@rm -rf build-tsan/reports && mkdir -p build-tsan/reports
	@NC_BUILD=build-tsan NC_TSAN=1 NC_QUICK=1 NC_TESTS="$(TSAN_TESTS)" \
	    NC_SAN_LOGS=$(CURDIR)/build-tsan/reports \
	    TSAN_OPTIONS=halt_on_error=0:report_signal_unsafe=0:log_path=$(CURDIR)/build-tsan/reports/tsan \
	    bash t/run

demo: deps
	@$(MAKE) --no-print-directory all
	@NC_BUILD=$(B) bash t/helpers/demo

bench: bench-deps
	@$(MAKE) --no-print-directory all
	@NC_BUILD=$(B) bash t/bench/run

FUZZ_SECONDS ?= 60
fuzz: deps
	@NC_BUILD=$(B) FUZZ_SECONDS=$(FUZZ_SECONDS) bash t/fuzz/run

# Two relays, five senders and four receivers for SOAK_SECONDS, relays and
# clients SIGKILLed at random; every message sent (exit 0 or 75) must
# arrive exactly once (t/soak/run prints the counts). Not part of check.
SOAK_SECONDS ?= 120
soak: deps
	@$(MAKE) --no-print-directory all
	@NC_BUILD=$(B) SOAK_SECONDS=$(SOAK_SECONDS) bash t/soak/run

lint:
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5) $(MAN7) $(MAN8)

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANPREFIX)/man1 \
	    $(DESTDIR)$(MANPREFIX)/man5 $(DESTDIR)$(MANPREFIX)/man7 $(DESTDIR)$(MANPREFIX)/man8
	install -m 0755 $(CMDS) $(RELAYD) $(DESTDIR)$(BINDIR)/
	$(if $(MAN1),install -m 0644 $(MAN1) $(DESTDIR)$(MANPREFIX)/man1/)
	$(if $(MAN5),install -m 0644 $(MAN5) $(DESTDIR)$(MANPREFIX)/man5/)
	$(if $(MAN7),install -m 0644 $(MAN7) $(DESTDIR)$(MANPREFIX)/man7/)
	$(if $(MAN8),install -m 0644 $(MAN8) $(DESTDIR)$(MANPREFIX)/man8/)
	mkdir -p $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	for c in $(COMPLETED); do \
	    install -m 0644 contrib/completion/newchat.bash $(DESTDIR)$(BASHCOMPDIR)/$$c || exit 1; \
	done
	install -m 0644 contrib/completion/_newchat $(DESTDIR)$(ZSHCOMPDIR)/_newchat

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(CMDS) $(RELAYD)))
	rm -f $(addprefix $(DESTDIR)$(MANPREFIX)/man1/,$(notdir $(MAN1)))
	rm -f $(addprefix $(DESTDIR)$(MANPREFIX)/man5/,$(notdir $(MAN5)))
	rm -f $(addprefix $(DESTDIR)$(MANPREFIX)/man7/,$(notdir $(MAN7)))
	rm -f $(addprefix $(DESTDIR)$(MANPREFIX)/man8/,$(notdir $(MAN8)))
	rm -f $(addprefix $(DESTDIR)$(BASHCOMPDIR)/,$(COMPLETED))
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_newchat

clean:
	rm -rf build build-asan build-tsan build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)
