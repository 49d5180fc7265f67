/*
 * fuzz_config.c - libFuzzer target: config_load() over the input as a whole
 * configuration file.
 *
 * config.h promises: all or none (a failed load leaves *c untouched), every
 * loaded value in its documented range, and config_print() output that
 * "loads back equal". All three are checked on every input: a config that
 * popgated accepts but prints as something it refuses, or as another
 * config, would make `popgated --print-config` lie to the operator.
 *
 * config_load() takes a path: the input goes to a memfd, opened as
 * /proc/self/fd/N, so that no run touches the disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "duration.h"
#include "fuzz_common.h"
#include "msg.h"

static int in_fd, back_fd;
static char in_path[64], back_path[64];

static int memfd_or_die(const char *name, char *path, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0) {
		perror("fuzz_config: memfd_create");
		abort();
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Every bad line is reported on stderr: at thousands of inputs a
	 * second that is most of the run. The reports are still formatted
	 * (config.c's problem()), only not written. */
	msg_set_level(-1);
	in_fd = memfd_or_die("fuzz.conf", in_path, sizeof(in_path));
	back_fd = memfd_or_die("printed.conf", back_path, sizeof(back_path));
	return 0;
}

static void put(int fd, const void *p, size_t n)
{
	if (ftruncate(fd, 0) != 0 || pwrite(fd, p, n, 0) != (ssize_t)n) {
		perror("fuzz_config: memfd");
		abort();
	}
}

/* The ranges config.h gives each field. */
static void check_ranges(const struct config *c)
{
	FUZZ_ASSERT(c->n_ports >= 1 && c->n_ports <= GATE_MAX_PORTS, "%u ports", c->n_ports);
	for (unsigned i = 0; i < c->n_ports; i++)
		FUZZ_ASSERT(c->ports[i] != 0, "port 0 at %u", i);
	FUZZ_ASSERT(c->window_s >= 1 && c->window_s <= DURATION_MAX_S, "window %llu",
		    (unsigned long long)c->window_s);
	FUZZ_ASSERT(c->sweep_interval_s >= 1 && c->sweep_interval_s <= DURATION_MAX_S,
		    "sweep_interval %llu", (unsigned long long)c->sweep_interval_s);
	FUZZ_ASSERT(c->n_trust <= GATE_TRUST_MAX, "%zu trusted prefixes", c->n_trust);
	for (size_t i = 0; i < c->n_trust; i++)
		FUZZ_ASSERT(c->trust[i].plen <= 128, "trust plen %u", c->trust[i].plen);
	for (size_t i = 0; i < c->n_logs; i++)
		FUZZ_ASSERT(c->logs[i][0] == '/', "log %s is not absolute", c->logs[i]);
	FUZZ_ASSERT(c->n_logs || c->journal || c->read_stdin, "loaded without a source");
	FUZZ_ASSERT(c->formats && !(c->formats & ~CONFIG_FORMATS_ALL), "formats 0x%x", c->formats);
	FUZZ_ASSERT(memchr(c->pin_dir, '\0', sizeof(c->pin_dir)) && c->pin_dir[0] == '/',
		    "pin_dir is not an absolute path");
	FUZZ_ASSERT(c->max_entries >= 1 && c->max_entries <= CONFIG_MAX_ENTRIES_MAX,
		    "max_entries %u", c->max_entries);
	FUZZ_ASSERT(c->log_level >= LOG_ERR && c->log_level <= LOG_DEBUG, "log_level %d",
		    c->log_level);
	for (size_t i = 0; i < c->n_ifaces; i++) {
		size_t n = strnlen(c->ifaces[i].name, CONFIG_IFNAMSIZ);

		FUZZ_ASSERT(n >= 1 && n < CONFIG_IFNAMSIZ, "interface name of %zu bytes", n);
	}
}

#define SAME(what, cond) FUZZ_ASSERT(cond, "printed config loads back with another %s:\n%s", \
				     what, printed)

static void check_equal(const struct config *a, const struct config *b, const char *printed)
{
	SAME("interface list", a->n_ifaces == b->n_ifaces);
	for (size_t i = 0; i < a->n_ifaces; i++)
		SAME("interface", !strcmp(a->ifaces[i].name, b->ifaces[i].name) &&
				  a->ifaces[i].mode == b->ifaces[i].mode);
	SAME("ports", a->n_ports == b->n_ports &&
		      !memcmp(a->ports, b->ports, a->n_ports * sizeof(a->ports[0])));
	SAME("window", a->window_s == b->window_s);
	SAME("trust list", a->n_trust == b->n_trust);
	for (size_t i = 0; i < a->n_trust; i++)
		SAME("trust", a->trust[i].plen == b->trust[i].plen &&
			      !memcmp(&a->trust[i].addr, &b->trust[i].addr, sizeof(a->trust[i].addr)));
	SAME("log list", a->n_logs == b->n_logs);
	for (size_t i = 0; i < a->n_logs; i++)
		SAME("log", !strcmp(a->logs[i], b->logs[i]));
	SAME("journal", a->journal == b->journal && !a->journal_unit == !b->journal_unit &&
			(!a->journal_unit || !strcmp(a->journal_unit, b->journal_unit)));
	SAME("stdin", a->read_stdin == b->read_stdin);
	SAME("format", a->formats == b->formats);
	/* origin is "FILE:LINE" of where the pattern was read: it moves. */
	SAME("pattern list", a->n_patterns == b->n_patterns);
	for (size_t i = 0; i < a->n_patterns; i++)
		SAME("pattern", !strcmp(a->patterns[i].text, b->patterns[i].text));
	SAME("pin_dir", !strcmp(a->pin_dir, b->pin_dir));
	SAME("max_entries", a->max_entries == b->max_entries);
	SAME("action", a->action == b->action);
	SAME("sweep_interval", a->sweep_interval_s == b->sweep_interval_s);
	SAME("log_level", a->log_level == b->log_level);
}

static void check_round_trip(const struct config *c)
{
	struct config back;
	char *printed = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&printed, &n);
	int r;

	if (!f)
		abort();
	config_print(c, f);
	fclose(f);
	put(back_fd, printed, n);
	r = config_load(back_path, &back);
	if (r != 0) {
		/* Say why, this once. */
		msg_set_level(LOG_DEBUG);
		config_load(back_path, &back);
		FUZZ_ASSERT(r == 0, "printed config does not load back (%d):\n%s", r, printed);
	}
	check_equal(c, &back, printed);
	config_free(&back);
	free(printed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, before;
	int r;

	memset(&c, 0x5a, sizeof(c));
	memcpy(&before, &c, sizeof(c));
	put(in_fd, data, size);
	r = config_load(in_path, &c);
	if (r != 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM, "config_load returned %d", r);
		FUZZ_ASSERT(!memcmp(&c, &before, sizeof(c)), "a failed load changed *c");
		return 0;
	}
	check_ranges(&c);
	check_round_trip(&c);
	config_free(&c);
	config_free(&c);        /* config.h: safe to call twice */
	return 0;
}
