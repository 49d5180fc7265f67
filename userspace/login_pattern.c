/*
 * login_pattern.c - operator-defined login lines: "TAG REGEX" (the syntax is
 * documented at login_parser_add_pattern() in login_parse.h).
 *
 * REGEX is compiled as "^(REGEX)$" with %{ip} and %{user} turned into
 * capturing groups; their group numbers are found by counting the '(' that
 * open groups before them, which is why bracket expressions and escapes are
 * walked here: a '(' inside "[...]" or after '\' opens nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "login_priv.h"

#define IP_TOKEN "%{ip}"
#define USER_TOKEN "%{user}"
#define IP_GROUP "([0-9A-Fa-f.:]+)"
#define USER_GROUP "(.*)"
#define GROUPS_MAX 16   /* of the regex's own groups before its last token */

struct login_pattern {
	char tag[LOGIN_TAG_MAX + 1];
	size_t tag_len;
	regex_t re;
	size_t ip_group, user_group;    /* user_group 0: no %{user} */
};

static int fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -EINVAL;
}

/* Length of the bracket expression at s ("[...]"), or 0 if it never closes.
 * A ']' right after "[" or "[^" is a member, and so is any ']' inside
 * "[:class:]", "[.coll.]" or "[=equiv=]". */
static size_t bracket_len(const char *s)
{
	size_t i = 1;

	if (s[i] == '^')
		i++;
	if (s[i] == ']')
		i++;
	for (; s[i]; i++) {
		if (s[i] == '[' && (s[i + 1] == ':' || s[i + 1] == '.' || s[i + 1] == '=')) {
			const char close[3] = { s[i + 1], ']', '\0' };
			const char *end = strstr(s + i + 2, close);

			if (!end)
				return 0;
			i = (size_t)(end - s) + 1;
		} else if (s[i] == ']') {
			return i + 1;
		}
	}
	return 0;
}

#define REPEAT_RUN_MAX 3

/* REGEX -> "^(REGEX)$" in out (sized by the caller), tokens replaced. */
static int translate(const char *re, char *out, struct login_pattern *pat,
		     char *err, size_t errlen)
{
	size_t groups = 1, o = 0;       /* group 1 is the anchoring wrapper */
	unsigned repeats = 0;           /* repetition operators in a row */
	unsigned depth = 0;             /* open groups of the operator's own */

	o += (size_t)sprintf(out, "^(");
	for (size_t i = 0; re[i];) {
		size_t n = 1;

		/* glibc's regcomp copies a repeated operand per operator: memory
		 * grows exponentially with stacked ones ("a++++..."). */
		if (re[i] == '+' || re[i] == '*' || re[i] == '?' || re[i] == '{') {
			if (++repeats > REPEAT_RUN_MAX)
				return fail(err, errlen, "too many repetition operators in a row");
		} else if (re[i] != '}' && !(repeats && (isdigit((unsigned char)re[i]) || re[i] == ','))) {
			repeats = 0;
		}
		if (re[i] == '\\') {
			n = re[i + 1] ? 2 : 1;
		} else if (re[i] == '[') {
			n = bracket_len(re + i);
			if (n == 0)
				return fail(err, errlen, "unclosed '[' in the regex");
		} else if (strncmp(re + i, IP_TOKEN, strlen(IP_TOKEN)) == 0) {
			if (pat->ip_group)
				return fail(err, errlen, IP_TOKEN " appears more than once");
			pat->ip_group = ++groups;
			o += (size_t)sprintf(out + o, "%s", IP_GROUP);
			i += strlen(IP_TOKEN);
			continue;
		} else if (strncmp(re + i, USER_TOKEN, strlen(USER_TOKEN)) == 0) {
			if (pat->user_group)
				return fail(err, errlen, USER_TOKEN " appears more than once");
			pat->user_group = ++groups;
			o += (size_t)sprintf(out + o, "%s", USER_GROUP);
			i += strlen(USER_TOKEN);
			continue;
		} else if (re[i] == '(') {
			groups++;
			depth++;
		} else if (re[i] == ')') {
			/* It would close the anchoring wrapper: "OK)|(from %{ip}"
			 * would match a message's tail, not the whole message. */
			if (depth == 0)
				return fail(err, errlen, "unbalanced ')' in the regex");
			depth--;
		}
		memcpy(out + o, re + i, n);
		o += n;
		i += n;
	}
	if (!pat->ip_group)
		return fail(err, errlen, "the regex has no " IP_TOKEN);
	if (pat->ip_group > GROUPS_MAX || pat->user_group > GROUPS_MAX)
		return fail(err, errlen, "too many groups before " IP_TOKEN " or " USER_TOKEN);
	sprintf(out + o, ")$");
	return 0;
}

int login_pattern_new(struct login_pattern **out, const char *text, char *err, size_t errlen)
{
	const char *space = strchr(text, ' ');
	struct login_pattern *pat;
	size_t tag_len, cap;
	char *ere;
	int ret;

	tag_len = space ? (size_t)(space - text) : strlen(text);
	if (tag_len == 0 || tag_len > LOGIN_TAG_MAX || !space)
		return fail(err, errlen, "expected \"TAG REGEX\": a program tag, a space, a regex");
	/* Narrower than what the envelope takes for a tag: a program name, so
	 * that a regex written without its tag is refused, not taken as one. */
	for (size_t i = 0; i < tag_len; i++)
		if (!login_is_host_char((unsigned char)text[i]) && text[i] != '/')
			return fail(err, errlen, "the program tag may hold only letters, digits and . _ - /");
	while (*space == ' ')
		space++;
	if (*space == '\0')
		return fail(err, errlen, "the regex after the program tag is empty");

	pat = calloc(1, sizeof(*pat));
	/* Each token grows by less than its group's text; 8 for "^(" ")$". */
	cap = strlen(space) + sizeof(IP_GROUP) + sizeof(USER_GROUP) + 8;
	ere = malloc(cap);
	if (!pat || !ere) {
		free(pat);
		free(ere);
		return -ENOMEM;
	}
	memcpy(pat->tag, text, tag_len);
	pat->tag_len = tag_len;
	ret = translate(space, ere, pat, err, errlen);
	if (ret == 0) {
		int rc = regcomp(&pat->re, ere, REG_EXTENDED);

		if (rc != 0) {
			char why[200];

			regerror(rc, &pat->re, why, sizeof(why));
			snprintf(err, errlen, "bad regex: %s", why);
			ret = -EINVAL;
		}
	}
	free(ere);
	if (ret) {
		free(pat);
		return ret;
	}
	*out = pat;
	return 0;
}

void login_pattern_free(struct login_pattern *pat)
{
	if (!pat)
		return;
	regfree(&pat->re);
	free(pat);
}

bool login_pattern_match(const struct login_pattern *pat, struct span tag,
			 struct span msg, struct login *out)
{
	regmatch_t m[GROUPS_MAX + 1];
	size_t last = pat->ip_group > pat->user_group ? pat->ip_group : pat->user_group;
	regmatch_t *g;

	/* A NUL has no business in a login line, and regexec() is not ours to
	 * trust with one: doubt, refuse. */
	if (!span_is(tag, pat->tag, pat->tag_len) || memchr(msg.p, '\0', msg.n))
		return false;
	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)msg.n;
	if (regexec(&pat->re, msg.p, last + 1, m, REG_STARTEND) != 0)
		return false;
	/* translate() keeps the regex inside its anchors; doubt all the same. */
	if (m[0].rm_so != 0 || m[0].rm_eo != (regoff_t)msg.n)
		return false;
	g = &m[pat->ip_group];
	if (g->rm_so < 0 ||
	    !login_set_addr(out, (struct span){ msg.p + g->rm_so, (size_t)(g->rm_eo - g->rm_so) }))
		return false;
	if (pat->user_group && m[pat->user_group].rm_so >= 0) {
		g = &m[pat->user_group];
		login_set_user(out, (struct span){ msg.p + g->rm_so, (size_t)(g->rm_eo - g->rm_so) });
	} else {
		out->user[0] = '\0';
	}
	return true;
}
