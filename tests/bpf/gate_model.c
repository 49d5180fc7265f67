/*
 * gate_model.c - the gate's policy, implemented a second time in plain C.
 *
 * Written from the policy (the header comment of bpf/gate.bpf.c and the
 * rules of issue 6), not from the BPF code. It works on byte offsets
 * into the frame and has none of the verifier's constraints, so it can say
 * each rule the way the policy says it. Where it and the program disagree
 * on a packet, test_bpf_diff shows the packet.
 *
 * The rules, in the order they apply:
 *  Ethernet: shorter than 14 bytes -> pass_malformed. Up to 2 VLAN tags
 *   (0x8100, 0x88a8) are skipped, a truncated tag -> pass_malformed; a third
 *   tag, or any type but IPv4/IPv6 -> not_gated.
 *  IPv4: 20 bytes beyond the frame, version != 4, ihl < 5 or ihl*4 >
 *   tot_len -> pass_malformed; not TCP -> not_gated; fragment offset 1..2
 *   -> drop_fragment, higher -> not_gated; MF at offset 0 -> first fragment.
 *  IPv6: 40 bytes beyond the frame or version != 6 -> pass_malformed; the
 *   packet ends at 40 + payload_len (0: at the frame's end). At most 8
 *   extension headers (HBH, routing, dstopts, AH, fragment) are walked;
 *   each one's first 8 bytes must be in frame and packet, else
 *   drop_fragment after a first fragment, pass_malformed otherwise. A
 *   fragment header at offset 1..2 whose next header is TCP or an extension
 *   -> drop_fragment, at any other non-zero offset -> not_gated; offset 0
 *   with M makes the packet a first fragment from there on (a later atomic
 *   fragment header does not undo it). Within the 8, a protocol that is
 *   neither TCP nor an extension header -> not_gated; after 8 headers,
 *   anything but TCP -> drop_unparsable.
 *  TCP: its 20 bytes in frame and packet, else drop_fragment for a first
 *   fragment, pass_malformed otherwise. Not SYN-without-ACK, or a port not
 *   gated -> not_gated. Then: authorized and not expired -> pass_authorized;
 *   trusted (when the config has trust) -> pass_trusted; authorized but
 *   expired -> drop_expired; else drop_unauthorized.
 */
#include "gate_model.h"

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <string.h>

#define ETH_HDR 14
#define VLAN_TAG 4
#define VLAN_TAGS_SKIPPED 2
#define IP4_HDR 20
#define IP6_HDR 40
#define EXT_WALKED 8
#define EXT_MIN 8               /* bytes of an extension header looked at */
#define TCP_HDR 20
#define FRAG_UNITS_UNSAFE 3     /* offsets (8-byte units) below overlap TCP 0..19 */
#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define CONTINUE (-1)           /* a layer parsed; a later one decides */

/* What the walk through the headers has found so far. */
struct walk {
	const __u8 *f;
	size_t len;        /* frame length */
	size_t end;        /* end of the IP packet by its length field */
	size_t tcp;        /* offset of the TCP header */
	bool first_frag;   /* offset 0, more fragments follow */
	struct gate_addr src;
};

static unsigned be16(const __u8 *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* [off, off+n) is both in the frame and in the IP packet. */
static bool within(const struct walk *w, size_t off, size_t n)
{
	return off + n <= w->len && off + n <= w->end;
}

/* A header that is not all there: a first fragment may leave the rest to
 * a later fragment, anything else the stack will find truncated. */
static int cut_short(const struct walk *w, int rule, int rule_first_frag)
{
	return w->first_frag ? rule_first_frag : rule;
}

static int walk_ipv4(struct walk *w, size_t l3)
{
	const __u8 *ip = w->f + l3;
	unsigned ihl_bytes, tot, frag_units;

	if (l3 + IP4_HDR > w->len)
		return GATE_MODEL_V4_CUT;
	ihl_bytes = (ip[0] & 0x0f) * 4u;
	tot = be16(ip + 2);
	if (ip[0] >> 4 != 4 || ihl_bytes < IP4_HDR || ihl_bytes > tot)
		return GATE_MODEL_V4_BAD;
	if (ip[9] != IPPROTO_TCP)
		return GATE_MODEL_V4_NOT_TCP;
	frag_units = be16(ip + 6) & 0x1fff;
	if (frag_units != 0)
		return frag_units < FRAG_UNITS_UNSAFE ? GATE_MODEL_V4_FRAG_LOW
						      : GATE_MODEL_V4_FRAG_HIGH;
	w->first_frag = (ip[6] & 0x20) != 0;
	w->end = l3 + tot;
	w->tcp = l3 + ihl_bytes;
	/* The maps key IPv4 as ::ffff:a.b.c.d. */
	memset(&w->src, 0, sizeof(w->src));
	w->src.addr[10] = w->src.addr[11] = 0xff;
	memcpy(&w->src.addr[12], ip + 12, 4);
	return CONTINUE;
}

/* The extension headers walked, and how each one says its length. */
static const struct ext_kind {
	__u8 type;
	size_t fixed;     /* nonzero: always this long */
	size_t unit, add; /* else (hdr[1] + add) * unit */
} ext_kinds[] = {
	{ IPPROTO_HOPOPTS, 0, 8, 1 },
	{ IPPROTO_ROUTING, 0, 8, 1 },
	{ IPPROTO_DSTOPTS, 0, 8, 1 },
	{ IPPROTO_AH, 0, 4, 2 },
	{ IPPROTO_FRAGMENT, 8, 0, 0 },
};

static const struct ext_kind *ext_kind(unsigned type)
{
	for (size_t i = 0; i < sizeof(ext_kinds) / sizeof(ext_kinds[0]); i++)
		if (ext_kinds[i].type == type)
			return &ext_kinds[i];
	return NULL;
}

/* A fragment header: CONTINUE when it is the first (or only) fragment,
 * else the rule that decides. */
static int ipv6_fragment(struct walk *w, const __u8 *h)
{
	unsigned units = be16(h + 2) >> 3;

	if (units != 0) {
		/* Overlapping TCP bytes 0..19 matters only if what follows
		 * can be, or can lead to, a TCP header. */
		bool tcp_may_follow = h[0] == IPPROTO_TCP || ext_kind(h[0]);

		return units < FRAG_UNITS_UNSAFE && tcp_may_follow ? GATE_MODEL_V6_FRAG_LOW
								   : GATE_MODEL_V6_FRAG_OTHER;
	}
	/* Once a first fragment, the rest of the walk is one too: a later
	 * atomic fragment header does not make the packet whole again. */
	if (h[3] & 1)
		w->first_frag = true;
	return CONTINUE;
}

static int walk_ipv6(struct walk *w, size_t l3)
{
	const __u8 *ip = w->f + l3;
	size_t off = l3 + IP6_HDR;
	unsigned nexthdr, plen;

	if (l3 + IP6_HDR > w->len)
		return GATE_MODEL_V6_CUT;
	if (ip[0] >> 4 != 6)
		return GATE_MODEL_V6_BAD;
	plen = be16(ip + 4);
	w->end = plen ? off + plen : w->len;
	nexthdr = ip[6];
	for (int walked = 0; nexthdr != IPPROTO_TCP; walked++) {
		const struct ext_kind *k;
		const __u8 *h;
		int v;

		/* An upper protocol other than TCP after 8 headers is still just
		 * not TCP; only a 9th extension header is a chain too long. */
		k = ext_kind(nexthdr);
		if (!k)
			return GATE_MODEL_V6_NOT_TCP;
		if (walked == EXT_WALKED)
			return GATE_MODEL_V6_DEEP;
		if (!within(w, off, EXT_MIN))
			return cut_short(w, GATE_MODEL_V6_EXT_CUT, GATE_MODEL_V6_EXT_CUT_FIRST);
		h = w->f + off;
		if (k->type == IPPROTO_FRAGMENT && (v = ipv6_fragment(w, h)) != CONTINUE)
			return v;
		off += k->fixed ? k->fixed : (h[1] + k->add) * k->unit;
		nexthdr = h[0];
	}
	w->tcp = off;
	memcpy(w->src.addr, ip + 8, 16);
	return CONTINUE;
}

static bool port_gated(const struct gate_config *cfg, unsigned port)
{
	for (__u32 i = 0; i < cfg->nports && i < GATE_MAX_PORTS; i++)
		if (cfg->ports[i] == port)
			return true;
	return false;
}

static bool prefix_covers(const struct gate_prefix *p, const struct gate_addr *a)
{
	for (__u32 bit = 0; bit < p->prefixlen && bit < 128; bit++) {
		unsigned mask = 0x80u >> (bit % 8);

		if ((p->addr[bit / 8] ^ a->addr[bit / 8]) & mask)
			return false;
	}
	return true;
}

static int source_verdict(const struct gate_model *m, const struct gate_addr *src)
{
	const struct gate_auth *auth = NULL;

	for (size_t i = 0; i < m->nauth && !auth; i++)
		if (!memcmp(&m->auth[i].addr, src, sizeof(*src)))
			auth = &m->auth[i].auth;
	if (auth && auth->expires_ns > m->now_ns)
		return GATE_MODEL_AUTHORIZED;
	for (size_t i = 0; m->cfg.has_trust && i < m->ntrust; i++)
		if (prefix_covers(&m->trust[i], src))
			return GATE_MODEL_TRUSTED;
	return auth ? GATE_MODEL_EXPIRED : GATE_MODEL_UNAUTHORIZED;
}

int gate_model_rule(const struct gate_model *m, const __u8 *f, size_t len)
{
	struct walk w = { .f = f, .len = len };
	size_t l3 = ETH_HDR;
	unsigned type, flags;
	int tags = 0, v;

	if (len < ETH_HDR)
		return GATE_MODEL_ETH_SHORT;
	type = be16(f + 12);
	while (type == 0x8100 || type == 0x88a8) {
		if (tags++ == VLAN_TAGS_SKIPPED)
			return GATE_MODEL_VLAN_DEEP;
		if (l3 + VLAN_TAG > len)
			return GATE_MODEL_VLAN_CUT;
		type = be16(f + l3 + 2);
		l3 += VLAN_TAG;
	}
	if (type == 0x0800)
		v = walk_ipv4(&w, l3);
	else if (type == 0x86dd)
		v = walk_ipv6(&w, l3);
	else
		v = GATE_MODEL_NOT_IP;
	if (v != CONTINUE)
		return v;

	if (!within(&w, w.tcp, TCP_HDR))
		return cut_short(&w, GATE_MODEL_TCP_CUT, GATE_MODEL_TCP_CUT_FIRST);
	flags = f[w.tcp + 13];
	if (!(flags & TCP_SYN) || (flags & TCP_ACK))
		return GATE_MODEL_NOT_SYN;
	if (!port_gated(&m->cfg, be16(f + w.tcp + 2)))
		return GATE_MODEL_PORT;
	return source_verdict(m, &w.src);
}

static const struct {
	int counter;
	const char *text;
} rules[] = {
#define GATE_MODEL_RULE_ROW(id, counter, text) { GATE_##counter, text },
	GATE_MODEL_RULES(GATE_MODEL_RULE_ROW)
#undef GATE_MODEL_RULE_ROW
};

const char *gate_model_rule_text(int rule)
{
	return rule >= 0 && rule < GATE_MODEL_RULE_MAX ? rules[rule].text : "?";
}

int gate_model_rule_counter(int rule)
{
	return rule >= 0 && rule < GATE_MODEL_RULE_MAX ? rules[rule].counter : -1;
}

int gate_model_decide(const struct gate_model *m, const __u8 *f, size_t len)
{
	return gate_model_rule_counter(gate_model_rule(m, f, len));
}

bool gate_model_is_drop(int c)
{
	return c == GATE_drop_unauthorized || c == GATE_drop_expired ||
	       c == GATE_drop_fragment || c == GATE_drop_unparsable;
}

int gate_model_xdp_action(int c)
{
	return gate_model_is_drop(c) ? XDP_DROP : XDP_PASS;
}

int gate_model_tc_action(int c)
{
	return gate_model_is_drop(c) ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

const char *gate_model_counter_name(int c)
{
	static const char *const names[] = {
#define GATE_MODEL_NAME(name) #name,
		GATE_COUNTERS(GATE_MODEL_NAME)
#undef GATE_MODEL_NAME
	};

	return c >= 0 && c < GATE_COUNTER_MAX ? names[c] : "?";
}
