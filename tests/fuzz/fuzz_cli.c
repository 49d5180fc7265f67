/*
 * fuzz_cli.c - libFuzzer target: the text popgatectl takes on its command
 * line (and the config file in the same syntax): addresses, prefixes,
 * durations, port lists. Every parser gets every input.
 *
 * Round trips, the property an operator relies on when popgatectl prints
 * back what it stored: a parsed value, formatted, parses to the same value.
 * Plus each header's ranges and rules: host bits clear below a prefix, a
 * duration within 1..DURATION_MAX_S, ports 1..65535, distinct, in order.
 */
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "duration.h"
#include "fuzz_common.h"
#include "portlist.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static bool same_addr(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* raw: the input's bytes, s: the same as a C string (an argv entry stops
 * at a NUL, so s may be shorter). */
static void check_addr(const char *raw, size_t len, const char *s)
{
	struct in6_addr a, b;
	char text[ADDR_STRLEN];
	int r = addr_parse(s, &a);

	FUZZ_ASSERT(r == 0 || r == -EINVAL, "addr_parse returned %d", r);
	if (!memchr(raw, '\0', len)) {
		int rn = addr_parse_n(raw, len, &b);

		FUZZ_ASSERT(rn == r && (r || same_addr(&a, &b)),
			    "addr_parse_n and addr_parse disagree on \"%s\"", s);
	}
	if (r)
		return;
	addr_format(&a, text, sizeof(text));
	FUZZ_ASSERT(addr_parse(text, &b) == 0 && same_addr(&a, &b),
		    "\"%s\" formats as \"%s\", which parses to another address", s, text);
	/* A bare address is its own full-length prefix. */
	FUZZ_ASSERT(prefix_parse(s, &b, &(unsigned){ 0 }) == 0 && same_addr(&a, &b),
		    "address \"%s\" is refused as a prefix", s);
}

static void check_prefix(const char *s)
{
	struct in6_addr a, b;
	char text[ADDR_STRLEN];
	unsigned plen, plen2;
	int r = prefix_parse(s, &a, &plen);

	FUZZ_ASSERT(r == 0 || r == -EINVAL, "prefix_parse returned %d", r);
	if (r)
		return;
	FUZZ_ASSERT(plen <= 128, "\"%s\": prefix length %u", s, plen);
	for (unsigned bit = plen; bit < 128; bit++)
		FUZZ_ASSERT(!(a.s6_addr[bit / 8] & (0x80 >> (bit % 8))),
			    "\"%s\": host bit %u set below /%u", s, bit, plen);
	/* IPv4 text counts under ::ffff:0:0/96. */
	if (!strchr(s, ':'))
		FUZZ_ASSERT(plen >= 96 && addr_is_v4(&a), "IPv4 \"%s\" -> /%u", s, plen);
	prefix_format(&a, plen, text, sizeof(text));
	FUZZ_ASSERT(prefix_parse(text, &b, &plen2) == 0 && same_addr(&a, &b) && plen == plen2,
		    "\"%s\" formats as \"%s\", which parses to another prefix", s, text);
}

static void check_duration(const char *s)
{
	uint64_t secs, back;
	char text[64];
	int r = duration_parse(s, &secs);

	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ERANGE, "duration_parse returned %d", r);
	if (r)
		return;
	FUZZ_ASSERT(secs >= 1 && secs <= DURATION_MAX_S, "\"%s\" -> %llu s", s,
		    (unsigned long long)secs);
	duration_format(secs, text, sizeof(text));
	FUZZ_ASSERT(duration_parse(text, &back) == 0 && back == secs,
		    "\"%s\" (%llu s) formats as \"%s\", which parses to %llu s", s,
		    (unsigned long long)secs, text, (unsigned long long)back);
}

static void check_ports(const char *s)
{
	uint16_t ports[GATE_MAX_PORTS], back[GATE_MAX_PORTS];
	const char *bad = NULL;
	char text[GATE_MAX_PORTS * 7 + 1];
	unsigned n, n2;
	size_t off = 0;
	int r = portlist_parse(s, ports, &n, &bad);

	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -E2BIG, "portlist_parse returned %d", r);
	if (r) {
		/* *bad, when set, is inside the text it complains about. */
		FUZZ_ASSERT(!bad || (bad >= s && bad <= s + strlen(s)),
			    "portlist_parse points outside \"%s\"", s);
		return;
	}
	FUZZ_ASSERT(n >= 1 && n <= GATE_MAX_PORTS, "\"%s\" -> %u ports", s, n);
	for (unsigned i = 0; i < n; i++) {
		FUZZ_ASSERT(ports[i] != 0, "\"%s\" -> port 0", s);
		for (unsigned j = 0; j < i; j++)
			FUZZ_ASSERT(ports[i] != ports[j], "\"%s\" -> %u twice", s, ports[i]);
		/* Both separators, as the config prints ", " and users type " ". */
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s%u",
					i == 0 ? "" : i % 2 ? "," : " ", ports[i]);
	}
	FUZZ_ASSERT(portlist_parse(text, back, &n2, NULL) == 0 && n2 == n &&
		    !memcmp(ports, back, n * sizeof(ports[0])),
		    "\"%s\" prints as \"%s\", which parses to other ports", s, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size);

	if (!s)
		abort();
	check_addr((const char *)data, size, s);
	check_prefix(s);
	check_duration(s);
	check_ports(s);
	free(s);
	return 0;
}
