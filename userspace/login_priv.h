/*
 * login_priv.h - what login_parse.c shares with the per-server parsers
 * (login_<server>.c). Not for use outside the login parser.
 *
 * Text is handled as spans (pointer + length) because a log line is neither
 * NUL-terminated nor free of NUL bytes; no str*() function may touch it.
 */
#ifndef POPGATE_LOGIN_PRIV_H
#define POPGATE_LOGIN_PRIV_H
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "login_parse.h"

struct span {
	const char *p;
	size_t n;
};

/* Consume the literal lit from the front (or back) of *s; false: untouched. */
static inline bool span_eat(struct span *s, const char *lit, size_t n)
{
	if (s->n < n || memcmp(s->p, lit, n) != 0)
		return false;
	s->p += n;
	s->n -= n;
	return true;
}

static inline bool span_eat_back(struct span *s, const char *lit, size_t n)
{
	if (s->n < n || memcmp(s->p + s->n - n, lit, n) != 0)
		return false;
	s->n -= n;
	return true;
}

#define EAT(s, lit) span_eat((s), (lit), sizeof(lit) - 1)
#define EAT_BACK(s, lit) span_eat_back((s), (lit), sizeof(lit) - 1)

static inline bool span_is(struct span s, const char *lit, size_t n)
{
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

#define SPAN_IS(s, lit) span_is((s), (lit), sizeof(lit) - 1)

/* Offset of the last occurrence of needle in s, or -1. */
long span_rfind(struct span s, const char *needle, size_t n);
#define RFIND(s, lit) span_rfind((s), (lit), sizeof(lit) - 1)

/* Character classes of the fields servers write themselves. */
bool login_is_digit(unsigned char c);
bool login_is_addr_char(unsigned char c);      /* hex digits, '.', ':' */
bool login_is_host_char(unsigned char c);      /* what a resolved host name may hold */
bool login_is_word_char(unsigned char c);      /* [A-Za-z0-9_-]: mechanisms, protocols */

/* Consume from the front of *s the longest run of class; its length. */
size_t span_take(struct span *s, bool (*class)(unsigned char), struct span *taken);
/* Same from the back. */
size_t span_take_back(struct span *s, bool (*class)(unsigned char), struct span *taken);
/* The word at the front of s: up to the first space, or all of s. */
struct span span_token(struct span s);

/* out->addr from a field of address characters only; false if not an address. */
bool login_set_addr(struct login *out, struct span a);
/* out->user from what the server wrote: truncated, non-printables -> '?'. */
void login_set_user(struct login *out, struct span u);

#define LOGIN_TAG_MAX 63      /* longer first tokens are not program tags */

/*
 * One server format: the program tags that select it, and the parser of the
 * message that follows "TAG[pid]: ". parse() returns true and fills addr and
 * user for a successful login.
 */
#define LOGIN_TAGS_MAX 6
struct login_server {
	unsigned format;
	const char *tags[LOGIN_TAGS_MAX + 1];   /* NULL-terminated */
	bool (*tag_match)(struct span tag);      /* for tags not known in advance, or NULL */
	bool (*parse)(struct span tag, struct span msg, struct login *out);
};

extern const struct login_server login_dovecot, login_courier, login_cyrus,
	login_uwimap, login_qpopper;

/* Operator patterns (login_pattern.c). */
struct login_pattern;
int login_pattern_new(struct login_pattern **out, const char *text, char *err, size_t errlen);
void login_pattern_free(struct login_pattern *pat);
/* true: the tag is the pattern's and the message matches it, out filled. */
bool login_pattern_match(const struct login_pattern *pat, struct span tag,
			 struct span msg, struct login *out);
#endif
