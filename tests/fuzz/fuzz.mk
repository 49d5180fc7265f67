# tests/fuzz/fuzz.mk - the long randomized runs: `make fuzz`.
#
# Each fuzz-* target is one area's long run; `fuzz` depends on all of them,
# and another area adds its own with `fuzz: fuzz-NAME` in its .mk.
#
#   make fuzz-bpf [FUZZ_BPF_COUNT=N] [FUZZ_SEED=S]
#   make fuzz-parsers [FUZZ_TIME=seconds per target] [FUZZ_FLAGS=...]
#   make fuzz-smoke          a few thousand runs of each parser target, in TAP
#
# The seed is new on every run (printed by the test, to replay a finding
# with --seed S --start FRAME --count 1); set FUZZ_SEED to repeat one.

FUZZ_BPF_COUNT ?= 5000000
FUZZ_SEED ?= $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')

# The BPF verdict against gate_model on millions of generated frames.
fuzz-bpf: $(BUILD)/tests/test_bpf_diff
	$< --count $(FUZZ_BPF_COUNT) --seed $(FUZZ_SEED)

# ---- libFuzzer over the parsers of attacker-influenced text ----
# (tests/fuzz/README.md). Built with clang from the sources themselves, not
# from $(LIB): libFuzzer needs its coverage instrumentation in the code under
# test, and gcc's libpopgate.a has none.

FUZZ_TIME ?= 60
FUZZ_OUT  := $(BUILD)/fuzz
FUZZ_TARGETS := login pattern config cli
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_OUT)/fuzz_%)
FUZZ_CFLAGS := -O1 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP -Ibpf -Iuserspace \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LDFLAGS := -fsanitize=fuzzer,address,undefined
# fuzz_spans.c sees the fields a login was read from (see fuzz_common.h).
FUZZ_WRAP := -Wl,--wrap=login_set_user,--wrap=login_set_addr,--wrap=regexec
FUZZ_LOGIN_OBJS := $(patsubst userspace/%.c,$(FUZZ_OUT)/obj/%.o,$(wildcard userspace/login_*.c)) \
	$(FUZZ_OUT)/obj/addr.o
FUZZ_RUN_FLAGS := -timeout=10 -print_final_stats=1
# More libFuzzer flags, e.g. FUZZ_FLAGS="-fork=1 -ignore_ooms=1 -ignore_crashes=1"
# to keep going past a finding already kept in tests/fuzz/crashes/.
FUZZ_FLAGS ?=

$(FUZZ_OUT)/obj/%.o: userspace/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_OUT)/obj/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_OUT)/fuzz_login: $(FUZZ_OUT)/obj/fuzz_spans.o $(FUZZ_LOGIN_OBJS)
$(FUZZ_OUT)/fuzz_pattern: $(FUZZ_OUT)/obj/fuzz_spans.o $(FUZZ_LOGIN_OBJS)
$(FUZZ_OUT)/fuzz_login $(FUZZ_OUT)/fuzz_pattern: FUZZ_LINK := $(FUZZ_WRAP)
$(FUZZ_OUT)/fuzz_config: $(FUZZ_LOGIN_OBJS) $(patsubst %,$(FUZZ_OUT)/obj/%.o,config duration \
	portlist msg attach_mode)
$(FUZZ_OUT)/fuzz_cli: $(patsubst %,$(FUZZ_OUT)/obj/%.o,addr duration portlist)

$(FUZZ_BINS): $(FUZZ_OUT)/fuzz_%: $(FUZZ_OUT)/obj/fuzz_%.o
	$(CLANG) $(FUZZ_LDFLAGS) $(FUZZ_LINK) -o $@ $^

fuzz-bins: $(FUZZ_BINS)

# One run per target; new inputs go to $(FUZZ_OUT)/corpus/T, findings to
# $(FUZZ_OUT)/artifacts/T/ (keep a real one under tests/fuzz/crashes/T/).
FUZZ_PARSER_RUNS := $(FUZZ_TARGETS:%=fuzz-parser-%)
$(FUZZ_PARSER_RUNS): fuzz-parser-%: $(FUZZ_OUT)/fuzz_%
	@mkdir -p $(FUZZ_OUT)/corpus/$* $(FUZZ_OUT)/artifacts/$*
	$< -max_total_time=$(FUZZ_TIME) $(FUZZ_RUN_FLAGS) $(FUZZ_FLAGS) \
		-artifact_prefix=$(FUZZ_OUT)/artifacts/$*/ \
		$(FUZZ_OUT)/corpus/$* tests/fuzz/corpus/$*

fuzz-parsers: $(FUZZ_PARSER_RUNS)

fuzz-smoke: $(FUZZ_BINS)
	BUILD=$(BUILD) tests/fuzz/smoke.sh

# `make check` runs the smoke (tests/run.sh's fuzz suite): build it with the rest.
tests: $(FUZZ_BINS)

fuzz: fuzz-bpf fuzz-parsers

.PHONY: fuzz fuzz-bpf fuzz-bins fuzz-parsers fuzz-smoke $(FUZZ_PARSER_RUNS)
