# popgate: POP-before-SMTP in the kernel. See README.md.
#
#   make            build build/popgatectl, build/popgated (BPF object embedded)
#   make check      install test dependencies, build, run the whole suite
#   make demo       install dependencies, run the self-contained demo
#   make install    PREFIX=/usr/local DESTDIR=
#   make bench / fuzz / soak   the long runs (see tests/)

PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
CLANG   ?= clang
BPFTOOL ?= bpftool

ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
WARN      := -Wall -Wextra -Werror

CFLAGS  ?= -O2 -g
override CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP -Ibpf -Iuserspace -I$(BUILD) \
	$(shell pkg-config --cflags libnl-3.0 2>/dev/null)
LDLIBS  := -lbpf -lelf -lz $(shell pkg-config --libs libnl-route-3.0 libnl-3.0 libsystemd 2>/dev/null)
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) -I/usr/include/$(MULTIARCH) -Ibpf $(WARN)

PROGS    := popgatectl popgated
LIB_SRCS := $(filter-out $(PROGS:%=userspace/%.c),$(wildcard userspace/*.c))
LIB      := $(BUILD)/libpopgate.a
LIB_ASAN := $(BUILD)/asan/libpopgate.a
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT     := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_ASAN := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/asan/tests/%)
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT     := $(BPFT_SRCS:tests/bpf/%.c=$(BUILD)/tests/%)
SKEL     := $(BUILD)/gate.skel.h

all: $(PROGS:%=$(BUILD)/%)

$(BUILD)/gate.bpf.o: bpf/gate.bpf.c bpf/gate.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BUILD)/gate.bpf.o
	$(BPFTOOL) gen skeleton $< name gate_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%.o: userspace/%.c | $(SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/asan/obj/%.o: userspace/%.c | $(SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -c $< -o $@

$(LIB): $(LIB_SRCS:userspace/%.c=$(BUILD)/obj/%.o)
	$(AR) rcs $@ $^

$(LIB_ASAN): $(LIB_SRCS:userspace/%.c=$(BUILD)/asan/obj/%.o)
	$(AR) rcs $@ $^

$(BUILD)/%: $(BUILD)/obj/%.o $(LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) | $(SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/asan/tests/%: tests/unit/%.c $(LIB_ASAN) | $(SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -Itests/unit -o $@ $< $(LIB_ASAN) $(LDLIBS)

$(BUILD)/tests/test_bpf_%: tests/bpf/test_bpf_%.c $(LIB) | $(SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIB) $(LDLIBS)

$(BUILD):
	mkdir -p $@

tests: all $(UNIT) $(UNIT_ASAN) $(BPFT)

deps:
	deploy/install-deps.sh

check: deps
	$(MAKE) tests
	tests/run.sh

demo: deps
	$(MAKE) all
	tests/demo.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(PROGS:%=$(BUILD)/%) $(DESTDIR)$(SBINDIR)/
	install -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	deploy/install-config.sh "$(DESTDIR)" "$(SYSCONFDIR)" "$(SBINDIR)"

clean:
	rm -rf $(BUILD)

.PHONY: all tests deps check demo install clean

# Each test area may bring its own targets (bench, fuzz, soak, ...).
include $(wildcard tests/*/*.mk)
.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
