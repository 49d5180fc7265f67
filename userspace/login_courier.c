/*
 * login_courier.c - Courier pop3d/imapd "LOGIN," lines.
 *
 * courierpop3login and imaplogin write to stderr
 *   INFO: LOGIN, user=U, ip=[A], port=[N][, protocol=P][, stls=1]
 * and courierlogger sends it to syslog under the service's name (pop3d,
 * pop3d-ssl, imapd, imapd-ssl), turning "INFO: " into the priority; older
 * versions logged under the login program's own name and without port=.
 * U is written unescaped, so the server's ip=[ is the LAST one and only
 * Courier's own fields may follow it. Failures read "LOGIN FAILED, ...".
 */
#include "login_priv.h"

static bool parse(struct span tag, struct span msg, struct login *out)
{
	struct span user, tail, ip;
	long at;

	(void)tag;
	EAT(&msg, "INFO: ");
	if (!EAT(&msg, "LOGIN, user="))
		return false;
	at = RFIND(msg, ", ip=[");
	if (at < 0)
		return false;
	user = (struct span){ msg.p, (size_t)at };
	tail = (struct span){ msg.p + at + 6, msg.n - (size_t)at - 6 };
	if (span_take(&tail, login_is_addr_char, &ip) == 0 || !EAT(&tail, "]"))
		return false;
	if (EAT(&tail, ", port=[") &&
	    (span_take(&tail, login_is_digit, NULL) == 0 || !EAT(&tail, "]")))
		return false;
	if (EAT(&tail, ", protocol=") && span_take(&tail, login_is_word_char, NULL) == 0)
		return false;
	EAT(&tail, ", stls=1");
	if (tail.n != 0 || !login_set_addr(out, ip))
		return false;
	login_set_user(out, user);
	return true;
}

const struct login_server login_courier = {
	.format = LOGIN_COURIER,
	.tags = { "pop3d", "pop3d-ssl", "imapd", "imapd-ssl", "courierpop3login",
		  "imaplogin", NULL },
	.parse = parse,
};
