# tests/fuzz/fuzz.mk - the long randomized runs: `make fuzz`.
#
# Each fuzz-* target is one area's long run; `fuzz` depends on all of them,
# and another area adds its own with `fuzz: fuzz-NAME` in its .mk.
#
#   make fuzz-bpf [FUZZ_BPF_COUNT=N] [FUZZ_SEED=S]
#
# The seed is new on every run (printed by the test, to replay a finding
# with --seed S --start FRAME --count 1); set FUZZ_SEED to repeat one.

FUZZ_BPF_COUNT ?= 5000000
FUZZ_SEED ?= $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')

# The BPF verdict against gate_model on millions of generated frames.
fuzz-bpf: $(BUILD)/tests/test_bpf_diff
	$< --count $(FUZZ_BPF_COUNT) --seed $(FUZZ_SEED)

fuzz: fuzz-bpf

.PHONY: fuzz fuzz-bpf
