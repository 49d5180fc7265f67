/*
 * login_qpopper.c - Qpopper's login line (its LOG_LOGIN format).
 *
 * From the source (pop_init.c, pop_log.c; Debian 12 no longer ships it):
 *   (vVERSION) POP login by user "U" at (HOST) A[ [pop_log.c:N]]
 * HOST is the resolved name or the address, A the numeric address; the
 * bracketed source position is added by builds that log it. U comes first and
 * is written as given, so the line is read from its end. The syslog tag is
 * the program's name: popper, qpopper or in.qpopper.
 */
#include "login_priv.h"

static bool is_client_char(unsigned char c)
{
	return login_is_host_char(c) || c == ':';
}

/* A version ("4.1.0") or a source file name ("pop_log.c"). */
static bool is_dotted_char(unsigned char c)
{
	return login_is_word_char(c) || c == '.';
}

static bool parse(struct span tag, struct span msg, struct login *out)
{
	struct span ip;

	(void)tag;
	if (EAT(&msg, "(v") &&
	    (span_take(&msg, is_dotted_char, NULL) == 0 || !EAT(&msg, ") ")))
		return false;
	if (!EAT(&msg, "POP login by user \""))
		return false;
	if (EAT_BACK(&msg, "]")) {
		if (span_take_back(&msg, login_is_digit, NULL) == 0 ||
		    !EAT_BACK(&msg, ":") ||
		    span_take_back(&msg, is_dotted_char, NULL) == 0 ||
		    !EAT_BACK(&msg, " ["))
			return false;
	}
	if (span_take_back(&msg, login_is_addr_char, &ip) == 0 ||
	    !EAT_BACK(&msg, ") ") ||
	    span_take_back(&msg, is_client_char, NULL) == 0 ||
	    !EAT_BACK(&msg, "\" at (") || !login_set_addr(out, ip))
		return false;
	login_set_user(out, msg);
	return true;
}

const struct login_server login_qpopper = {
	.format = LOGIN_QPOPPER,
	.tags = { "popper", "qpopper", "in.qpopper", NULL },
	.parse = parse,
};
