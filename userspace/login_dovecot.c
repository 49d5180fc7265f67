/*
 * login_dovecot.c - Dovecot 2.2-2.4 pop3-login/imap-login "Login:" lines.
 *
 * The message is login_log_format "%$: %s" over the default
 * login_log_format_elements, elements with an empty value left out:
 *   Login: user=<U>, method=M, rip=A, lip=A, mpid=N, TLS, session=<B>
 * Dovecot writes U unescaped (str_sanitize() only turns control characters
 * into '?' and cuts at 80), so U may itself hold ">, rip=203.0.113.9": the
 * server's rip= is the LAST one, and all that follows it must be elements
 * that Dovecot alone writes. Syslog tags the line "dovecot" with the login
 * process as a sub-tag; log_path files tag it with the process itself and
 * add the level ("imap-login: Info: Login: ...").
 */
#include "login_priv.h"

static bool is_base64(unsigned char c)
{
	return login_is_word_char(c) || c == '+' || c == '/' || c == '=';
}

/* ", lip=A, mpid=N, TLS, session=<B>" in any order; only lip= is always
 * there, and requiring it is what tells a whole rip= from a line cut inside
 * it. The TLS state "TLS: <error>" carries a library's text: doubt, refuse. */
static bool tail_ok(struct span s)
{
	bool lip = false;

	while (s.n > 0) {
		if (!EAT(&s, ", "))
			return false;
		if (EAT(&s, "lip=")) {
			if (span_take(&s, login_is_addr_char, NULL) == 0)
				return false;
			lip = true;
		} else if (EAT(&s, "mpid=")) {
			if (span_take(&s, login_is_digit, NULL) == 0)
				return false;
		} else if (EAT(&s, "session=<")) {
			if (span_take(&s, is_base64, NULL) == 0 || !EAT(&s, ">"))
				return false;
		} else if (!EAT(&s, "TLS handshaking") && !EAT(&s, "TLS") &&
			   !EAT(&s, "secured")) {
			return false;
		}
	}
	return lip;
}

static bool parse(struct span tag, struct span msg, struct login *out)
{
	struct span user, tail, rip, mech, before_mech;
	long at;

	if (SPAN_IS(tag, "dovecot") && !EAT(&msg, "pop3-login: ") &&
	    !EAT(&msg, "imap-login: "))
		return false;
	EAT(&msg, "Info: ");
	if (!EAT(&msg, "Login: user=<"))
		return false;
	at = RFIND(msg, ", rip=");
	if (at < 0)
		return false;
	user = (struct span){ msg.p, (size_t)at };
	tail = (struct span){ msg.p + at + 6, msg.n - (size_t)at - 6 };
	if (span_take(&tail, login_is_addr_char, &rip) == 0 || !tail_ok(tail))
		return false;
	/* What precedes rip= is "user=<U>, method=M" or, without a
	 * mechanism, "user=<U>". */
	before_mech = user;
	if (span_take_back(&before_mech, login_is_word_char, &mech) > 0 &&
	    EAT_BACK(&before_mech, ">, method="))
		user = before_mech;
	else if (!EAT_BACK(&user, ">"))
		return false;
	if (!login_set_addr(out, rip))
		return false;
	login_set_user(out, user);
	return true;
}

const struct login_server login_dovecot = {
	.format = LOGIN_DOVECOT,
	.tags = { "dovecot", "pop3-login", "imap-login", NULL },
	.parse = parse,
};
