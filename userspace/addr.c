/* addr.c - see addr.h. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool addr_is_v4(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

int addr_parse_n(const char *s, size_t len, struct in6_addr *out)
{
	char buf[INET6_ADDRSTRLEN];
	struct in_addr v4;

	/* inet_pton would stop at a NUL and take "192.0.2.1\0junk" whole. */
	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &v4) == 1) {
		memset(out, 0, sizeof(*out));
		out->s6_addr[10] = 0xff;
		out->s6_addr[11] = 0xff;
		memcpy(&out->s6_addr[12], &v4, 4);
		return 0;
	}
	/* inet_pton accepts "::ffff:192.0.2.1" as-is: already IPv4-mapped. */
	if (inet_pton(AF_INET6, buf, out) == 1)
		return 0;
	return -EINVAL;
}

int addr_parse(const char *s, struct in6_addr *out)
{
	return addr_parse_n(s, strlen(s), out);
}

int prefix_parse(const char *s, struct in6_addr *out, unsigned *plen)
{
	const char *slash = strchr(s, '/');
	unsigned long len, max;
	bool v4_text;
	char *end;
	int err;

	err = addr_parse_n(s, slash ? (size_t)(slash - s) : strlen(s), out);
	if (err)
		return err;
	/* The length counts in the family the text is written in:
	 * 192.0.2.0/24 and ::ffff:192.0.2.0/120 are the same prefix. */
	v4_text = !memchr(s, ':', slash ? (size_t)(slash - s) : strlen(s));
	max = v4_text ? 32 : 128;
	if (!slash) {
		len = max;
	} else {
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || len > max)
			return -EINVAL;
	}
	if (v4_text)
		len += 96;
	for (unsigned bit = len; bit < 128; bit++)
		if (out->s6_addr[bit / 8] & (0x80 >> (bit % 8)))
			return -EINVAL;
	*plen = len;
	return 0;
}

void addr_format(const struct in6_addr *a, char *buf, size_t len)
{
	if (addr_is_v4(a))
		inet_ntop(AF_INET, &a->s6_addr[12], buf, len);
	else
		inet_ntop(AF_INET6, a, buf, len);
}

void prefix_format(const struct in6_addr *a, unsigned plen, char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN];
	bool v4 = addr_is_v4(a) && plen >= 96;

	addr_format(a, text, sizeof(text));
	if (!v4 && addr_is_v4(a))
		inet_ntop(AF_INET6, a, text, sizeof(text)); /* a prefix wider than ::ffff:0:0/96 */
	snprintf(buf, len, "%s/%u", text, v4 ? plen - 96 : plen);
}
