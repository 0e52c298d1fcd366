# pvetmpl — plain GNU make. Our flags are appended to the caller's, so
# dpkg-buildflags hardening survives. DEVELOPER=1 (CI) adds -Werror.
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/pvetmpl
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
CATALOGDIR ?= $(PREFIX)/lib/systemd/catalog
DATADIR ?= $(PREFIX)/share/pvetmpl
# bash-completion's completionsdir (pkg-config --variable=completionsdir
# bash-completion) for PREFIX=/usr; under /usr/local it is found through
# XDG_DATA_DIRS. Not asked of pkg-config: it answers /usr/share whatever PREFIX.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
VERSION := $(shell sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog)

CC ?= cc
CFLAGS ?= -O2 -g
PKGS := libconfuse libsystemd json-c
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

override CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral $(PKG_CFLAGS)
override CPPFLAGS += -D_GNU_SOURCE -iquote wrapper -DPVETMPL_VERSION='"$(VERSION)"' \
	-DPVETMPL_SYSCONFDIR='"$(SYSCONFDIR)"' -DPVETMPL_LIBEXECDIR='"$(LIBEXECDIR)"' -MMD -MP
ifeq ($(DEVELOPER),1)
override CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
override CFLAGS += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
override LDFLAGS += -fsanitize=address,undefined
endif

B := build
LIB_SRCS := $(filter-out wrapper/main.c,$(wildcard wrapper/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
HOOK_SRCS := $(wildcard hooks/*.c)
HOOK_OBJS := $(HOOK_SRCS:%.c=$(B)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(B)/tests/%)
LIB := $(B)/libpvetmpl.a

# libFuzzer harnesses (tests/fuzz/fuzz-*.c): the library rebuilt with clang,
# ASan and UBSan in $(B)/fuzz, apart from the normal objects.
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_B := $(B)/fuzz
# where the harnesses are and where their binaries go (tests/cli/t020 points
# these at a deliberately crashing harness to test tests/fuzz/run.sh)
FUZZ_DIR ?= tests/fuzz
FUZZ_OUT ?= $(FUZZ_B)
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_SRCS := $(wildcard $(FUZZ_DIR)/fuzz-*.c)
FUZZ_BINS := $(FUZZ_SRCS:$(FUZZ_DIR)/%.c=$(FUZZ_OUT)/%)
FUZZ_LIB := $(FUZZ_B)/libpvetmpl.a

all: $(B)/pvetmpl $(B)/pvetmpl-hook

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/pvetmpl: $(B)/wrapper/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/pvetmpl-hook: $(HOOK_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/test-%: tests/unit/test-%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) $(CHECK_LIBS)

$(B)/tests/%: tests/tools/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

test-bins: all $(UNIT_BINS) $(TOOL_BINS)

$(FUZZ_B)/wrapper/%.o: wrapper/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -std=gnu11 $(PKG_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(LIB_SRCS:%.c=$(FUZZ_B)/%.o)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_OUT)/fuzz-%: $(FUZZ_DIR)/fuzz-%.c tests/fuzz/fuzz.h $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz -std=gnu11 $(PKG_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_LIB) $(PKG_LIBS)

fuzz-bins: $(FUZZ_BINS)

# Each harness for FUZZ_SECONDS (default 60), seeded from tests/fixtures; a
# crashing input is kept under tests/fuzz/crashes/ (replayed on every run).
fuzz: fuzz-deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_CC=$(FUZZ_CC) tests/fuzz/run.sh

# clang-14 + libclang-rt-14-dev, installed by root when missing (not a
# Build-Depends: the package build runs no fuzzer).
fuzz-deps:
	@FUZZ_CC=$(FUZZ_CC) tests/fuzz/ensure-clang.sh

# Installs what debian/control's Build-Depends lists, only when something is missing.
deps:
	@tests/ensure-deps.sh

# The whole suite: lint, unit, fixture, simulator, black-box and short fuzz runs;
# ends with the line "N passed, N failed, N skipped".
check: deps fuzz-deps
	$(MAKE) test-bins
	tests/run.sh

# Unit and fixture layers only (no root, no journald): what the package build runs.
check-unit: test-bins
	tests/run.sh --unit

sanitize: deps fuzz-deps
	$(MAKE) clean
	$(MAKE) SANITIZE=1 test-bins
	tests/run.sh

demo: deps
	$(MAKE) all
	tests/demo.sh

install: all
	install -D -m 0755 $(B)/pvetmpl $(DESTDIR)$(SBINDIR)/pvetmpl
	install -D -m 0755 $(B)/pvetmpl-hook $(DESTDIR)$(LIBEXECDIR)/pvetmpl-hook
	install -D -m 0644 conf/pvetmpl.conf $(DESTDIR)$(SYSCONFDIR)/pvetmpl/pvetmpl.conf
	install -D -m 0644 conf/pvetmpl.catalog $(DESTDIR)$(CATALOGDIR)/pvetmpl.catalog
	install -D -m 0644 wrapper/pvetmpl.8 $(DESTDIR)$(MANDIR)/man8/pvetmpl.8
	install -D -m 0644 hooks/pvetmpl-hook.8 $(DESTDIR)$(MANDIR)/man8/pvetmpl-hook.8
	install -D -m 0644 conf/pvetmpl.conf.5 $(DESTDIR)$(MANDIR)/man5/pvetmpl.conf.5
	install -D -m 0644 ansible/library/pvetmpl.yml $(DESTDIR)$(DATADIR)/ansible/library/pvetmpl.yml
	install -D -m 0644 ansible/playbook.yml $(DESTDIR)$(DATADIR)/ansible/playbook.yml
	install -D -m 0644 ansible/inventory.ini $(DESTDIR)$(DATADIR)/ansible/inventory.ini
	install -D -m 0644 completion/pvetmpl $(DESTDIR)$(BASHCOMPDIR)/pvetmpl

# make bench: the benchmark of issue 11 (bench/README.md). It reports, it never
# fails on a number; it fails only when a measurement could not run.
BENCH_BINS := $(B)/bench/noop $(B)/bench/noop-libs $(B)/bench/hook-floor \
	$(B)/bench/gen-journal $(B)/bench/parse-bench $(B)/bench/vmhwm.so

$(B)/bench/noop: bench/noop.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<

# The same nothing, with pvetmpl's libraries loaded (--no-as-needed keeps them).
$(B)/bench/noop-libs: bench/noop.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -Wl,--no-as-needed $(PKG_LIBS)

$(B)/bench/hook-floor $(B)/bench/gen-journal: $(B)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -lsystemd

$(B)/bench/parse-bench: bench/parse-bench.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

$(B)/bench/vmhwm.so: bench/vmhwm.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $<

bench-bins: all $(BENCH_BINS)

bench: deps
	@bench/ensure-tools.sh
	$(MAKE) bench-bins
	bench/run.sh

format:
	clang-format -i wrapper/*.[ch] hooks/*.[ch] tests/unit/*.[ch] $(TOOL_SRCS) tests/fuzz/*.[ch] \
		bench/*.c

format-check:
	clang-format --dry-run --Werror wrapper/*.[ch] hooks/*.[ch] tests/unit/*.[ch] $(TOOL_SRCS) \
		tests/fuzz/*.[ch] bench/*.c

clean:
	rm -rf $(B)

.PHONY: all test-bins fuzz-bins fuzz fuzz-deps deps check check-unit sanitize demo install format format-check clean
.PHONY: bench bench-bins

-include $(shell find $(B) -name '*.d' 2>/dev/null)
