# bench.mk - `make bench` and `make bench-smoke` (see tests/bench/README.md).
# Included by the top Makefile; uses its variables.

BENCH_OUT  := $(BUILD)/bench
BENCH_BPF  := $(patsubst tests/bench/%.bpf.c,%,$(wildcard tests/bench/*.bpf.c))
BENCH_BIN  := bench_xdp_cost flood_gen bench_fill
BENCH_DEPS := $(BENCH_BIN:%=$(BENCH_OUT)/%) $(BUILD)/popgatectl

$(BENCH_OUT)/%.bpf.o: tests/bench/%.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_OUT)/%.skel.h: $(BENCH_OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

# Every bench program may use every skeleton; packet_build.h is shared with
# the BPF tests.
$(BENCH_OUT)/%: tests/bench/%.c $(LIB) $(BENCH_BPF:%=$(BENCH_OUT)/%.skel.h) | $(SKEL)
	$(CC) $(CFLAGS) -I$(BENCH_OUT) -Itests/bpf -o $@ $< $(LIB) $(LDLIBS)

# Like `make check`: the build dependencies first, then build, then run.
bench: deps
	$(MAKE) $(BENCH_DEPS)
	BUILD=$(BUILD) BPFTOOL=$(BPFTOOL) tests/bench/run.sh full

bench-smoke: $(BENCH_DEPS)
	BUILD=$(BUILD) BPFTOOL=$(BPFTOOL) tests/bench/run.sh smoke

.PHONY: bench bench-smoke
