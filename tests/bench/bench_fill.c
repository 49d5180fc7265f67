/*
 * bench_fill - authorize many addresses at once in a popgate pin dir.
 *
 *   bench_fill PIN_DIR < ADDRESSES
 *
 * Authorizes each address (one a line) for 90 minutes and prints the count.
 * The flood benchmark loads 10k authorizations per trial; `popgatectl
 * allow` execs once per address (seconds per trial), this opens the pinned
 * maps once and goes through the same gate_auth_set(). Then the screen is
 * sized for them, as popgated's next sweep would (gate_seen_resize_due()).
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "gate_maps.h"

int main(int argc, char **argv)
{
	struct gate_maps m;
	struct in6_addr a;
	char line[128];
	unsigned long n = 0, lineno = 0;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_fill PIN_DIR < ADDRESSES\n");
		return 2;
	}
	if (gate_maps_open(&m, argv[1]))
		return 1;
	while (fgets(line, sizeof(line), stdin)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		if (addr_parse(line, &a)) {
			fprintf(stderr, "bench_fill: line %lu: %s: not an address\n", lineno, line);
			gate_maps_close(&m);
			return 2;
		}
		err = gate_auth_set(&m, &a, 90 * 60, "bench");
		if (err) {
			fprintf(stderr, "bench_fill: %s: %s\n", line, strerror(-err));
			gate_maps_close(&m);
			return 1;
		}
		n++;
	}
	err = gate_seen_resize_due(&m, n);
	if (err > 0)
		err = gate_seen_rebuild(&m);
	if (err < 0)
		fprintf(stderr, "bench_fill: %s: sizing the screen: %s\n", argv[1], strerror(-err));
	gate_maps_close(&m);
	if (err < 0)
		return 1;
	printf("%lu\n", n);
	return 0;
}
