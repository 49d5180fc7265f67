/*
 * fuzz_spans.c - see fuzz_common.h. The login targets are linked with
 * --wrap for login_set_user(), login_set_addr() and regexec(): the per-server
 * parsers (login_<server>.c) and login_pattern.c call them across object
 * files, so the linker sends those calls here first, and the target learns
 * the exact fields a result came from without any hook in userspace/.
 */
#include <regex.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "fuzz_common.h"
#include "login_priv.h"

bool __real_login_set_addr(struct login *out, struct span a);
void __real_login_set_user(struct login *out, struct span u);
int __real_regexec(const regex_t *re, const char *s, size_t nmatch, regmatch_t m[], int eflags);
bool __wrap_login_set_addr(struct login *out, struct span a);
void __wrap_login_set_user(struct login *out, struct span u);
int __wrap_regexec(const regex_t *re, const char *s, size_t nmatch, regmatch_t m[], int eflags);

static struct fuzz_spans seen;

void fuzz_spans_reset(void)
{
	seen = (struct fuzz_spans){ 0 };
}

struct fuzz_spans fuzz_spans_get(void)
{
	return seen;
}

/* Only a field that made an address counts: a parser may try one and fail. */
bool __wrap_login_set_addr(struct login *out, struct span a)
{
	bool ok = __real_login_set_addr(out, a);

	if (ok) {
		seen.addr = a.p;
		seen.addr_n = a.n;
	}
	return ok;
}

void __wrap_login_set_user(struct login *out, struct span u)
{
	__real_login_set_user(out, u);
	seen.user = u.p;
	seen.user_n = u.n;
}

/*
 * login_pattern.c runs "^(REGEX)$" over [rm_so, rm_eo) of m[0] with
 * REG_STARTEND. login_parse.h promises that a pattern matches the WHOLE
 * message: a match that starts or ends elsewhere means the anchoring wrapper
 * was escaped (a ')' in REGEX can close it early), and the text before or
 * after the match is the client's.
 */
int __wrap_regexec(const regex_t *re, const char *s, size_t nmatch, regmatch_t m[], int eflags)
{
	regoff_t so = nmatch ? m[0].rm_so : 0, eo = nmatch ? m[0].rm_eo : 0;
	char *copy;
	int rc;

	if (!nmatch || !(eflags & REG_STARTEND))
		return __real_regexec(re, s, nmatch, m, eflags);
	/*
	 * ASan's regexec interceptor checks strlen(s) + 1 bytes even under
	 * REG_STARTEND, where glibc reads only [rm_so, rm_eo): on a line that
	 * is not NUL-terminated (every line popgated reads) it reports an
	 * overflow that glibc never makes. Hand it the same bytes, terminated.
	 */
	copy = malloc((size_t)eo + 1);
	if (!copy)
		abort();
	memcpy(copy, s, (size_t)eo);
	copy[eo] = '\0';
	rc = __real_regexec(re, copy, nmatch, m, eflags);
	free(copy);
	if (rc != 0)
		return rc;
	FUZZ_ASSERT(m[0].rm_so == so && m[0].rm_eo == eo,
		    "a pattern matched bytes %d..%d of a message of bytes %d..%d, not all of it",
		    (int)m[0].rm_so, (int)m[0].rm_eo, (int)so, (int)eo);
	for (size_t i = 1; i < nmatch; i++)
		FUZZ_ASSERT(m[i].rm_so == -1 ||
			    (m[i].rm_so >= so && m[i].rm_so <= m[i].rm_eo && m[i].rm_eo <= eo),
			    "group %zu at %d..%d outside the message %d..%d", i,
			    (int)m[i].rm_so, (int)m[i].rm_eo, (int)so, (int)eo);
	return rc;
}

/* Written out here rather than taken from login_priv.h: the check must not
 * share a mistake with the code it checks. */
static bool is_addr_char(unsigned char c)
{
	return c != '\0' && strchr("0123456789abcdefABCDEF.:", c) != NULL;
}

static bool inside(const char *line, size_t len, const char *p, size_t n)
{
	uintptr_t l = (uintptr_t)line, q = (uintptr_t)p;

	return q >= l && n <= len && q - l <= len - n;
}

void fuzz_check_login(const char *line, size_t len, const struct login *l,
		      unsigned formats, bool bounded)
{
	const char *nul = memchr(l->user, '\0', sizeof(l->user));
	char got[ADDR_STRLEN];
	struct in6_addr a;
	size_t off;

	FUZZ_ASSERT(l->format && !(l->format & (l->format - 1)) && (l->format & formats) &&
		    l->format != LOGIN_POPA3D,
		    "format 0x%x out of the parser's 0x%x", l->format, formats);

	FUZZ_ASSERT(nul, "user not NUL-terminated within %d bytes", LOGIN_USER_MAX);
	for (const char *c = l->user; c < nul; c++)
		FUZZ_ASSERT(*c >= 0x20 && *c < 0x7f, "user byte 0x%02x at %zu is not printable ASCII",
			    (unsigned char)*c, (size_t)(c - l->user));

	/* The address is text of the line, not something built elsewhere. */
	FUZZ_ASSERT(seen.addr && seen.addr_n > 0 && inside(line, len, seen.addr, seen.addr_n),
		    "the address was not read from the line");
	off = (size_t)(seen.addr - line);
	for (size_t i = 0; i < seen.addr_n; i++)
		FUZZ_ASSERT(is_addr_char((unsigned char)seen.addr[i]),
			    "address field byte 0x%02x is not an address character",
			    (unsigned char)seen.addr[i]);
	addr_format(&l->addr, got, sizeof(got));
	FUZZ_ASSERT(addr_parse_n(seen.addr, seen.addr_n, &a) == 0 &&
		    memcmp(&a, &l->addr, sizeof(a)) == 0,
		    "returned address %s is not the field \"%.*s\" at %zu", got,
		    (int)seen.addr_n, seen.addr, off);
	if (bounded) {
		FUZZ_ASSERT(off == 0 || !is_addr_char((unsigned char)line[off - 1]),
			    "address field \"%.*s\" at %zu continues before", (int)seen.addr_n,
			    seen.addr, off);
		FUZZ_ASSERT(off + seen.addr_n == len ||
			    !is_addr_char((unsigned char)line[off + seen.addr_n]),
			    "address field \"%.*s\" at %zu continues after", (int)seen.addr_n,
			    seen.addr, off);
	}

	if (!seen.user) {
		FUZZ_ASSERT(l->format == LOGIN_PATTERN && l->user[0] == '\0',
			    "user \"%s\" without a user field (format 0x%x)", l->user, l->format);
		return;
	}
	FUZZ_ASSERT(inside(line, len, seen.user, seen.user_n), "the user was not read from the line");
	FUZZ_ASSERT(seen.user + seen.user_n <= seen.addr || seen.addr + seen.addr_n <= seen.user,
		    "user field at %zu+%zu overlaps the address field at %zu+%zu",
		    (size_t)(seen.user - line), seen.user_n, off, seen.addr_n);
	/* The user as the header describes it: truncated, '?' for the rest. */
	for (size_t i = 0; i < seen.user_n && i < LOGIN_USER_MAX - 1; i++) {
		unsigned char c = (unsigned char)seen.user[i];

		FUZZ_ASSERT(l->user[i] == (c >= 0x20 && c < 0x7f ? (char)c : '?'),
			    "user \"%s\" is not the field \"%.*s\"", l->user, (int)seen.user_n,
			    seen.user);
	}
	FUZZ_ASSERT(strlen(l->user) == (seen.user_n < LOGIN_USER_MAX - 1 ? seen.user_n
								       : LOGIN_USER_MAX - 1),
		    "user \"%s\" is not the field's length %zu", l->user, seen.user_n);
}

bool fuzz_same_login(const struct login *a, const struct login *b)
{
	return memcmp(&a->addr, &b->addr, sizeof(a->addr)) == 0 &&
	       strcmp(a->user, b->user) == 0 && a->format == b->format;
}
