# ctxrun: `make demo` to see it work, `make check` to test it.
# On Debian, missing packages are installed when run as root with apt-get;
# otherwise the exact apt-get command is printed.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS = -Wall -Wextra -Werror=implicit-function-declaration
CPPFLAGS += -D_GNU_SOURCE -D_FORTIFY_SOURCE=2
# Asked in the recipes: libbsd-dev may be installed by deps-build first.
BSD_CFLAGS = $$(pkg-config --cflags libbsd-overlay)
# libbsd is linked statically: only strlcpy and strtonum come from it, and
# loading one more shared library at every start costs more than they weigh.
BSD_LIBS = -Wl,-Bstatic -lbsd -Wl,-Bdynamic -lm
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined

LIB_SRC = lib/clock.c lib/context.c lib/envcodec.c lib/parse.c \
	lib/registry.c lib/signals.c lib/tree.c lib/sweep.c lib/spawn.c lib/relay.c \
	lib/supervise.c lib/loop.c lib/attempts.c lib/hook.c lib/idle.c \
	lib/nesting.c lib/received.c lib/warn.c lib/ctxenv.c lib/jobdeadline.c \
	lib/cause.c lib/instant.c lib/gnu.c lib/core.c lib/terminal.c lib/inherit.c lib/envsize.c
CMD_SRC = cmd/main.c cmd/subcommands.c cmd/timeout.c cmd/speak.c cmd/json.c \
	cmd/report.c cmd/outcome.c cmd/conclude.c cmd/options.c cmd/help.c
HDRS = lib/ctxrun.h lib/supervise.h lib/gnu.h lib/internal.h lib/sup.h lib/sweep.h \
	lib/registry.h lib/tree.h lib/spawn.h lib/relay.h lib/signals.h lib/envcodec.h \
	lib/core.h lib/module.h cmd/cmd.h
UNIT_TESTS = tests/unit/test_parse tests/unit/test_context tests/unit/test_envcodec \
	tests/unit/test_jobdeadline tests/unit/test_core tests/unit/test_sweep
FUZZ_TARGETS = duration instant signal value context
FUZZ_LIB = lib/parse.c lib/instant.c lib/gnu.c lib/clock.c lib/context.c lib/envcodec.c lib/inherit.c
FUZZ_SECONDS ?= 120

# Debian packages the build and the tests need, and how to tell they are here.
DEPS_BUILD = libbsd-dev:/usr/include/bsd/string.h pkg-config:/usr/bin/pkg-config
DEPS_CHECK = bats:/usr/bin/bats bats-support:/usr/lib/bats/bats-support/load.bash \
	bats-assert:/usr/lib/bats/bats-assert/load.bash mandoc:/usr/bin/mandoc \
	procps:/usr/bin/pgrep util-linux:/usr/bin/setsid python3:/usr/bin/python3 \
	bash-completion:/usr/share/bash-completion/bash_completion zsh:/usr/bin/zsh \
	fish:/usr/bin/fish coreutils:/usr/bin/timeout valgrind:/usr/bin/valgrind

all: build/ctxrun

# Linked statically: with no dynamic loader to run, ctxrun starts in about
# 200 us less and maps less memory (see make bench); STATIC= links it
# dynamically.
STATIC ?= -static
build/ctxrun: $(LIB_SRC) $(CMD_SRC) $(HDRS) | deps-build
	@mkdir -p build
	$(CC) $(CPPFLAGS) $(BSD_CFLAGS) $(CFLAGS) $(WARNINGS) $(STATIC) -o $@ $(CMD_SRC) $(LIB_SRC) \
		$(if $(STATIC),-lbsd -lm,$(BSD_LIBS)) $(LDFLAGS)

# The sanitizer build of the library, compiled once for ctxrun, the unit
# tests and the fuzz replays.
SAN_LIB = build/asan/libctxrun.a
build/asan/lib/%.o: lib/%.c $(HDRS) | deps-build
	@mkdir -p build/asan/lib
	$(CC) $(CPPFLAGS) $(BSD_CFLAGS) $(SAN_FLAGS) $(WARNINGS) -c -o $@ $<
$(SAN_LIB): $(LIB_SRC:lib/%.c=build/asan/lib/%.o)
	ar rcs $@ $^

build/asan/ctxrun: $(CMD_SRC) $(HDRS) $(SAN_LIB) | deps-build
	$(CC) $(CPPFLAGS) $(BSD_CFLAGS) $(SAN_FLAGS) $(WARNINGS) -o $@ $(CMD_SRC) $(SAN_LIB) $(BSD_LIBS)

build/tests/%: tests/unit/%.c tests/unit/unit.h $(SAN_LIB) | deps-build
	@mkdir -p build/tests
	$(CC) $(CPPFLAGS) $(BSD_CFLAGS) $(SAN_FLAGS) $(WARNINGS) -o $@ $< $(SAN_LIB) $(BSD_LIBS)

# The fuzz targets: replayed over their corpus by any compiler (make check),
# fuzzed by clang's libFuzzer (make fuzz).
build/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(SAN_LIB) | deps-build
	@mkdir -p build/fuzz
	$(CC) $(CPPFLAGS) $(BSD_CFLAGS) $(SAN_FLAGS) $(WARNINGS) -o $@ $< tests/fuzz/replay.c $(SAN_LIB) $(BSD_LIBS)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB) $(HDRS) | deps-fuzz
	@mkdir -p build/fuzz
	clang $(CPPFLAGS) $(BSD_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined \
		$(WARNINGS) -o $@ $< $(FUZZ_LIB) $(BSD_LIBS)

build/bench/timeit: tests/bench/timeit.c
	@mkdir -p build/bench
	$(CC) -O2 $(WARNINGS) -o $@ $<

# Installs what is missing (root with apt-get), or says what to install.
deps-build:
	@sh tests/ensure-packages.sh $(DEPS_BUILD)
deps-check:
	@sh tests/ensure-packages.sh $(DEPS_BUILD) $(DEPS_CHECK)
deps-fuzz:
	@sh tests/ensure-packages.sh $(DEPS_BUILD) clang:/usr/bin/clang \
		libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a

demo: build/ctxrun
	@sh tests/demo.sh build/ctxrun

unit: $(UNIT_TESTS:tests/unit/%=build/tests/%)
	@for t in $^; do ./$$t || exit 1; done

fuzz-replay: $(FUZZ_TARGETS:%=build/fuzz/replay_%)
	@for t in $(FUZZ_TARGETS); do ./build/fuzz/replay_$$t tests/fuzz/corpus/$$t/* || exit 1; done

# FUZZ_SECONDS per target; new inputs go to build/fuzz/corpus/, the seeds
# stay as they are.  Prints executions and coverage per target.
fuzz: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus/$$t; \
		./build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			build/fuzz/corpus/$$t tests/fuzz/corpus/$$t > build/fuzz/$$t.log 2>&1 \
			|| { tail -30 build/fuzz/$$t.log; exit 1; }; \
		printf '%-9s %s, %s\n' $$t "$$(grep -o 'stat::number_of_executed_units: [0-9]*' build/fuzz/$$t.log)" \
			"$$(grep -o 'cov: [0-9]* ft: [0-9]*' build/fuzz/$$t.log | tail -1)"; \
	done

lint-man:
	mandoc -Tlint -W warning cmd/ctxrun.1

# Every scenario of the binary runs twice: the release build, then the
# sanitizer build (completions and install test shell scripts and make; the
# coreutils scripts and the GNU messages of timeout.bats test words, which
# the release build says as well).  The release pass goes in two halves,
# side by side with the sanitizer pass: most of a scenario's time is
# waiting, not CPU.
SAN_SCENARIOS = $(filter-out tests/bats/completions.bats tests/bats/install.bats \
	tests/bats/coreutils-timeout.bats tests/bats/timeout.bats, $(wildcard tests/bats/*.bats))
REL_FIRST = $(addprefix tests/bats/,hostile.bats idle.bats hooks.bats report.bats \
	phases.bats install.bats completions.bats cli.bats)
REL_SECOND = $(filter-out $(REL_FIRST),$(wildcard tests/bats/*.bats))
# memcheck needs the dynamic build: it finds malloc in the shared libc.
build/dyn/ctxrun: $(LIB_SRC) $(CMD_SRC) $(HDRS) | deps-build
	@mkdir -p build/dyn
	$(CC) $(CPPFLAGS) $(BSD_CFLAGS) $(CFLAGS) $(WARNINGS) -o $@ $(CMD_SRC) $(LIB_SRC) $(BSD_LIBS) $(LDFLAGS)
valgrind: build/dyn/ctxrun
	@sh tests/valgrind.sh build/dyn/ctxrun

# make stress: 1000 randomised runs (minutes), hostile shapes included (see
# tests/stress/stress.py); check runs a short one.
STRESS_RUNS ?= 1000
stress: deps-check build/ctxrun
	python3 tests/stress/stress.py --runs $(STRESS_RUNS) --killed 20 \
		--shapes plain,setsid,double,ignore,forking,zombie,stopped,stopped-nested,otheruser,sigflood,closedpipe,retries \
		build/ctxrun
# Shared CI machines are slow at times: a wider margin around each race,
# and no tree that forks without end (it saturates two cores, and a starved
# ctxrun can only act on a deadline once it is scheduled again).
stress-short: build/ctxrun
	python3 tests/stress/stress.py --runs 30 --killed 3 --margin 0.5 \
		--shapes plain,setsid,double,ignore build/ctxrun

# The two passes run side by side: the scenarios mostly wait (for a
# deadline, a grace period, a process to go), and one after the other they
# took most of the six minutes check may take.  Not more side by side: with
# two cores saturated, a scenario run at the idle scheduling class
# (hostile.bats) starves.  Each pass marks its
# processes apart (U_BASE in tests/bats/helper.bash).  The sanitizer pass
# prints when it is done.  Started with & the shell ignores INT and QUIT,
# and so does a make run from a background job; ctxrun would keep them
# ignored, and the scenarios of Ctrl-C would fail: they are put back.
check: deps-check build/ctxrun build/asan/ctxrun unit fuzz-replay lint-man valgrind
	@BATS_TEST_TIMEOUT=90 U_BASE=500000 CTXRUN=$(CURDIR)/build/asan/ctxrun \
		env --default-signal=INT,QUIT bats $(SAN_SCENARIOS) > build/asan-bats.log 2>&1 & san=$$!; \
	BATS_TEST_TIMEOUT=60 U_BASE=250000 CTXRUN=$(CURDIR)/build/ctxrun \
		env --default-signal=INT,QUIT bats --timing $(REL_SECOND) > build/rel2-bats.log 2>&1 & rel2=$$!; \
	BATS_TEST_TIMEOUT=60 CTXRUN=$(CURDIR)/build/ctxrun \
		env --default-signal=INT,QUIT bats --timing $(REL_FIRST); rel=$$?; \
	wait $$rel2; rel2=$$?; \
	echo "== the other release scenarios:"; cat build/rel2-bats.log; \
	wait $$san; asan=$$?; \
	echo "== the scenarios on the sanitizer build:"; cat build/asan-bats.log; \
	[ $$rel -eq 0 ] && [ $$rel2 -eq 0 ] && [ $$asan -eq 0 ]
	$(MAKE) -s stress-short

# Debian's retry(1) is the peer for retries.
bench: build/ctxrun build/bench/timeit
	@sh tests/ensure-packages.sh retry:/usr/bin/retry
	@sh tests/bench/bench.sh build/ctxrun build/bench/timeit

install: build/ctxrun
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m0755 build/ctxrun $(DESTDIR)$(BINDIR)/ctxrun
	install -m0644 cmd/ctxrun.1 $(DESTDIR)$(MANDIR)/man1/ctxrun.1
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m0644 completions/ctxrun.bash $(DESTDIR)$(BASHCOMPDIR)/ctxrun
	install -m0644 completions/_ctxrun $(DESTDIR)$(ZSHCOMPDIR)/_ctxrun
	install -m0644 completions/ctxrun.fish $(DESTDIR)$(FISHCOMPDIR)/ctxrun.fish

# A timeout link shadows coreutils' timeout: only on request.
install-timeout-link: install
	ln -sf ctxrun $(DESTDIR)$(BINDIR)/timeout

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ctxrun $(DESTDIR)$(MANDIR)/man1/ctxrun.1 \
		$(DESTDIR)$(BASHCOMPDIR)/ctxrun $(DESTDIR)$(ZSHCOMPDIR)/_ctxrun \
		$(DESTDIR)$(FISHCOMPDIR)/ctxrun.fish
	# The timeout link, only if it is ours.
	if [ "$$(readlink $(DESTDIR)$(BINDIR)/timeout)" = ctxrun ]; then \
		rm -f $(DESTDIR)$(BINDIR)/timeout; fi

clean:
	rm -rf build

.PHONY: all deps-build deps-check deps-fuzz demo unit fuzz-replay fuzz lint-man check bench install \
	install-timeout-link uninstall clean stress stress-short valgrind
