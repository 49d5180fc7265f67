# daemon.mk - `make bench-daemon` and `make bench-daemon-smoke`: popgated's
# own figures (login throughput, login-to-gate latency, memory); see
# tests/bench/DAEMON.md. Included by the top Makefile; uses its variables.

DAEMON_BENCH_OUT  := $(BUILD)/bench
DAEMON_BENCH_PROG := bench_parse bench_latency
DAEMON_BENCH_DEPS := $(DAEMON_BENCH_PROG:%=$(DAEMON_BENCH_OUT)/%) $(DAEMON_BENCH_OUT)/gen_maillog \
	$(BUILD)/popgated

# Explicit rules: they take precedence over bench.mk's pattern rule for
# $(BUILD)/bench/%; bench_latency's probe is built by bench.mk's rules.
$(DAEMON_BENCH_OUT)/gen_maillog: tests/bench/gen_maillog.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<

$(DAEMON_BENCH_PROG:%=$(DAEMON_BENCH_OUT)/%): $(DAEMON_BENCH_OUT)/%: tests/bench/%.c \
		tests/bench/daemon_util.c $(LIB) $(DAEMON_BENCH_OUT)/latency_probe.skel.h | $(SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/bench -I$(DAEMON_BENCH_OUT) -o $@ $< tests/bench/daemon_util.c \
		$(LIB) $(LDLIBS)

bench-daemon: $(DAEMON_BENCH_DEPS)
	BUILD=$(BUILD) tests/bench/daemon_bench.sh full

bench-daemon-smoke: $(DAEMON_BENCH_DEPS)
	BUILD=$(BUILD) tests/bench/daemon_bench.sh smoke

.PHONY: bench-daemon bench-daemon-smoke
