# e2e.mk - what the end-to-end suites need built, and `make soak`.
# Included by the top Makefile; uses its variables.

# load.bats floods the relay with tests/bench/flood_gen.
tests: $(BUILD)/bench/flood_gen

# The long runs of the bounded suites in `make check`.
SOAK_SECONDS ?= 120
soak: tests
	PG_LOAD_SECONDS=$(SOAK_SECONDS) PG_LOAD_LOGINS=$$(($(SOAK_SECONDS) / 2)) \
		bats --tap tests/e2e/load.bats

.PHONY: soak
