# tests/bpf/bpf.mk - build rules of the BPF tests that need more than one
# source file. The top Makefile's $(BUILD)/tests/test_bpf_% rule compiles a
# test from its single .c; the explicit rule below takes precedence over it
# for test_bpf_diff only, so every other test_bpf_* still builds that way.

BPF_DIFF_SRCS := tests/bpf/gate_model.c tests/bpf/pkt_gen.c
BPF_DIFF_OBJS := $(BPF_DIFF_SRCS:tests/bpf/%.c=$(BUILD)/tests/bpf/%.o)

$(BPF_DIFF_OBJS): $(BUILD)/tests/bpf/%.o: tests/bpf/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/test_bpf_diff: tests/bpf/test_bpf_diff.c $(BPF_DIFF_OBJS) | $(SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BPF_DIFF_OBJS) $(LDLIBS)
