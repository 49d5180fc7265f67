/*
 * login_cyrus.c - Cyrus IMAP 2.x-3.x pop3d/imapd "login:" lines.
 *
 *   login: [HOST ][A] U MECH[+TLS] User logged in[ SESSIONID=<S>]
 * "HOST [A]" is get_clienthost(): the resolved name (if any) and the numeric
 * address, written before the user, so no user name can move it. U is written
 * as is (spaces included), so it is what lies between "] " and the mechanism.
 * Failures read "badlogin: ..."; an anonymous login is not an authenticated
 * user and is refused: "login: HOST [A] anonymous PASSWORD", where PASSWORD is
 * the client's free text and may well end in " PLAIN User logged in".
 *
 * The tag is the service name from cyrus.conf behind imapd.conf's
 * syslog_prefix ("cyrus/imap" on Debian, "pop3s" upstream); rsyslog's RFC 5424
 * output keeps only the part before '/', so a bare "cyrus" is accepted too.
 */
#include "login_priv.h"

static bool tag_match(struct span tag)
{
	const char *slash = memrchr(tag.p, '/', tag.n);
	struct span base = tag;

	if (slash)
		base = (struct span){ slash + 1, tag.n - (size_t)(slash + 1 - tag.p) };
	else if (SPAN_IS(tag, "cyrus"))
		return true;
	return SPAN_IS(base, "pop3") || SPAN_IS(base, "pop3s") ||
	       SPAN_IS(base, "imap") || SPAN_IS(base, "imaps");
}

static bool parse(struct span tag, struct span msg, struct login *out)
{
	struct span ip;

	(void)tag;
	if (!EAT(&msg, "login: "))
		return false;
	if (msg.n > 0 && msg.p[0] != '[' &&
	    (span_take(&msg, login_is_host_char, NULL) == 0 || !EAT(&msg, " ")))
		return false;
	if (!EAT(&msg, "[") || span_take(&msg, login_is_addr_char, &ip) == 0 ||
	    !EAT(&msg, "] "))
		return false;
	if (SPAN_IS(span_token(msg), "anonymous"))
		return false;
	if (EAT_BACK(&msg, ">")) {
		if (span_take_back(&msg, login_is_word_char, NULL) == 0 ||
		    !EAT_BACK(&msg, " SESSIONID=<"))
			return false;
	}
	if (!EAT_BACK(&msg, " User logged in"))
		return false;
	EAT_BACK(&msg, "+TLS");
	if (span_take_back(&msg, login_is_word_char, NULL) == 0 ||
	    !EAT_BACK(&msg, " ") || msg.n == 0 || !login_set_addr(out, ip))
		return false;
	login_set_user(out, msg);
	return true;
}

const struct login_server login_cyrus = {
	.format = LOGIN_CYRUS,
	.tags = { NULL },
	.tag_match = tag_match,
	.parse = parse,
};
