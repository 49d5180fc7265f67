/* Addresses and prefixes as the CLI, the config and the parsers read them. */
#include <string.h>

#include "addr.h"
#include "tap.h"

static const struct {
	const char *in;
	const char *shown; /* NULL: must be refused */
} addrs[] = {
	{ "192.0.2.1", "192.0.2.1" },
	{ "::ffff:192.0.2.1", "192.0.2.1" },     /* IPv4-mapped is IPv4 */
	{ "::FFFF:c000:0201", "192.0.2.1" },
	{ "2001:db8::25", "2001:db8::25" },
	{ "2001:DB8:0:0::1", "2001:db8::1" },
	{ "::1", "::1" },
	{ "192.0.2", NULL },
	{ "192.0.2.256", NULL },
	{ "192.0.2.1 ", NULL },
	{ " 192.0.2.1", NULL },
	{ "2001:db8::25%eth0", NULL },
	{ "", NULL },
	{ "0x7f.1", NULL },
	{ "2001:db8:::1", NULL },
};

static const struct {
	const char *in;
	const char *shown;
	unsigned plen;
} prefixes[] = {
	{ "192.0.2.0/24", "192.0.2.0/24", 120 },
	{ "198.51.100.7", "198.51.100.7/32", 128 },
	{ "0.0.0.0/0", "0.0.0.0/0", 96 },
	{ "2001:db8::/32", "2001:db8::/32", 32 },
	{ "::/0", "::/0", 0 },
	{ "::ffff:192.0.2.0/120", "192.0.2.0/24", 120 },
	{ "192.0.2.1/24", NULL, 0 },   /* host bits set: a typo, refused */
	{ "192.0.2.0/33", NULL, 0 },
	{ "2001:db8::/129", NULL, 0 },
	{ "192.0.2.0/", NULL, 0 },
	{ "192.0.2.0/-1", NULL, 0 },
	{ "192.0.2.0/24x", NULL, 0 },
};

int main(void)
{
	char buf[ADDR_STRLEN];
	struct in6_addr a;
	unsigned plen;

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		int err = addr_parse(addrs[i].in, &a);

		if (!addrs[i].shown) {
			CHECK(err != 0, "address '%s' refused", addrs[i].in);
			continue;
		}
		addr_format(&a, buf, sizeof(buf));
		CHECK(err == 0 && strcmp(buf, addrs[i].shown) == 0, "address '%s' -> %s (got %s)",
		      addrs[i].in, addrs[i].shown, err ? "error" : buf);
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		int err = prefix_parse(prefixes[i].in, &a, &plen);

		if (!prefixes[i].shown) {
			CHECK(err != 0, "prefix '%s' refused", prefixes[i].in);
			continue;
		}
		prefix_format(&a, plen, buf, sizeof(buf));
		CHECK(err == 0 && plen == prefixes[i].plen && strcmp(buf, prefixes[i].shown) == 0,
		      "prefix '%s' -> %s /%u (got %s /%u)", prefixes[i].in, prefixes[i].shown,
		      prefixes[i].plen, err ? "error" : buf, plen);
	}
	CHECK(addr_parse_n("192.0.2.77rest", 9, &a) == 0 && (addr_format(&a, buf, sizeof(buf)),
	      strcmp(buf, "192.0.2.7") == 0), "addr_parse_n reads only its length");
	return tap_done();
}
