/*
 * login_uwimap.c - UW IMAP (c-client) imapd and ipop3d successes.
 *
 * From the source (imapd.c, ipop3d.c; Debian 12 no longer ships UW IMAP):
 *   imapd:  Login user=U host=H | Authenticated user=U host=H[ mech=M]
 *   ipop3d: [Admin ]Login|Auth|APOP user=U host=H nmsgs=N/N | ... no mailbox
 * with H = tcp_clienthost(): "NAME [A]" or "[A]", and both U and H cut at
 * 80 characters. U comes first and is written as given, so the server's
 * host= is the LAST one; a cut H has lost its "]" and is refused. Failures
 * read "Login failed", "Login failure", "AUTHENTICATE ... failure".
 */
#include "login_priv.h"

static bool parse(struct span tag, struct span msg, struct login *out)
{
	struct span user, tail, ip;
	long at;

	(void)tag;
	if (!EAT(&msg, "Login user=") && !EAT(&msg, "Admin Login user=") &&
	    !EAT(&msg, "Authenticated user=") && !EAT(&msg, "Auth user=") &&
	    !EAT(&msg, "APOP user="))
		return false;
	at = RFIND(msg, " host=");
	if (at < 0)
		return false;
	user = (struct span){ msg.p, (size_t)at };
	tail = (struct span){ msg.p + at + 6, msg.n - (size_t)at - 6 };
	if (tail.n > 0 && tail.p[0] != '[' &&
	    (span_take(&tail, login_is_host_char, NULL) == 0 || !EAT(&tail, " ")))
		return false;
	if (!EAT(&tail, "[") || span_take(&tail, login_is_addr_char, &ip) == 0 ||
	    !EAT(&tail, "]"))
		return false;
	if (EAT(&tail, " mech=")) {
		if (span_take(&tail, login_is_word_char, NULL) == 0)
			return false;
	} else if (EAT(&tail, " nmsgs=")) {
		if (span_take(&tail, login_is_digit, NULL) == 0 || !EAT(&tail, "/") ||
		    span_take(&tail, login_is_digit, NULL) == 0)
			return false;
	} else {
		EAT(&tail, " no mailbox");
	}
	if (tail.n != 0 || !login_set_addr(out, ip))
		return false;
	login_set_user(out, user);
	return true;
}

const struct login_server login_uwimap = {
	.format = LOGIN_UWIMAP,
	.tags = { "imapd", "ipop3d", NULL },
	.parse = parse,
};
