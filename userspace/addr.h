/*
 * addr.h - client addresses as popgate stores them.
 *
 * Every address is a struct in6_addr; IPv4 (and IPv4-mapped IPv6, which is
 * the same host) is held as ::ffff:a.b.c.d, matching the key of the BPF
 * maps, and printed back as plain IPv4. Parsers return 0 or -EINVAL.
 */
#ifndef POPGATE_ADDR_H
#define POPGATE_ADDR_H
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define ADDR_STRLEN 64 /* INET6_ADDRSTRLEN plus room for "/128" */

int addr_parse(const char *s, struct in6_addr *out);
/* Same, for text that is not NUL-terminated (a field inside a log line). */
int addr_parse_n(const char *s, size_t len, struct in6_addr *out);
/* "192.0.2.0/24", "2001:db8::/32", or a bare address (full length).
 * *plen is in IPv6 terms: an IPv4 /24 becomes /120 under ::ffff:0:0/96.
 * Host bits set below the prefix are an error: "192.0.2.1/24" is refused. */
int prefix_parse(const char *s, struct in6_addr *out, unsigned *plen);
bool addr_is_v4(const struct in6_addr *a);
void addr_format(const struct in6_addr *a, char *buf, size_t len);
void prefix_format(const struct in6_addr *a, unsigned plen, char *buf, size_t len);
#endif
