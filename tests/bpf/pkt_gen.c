/*
 * pkt_gen.c - random and mutated Ethernet frames (see pkt_gen.h).
 *
 * A frame is built layer by layer into a scratch buffer large enough for
 * the longest chain the builder writes (ten 2 KiB extension headers), then
 * mutated, then cut to PKT_GEN_MAX. Each odd choice is drawn from a
 * weighted table, so the mix is read (and tuned) in one place per field.
 * While building, every header boundary is marked: cuts and length fields
 * land on or next to them, where a parser's bound checks are.
 */
#include "pkt_gen.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SCRATCH 32768
#define MARKS_MAX 64
#define RAND (-1) /* a pick table value: draw one in [0, max] instead */

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define TCP_SYN 0x02
#define TCP_ACK 0x10

struct rng {
	uint64_t s;
};

/* splitmix64: good enough statistics, and any state is a good seed. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct rng *r)
{
	return mix64(r->s += 0x9e3779b97f4a7c15ull);
}

static unsigned below(struct rng *r, unsigned n)
{
	return n ? (unsigned)(rnd(r) % n) : 0;
}

static bool chance(struct rng *r, unsigned percent)
{
	return below(r, 100) < percent;
}

struct pick {
	unsigned weight;
	int value;
};

static unsigned pick(struct rng *r, const struct pick *t, size_t n, unsigned rand_max)
{
	unsigned total = 0, x;

	for (size_t i = 0; i < n; i++)
		total += t[i].weight;
	x = below(r, total);
	for (size_t i = 0;; i++) {
		if (x < t[i].weight)
			return t[i].value == RAND ? below(r, rand_max + 1) : (unsigned)t[i].value;
		x -= t[i].weight;
	}
}

#define PICK(r, table, rand_max) \
	pick(r, table, sizeof(table) / sizeof(table[0]), rand_max)

struct frame {
	struct rng *r;
	const struct pkt_gen *g;
	size_t len;
	unsigned nmarks;
	size_t marks[MARKS_MAX]; /* header boundaries */
	__u8 d[SCRATCH];
};

/* Appends n zero bytes. The builder's largest frame fits SCRATCH by
 * construction; running over it is a bug in this file. */
static __u8 *grow(struct frame *f, size_t n)
{
	__u8 *p = f->d + f->len;

	if (f->len + n > SCRATCH)
		abort();
	memset(p, 0, n);
	f->len += n;
	return p;
}

static void mark(struct frame *f, size_t at)
{
	if (f->nmarks < MARKS_MAX)
		f->marks[f->nmarks++] = at;
}

static void fill_random(struct rng *r, __u8 *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (__u8)rnd(r);
}

static void put16(__u8 *p, unsigned v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static void put32(__u8 *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* ---- addresses ------------------------------------------------------ */

static bool v4_mapped(const struct gate_addr *a)
{
	static const __u8 prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a->addr, prefix, sizeof(prefix));
}

/* A source for family fam (4 or 6): mostly one the scenario knows. An IPv6
 * packet now and then gets a v4-mapped one: the maps key both alike. */
static void pick_source(struct frame *f, int fam, struct gate_addr *out)
{
	const struct pkt_gen *g = f->g;

	if (g->nsrcs && !chance(f->r, 10)) {
		bool any = fam == 6 && chance(f->r, 10);

		for (int tries = 0; tries < 16; tries++) {
			const struct gate_addr *a = &g->srcs[below(f->r, (unsigned)g->nsrcs)];

			if (any || v4_mapped(a) == (fam == 4)) {
				*out = *a;
				return;
			}
		}
	}
	fill_random(f->r, out->addr, sizeof(out->addr));
}

/* ---- length fields --------------------------------------------------- */

enum { LEN_EXACT, LEN_SHORTER, LEN_LONGER, LEN_EDGE, LEN_ZERO, LEN_ANY };

static const struct pick length_modes[] = {
	{ 70, LEN_EXACT },
	{ 7, LEN_SHORTER },  /* the frame has bytes past the packet */
	{ 7, LEN_LONGER },   /* the packet claims bytes the frame lacks */
	{ 9, LEN_EDGE },     /* one byte either side of a header's end */
	{ 3, LEN_ZERO },     /* IPv6: a jumbogram; IPv4: shorter than ihl */
	{ 4, LEN_ANY },
};

/* A value for an IP length field whose honest value is exact; edges are
 * header ends (in the field's terms) a parser checks against it. */
static unsigned length_field(struct rng *r, unsigned exact, const unsigned *edges,
			     unsigned nedges)
{
	long v;

	switch (PICK(r, length_modes, 0)) {
	case LEN_SHORTER:
		v = below(r, exact);
		break;
	case LEN_LONGER:
		v = exact + 1 + below(r, chance(r, 80) ? 64 : 65536);
		break;
	case LEN_EDGE:
		v = nedges ? (long)edges[below(r, nedges)] + (long)below(r, 3) - 1 : exact;
		break;
	case LEN_ZERO:
		v = 0;
		break;
	case LEN_ANY:
		v = below(r, 65536);
		break;
	default:
		v = exact;
	}
	return v < 0 ? 0 : v > 0xffff ? 0xffff : (unsigned)v;
}

/* ---- layer 4 --------------------------------------------------------- */

static const struct pick dports[] = {
	{ 12, 25 }, { 12, 465 }, { 12, 2525 },   /* gated */
	{ 5, 110 }, { 5, 143 }, { 5, 587 },      /* POP3, IMAP, submission */
	{ 2, 24 }, { 2, 26 }, { 2, 0 }, { 2, 65535 },
	{ 28, RAND },
};

static const struct pick tcp_flags[] = {
	{ 30, TCP_SYN },
	{ 10, TCP_SYN | TCP_ACK },
	{ 5, TCP_ACK },
	{ 55, RAND }, /* every combination of the flag byte */
};

static const struct pick payload_lens[] = { /* at most this many bytes */
	{ 50, 0 }, { 30, 64 }, { 15, 512 }, { 5, 1400 },
};

/* Writes the upper-layer header (TCP, or 8 bytes of ports and noise for
 * anything else) and a payload; marks where it is and adds its TCP-end to
 * edges (relative to base). */
static void build_l4(struct frame *f, unsigned proto, size_t base,
		     unsigned *edges, unsigned *nedges)
{
	struct rng *r = f->r;
	size_t l4 = f->len, hlen = 8;
	unsigned plen;
	__u8 *h;

	mark(f, l4);
	if (proto == IPPROTO_TCP) {
		unsigned optwords = chance(r, 30) ? below(r, 11) : 0;

		hlen = 20 + optwords * 4;
		h = grow(f, hlen);
		fill_random(r, h, hlen);
		if (chance(r, 60))
			put16(h, 1024 + below(r, 64512));
		put16(h + 2, PICK(r, dports, 0xffff));
		/* Data offset honest most of the time; reserved bits rarely set. */
		if (chance(r, 90))
			h[12] = (__u8)((5 + optwords) << 4 | (chance(r, 10) ? below(r, 16) : 0));
		h[13] = (__u8)PICK(r, tcp_flags, 0xff);
		mark(f, l4 + 20);
		edges[(*nedges)++] = (unsigned)(l4 + 20 - base);
	} else {
		h = grow(f, hlen);
		fill_random(r, h, hlen);
		put16(h + 2, PICK(r, dports, 0xffff));
	}
	mark(f, l4 + hlen);
	plen = PICK(r, payload_lens, 0);
	plen = plen ? 1 + below(r, plen) : 0;
	fill_random(r, grow(f, plen), plen);
}

static const struct pick l4_protos[] = {
	{ 85, IPPROTO_TCP }, { 4, IPPROTO_UDP }, { 3, IPPROTO_ICMP }, { 8, RAND },
};

/* ---- IPv4 ------------------------------------------------------------ */

enum { FRAG_NONE, FRAG_FIRST, FRAG_AT, FRAG_RAW };

static const struct pick v4_frags[] = {
	{ 60, FRAG_NONE }, { 15, FRAG_FIRST }, { 20, FRAG_AT }, { 5, FRAG_RAW },
};

/* Fragment offsets, 8-byte units: 1 and 2 overlap the TCP ports and flags. */
static const struct pick frag_units[] = {
	{ 3, 1 }, { 3, 2 }, { 3, 3 }, { 1, 4 }, { 2, RAND },
};

static void build_ipv4(struct frame *f)
{
	struct rng *r = f->r;
	size_t l3 = f->len;
	unsigned optwords = chance(r, 25) ? below(r, 11) : 0, hlen = 20 + optwords * 4;
	unsigned version = chance(r, 96) ? 4 : below(r, 16);
	unsigned ihl = chance(r, 94) ? hlen / 4 : below(r, 16);
	unsigned frag = 0, proto = PICK(r, l4_protos, 0xff), sum = 0, edges[4], nedges = 0;
	struct gate_addr src;
	__u8 *ip = grow(f, hlen);

	mark(f, l3);
	ip[0] = (__u8)(version << 4 | ihl);
	ip[1] = (__u8)rnd(r);
	put16(ip + 4, (unsigned)rnd(r));
	switch (PICK(r, v4_frags, 0)) {
	case FRAG_NONE:
		frag = chance(r, 50) ? 0x4000 : 0; /* DF */
		break;
	case FRAG_FIRST:
		frag = 0x2000;
		break;
	case FRAG_AT:
		frag = PICK(r, frag_units, 0x1fff) | (chance(r, 50) ? 0x2000 : 0);
		break;
	default:
		frag = below(r, 0x10000);
	}
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = (__u8)proto;
	pick_source(f, 4, &src);
	memcpy(ip + 12, &src.addr[12], 4);
	put32(ip + 16, 0xc0000201); /* 192.0.2.1 */
	if (chance(r, 50))
		memset(ip + 20, 1, hlen - 20); /* NOPs */
	else
		fill_random(r, ip + 20, hlen - 20);
	mark(f, l3 + 20);
	mark(f, l3 + hlen);
	edges[nedges++] = hlen;
	edges[nedges++] = ihl * 4;

	build_l4(f, proto, l3, edges, &nedges);
	put16(ip + 2, length_field(r, (unsigned)(f->len - l3), edges, nedges));
	/* The gate ignores the checksum; a right one keeps the frame real. */
	for (unsigned i = 0; i < hlen; i += 2)
		sum += (unsigned)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, ~sum & 0xffff);
}

/* ---- IPv6 ------------------------------------------------------------ */

static const struct pick ext_types[] = {
	{ 2, IPPROTO_HOPOPTS }, { 2, IPPROTO_ROUTING }, { 2, IPPROTO_DSTOPTS },
	{ 2, IPPROTO_AH }, { 3, IPPROTO_FRAGMENT },
};

static const struct pick ext_counts[] = {
	{ 40, 0 }, { 20, 1 }, { 12, 2 }, { 8, 3 }, { 20, RAND },
};

static const struct pick ext_lens[] = { /* the header's length byte */
	{ 50, 0 }, { 35, 1 }, { 10, 3 }, { 5, RAND },
};

static const struct pick v6_frag_units[] = {
	{ 10, 0 }, { 3, 1 }, { 3, 2 }, { 3, 3 }, { 1, 4 }, { 2, RAND },
};

static void build_ext(struct frame *f, unsigned type)
{
	struct rng *r = f->r;
	unsigned lenbyte;
	size_t len;
	__u8 *h;

	if (type == IPPROTO_FRAGMENT) {
		unsigned units = PICK(r, v6_frag_units, 0x1fff);

		h = grow(f, 8);
		fill_random(r, h + 4, 4); /* identification */
		if (chance(r, 10))
			h[1] = (__u8)rnd(r); /* reserved */
		put16(h + 2, units << 3 | (chance(r, 10) ? below(r, 4) << 1 : 0) |
			     (chance(r, 50) ? 1 : 0));
		return;
	}
	lenbyte = PICK(r, ext_lens, 0xff);
	len = type == IPPROTO_AH ? (lenbyte + 2) * 4 : (lenbyte + 1) * 8;

	h = grow(f, len);
	if (chance(r, 40))
		fill_random(r, h + 2, len - 2);
	else if (type != IPPROTO_AH && type != IPPROTO_ROUTING && len >= 8) {
		h[2] = 1; /* one PadN over the option area */
		h[3] = (__u8)(len - 4);
	}
	h[1] = (__u8)lenbyte;
}

static void build_ipv6(struct frame *f)
{
	struct rng *r = f->r;
	size_t l3 = f->len, payload = l3 + 40, next_at = l3 + 6;
	unsigned version = chance(r, 96) ? 6 : below(r, 16);
	unsigned n = PICK(r, ext_counts, 10), edges[16], nedges = 0, proto;
	struct gate_addr src;
	__u8 *ip = grow(f, 40);

	mark(f, l3);
	put32(ip, (uint32_t)version << 28 | (uint32_t)(rnd(r) & 0x0fffffff));
	ip[7] = 64;
	pick_source(f, 6, &src);
	memcpy(ip + 8, src.addr, 16);
	put32(ip + 24, 0x20010db8);
	ip[39] = 1; /* 2001:db8::1 */
	for (unsigned i = 0; i < n; i++) {
		size_t at = f->len;
		unsigned type = PICK(r, ext_types, 0);

		f->d[next_at] = (__u8)type;
		build_ext(f, type);
		next_at = at;
		mark(f, at);
		mark(f, at + 8);
		edges[nedges++] = (unsigned)(at + 8 - payload);
	}
	proto = PICK(r, l4_protos, 0xff);
	f->d[next_at] = (__u8)proto;
	build_l4(f, proto, payload, edges, &nedges);
	put16(ip + 4, length_field(r, (unsigned)(f->len - payload), edges, nedges));
}

/* ---- Ethernet -------------------------------------------------------- */

static const struct pick tag_counts[] = { { 60, 0 }, { 20, 1 }, { 14, 2 }, { 6, 3 } };
static const struct pick tpids[] = { { 45, 0x8100 }, { 45, 0x88a8 }, { 4, 0x9100 } };

static const struct pick ethertypes[] = {
	{ 45, ETH_P_IPV4 }, { 45, ETH_P_IPV6 },
	{ 3, 0x0806 }, { 2, 0x8100 }, { 5, RAND },
};

static void build_eth(struct frame *f)
{
	struct rng *r = f->r;
	unsigned tags = PICK(r, tag_counts, 0), type = PICK(r, ethertypes, 0xffff);
	__u8 *eth = grow(f, 12);

	eth[0] = eth[6] = 2;
	eth[5] = 1;
	eth[11] = 2;
	for (unsigned i = 0; i < tags; i++) {
		__u8 *tag;

		mark(f, f->len);
		tag = grow(f, 4);
		put16(tag, PICK(r, tpids, 0));
		put16(tag + 2, 100 + i);
	}
	put16(grow(f, 2), type);
	/* Under a type that is not IP the body is IP anyway: a parser that
	 * misreads the type then finds something to gate. */
	if (type == ETH_P_IPV4 || (type != ETH_P_IPV6 && chance(r, 50)))
		build_ipv4(f);
	else
		build_ipv6(f);
}

static void build_noise(struct frame *f)
{
	struct rng *r = f->r;
	size_t len = 15 + below(r, 200); /* a version nibble fits */
	__u8 *d = grow(f, len);

	fill_random(r, d, len);
	if (chance(r, 50)) {
		put16(d + 12, chance(r, 50) ? ETH_P_IPV4 : ETH_P_IPV6);
		d[14] = (__u8)((d[13] == 0xdd ? 0x60 : 0x40) | (d[14] & 0x0f));
	}
}

/* ---- mutations ------------------------------------------------------- */

static void cut(struct frame *f)
{
	struct rng *r = f->r;
	long at;

	if (f->nmarks && chance(r, 70))
		at = (long)f->marks[below(r, f->nmarks)] + (long)below(r, 5) - 2;
	else
		at = below(r, (unsigned)f->len + 1);
	if (at >= 0 && (size_t)at < f->len)
		f->len = (size_t)at;
}

#define PAD_NOISE 0x100 /* not a byte value: random bytes */

static const struct pick pad_bytes[] = {
	{ 1, 0 }, { 1, TCP_SYN }, /* a SYN wherever a parser reads one */ { 1, PAD_NOISE },
};

static void pad(struct frame *f)
{
	struct rng *r = f->r;
	size_t n = 1 + below(r, 64);
	unsigned how = PICK(r, pad_bytes, 0);
	__u8 *p = grow(f, n);

	if (how == PAD_NOISE)
		fill_random(r, p, n);
	else
		memset(p, (int)how, n);
}

static void scribble(struct frame *f)
{
	struct rng *r = f->r;

	for (unsigned n = 1 + below(r, 4); n && f->len; n--) {
		size_t span = chance(r, 70) && f->len > 128 ? 128 : f->len;

		f->d[below(r, (unsigned)span)] = (__u8)rnd(r);
	}
}

size_t pkt_gen_frame(const struct pkt_gen *g, uint64_t index, __u8 *buf)
{
	static struct frame f; /* 32 KiB: kept off the stack */
	struct rng r = { mix64(g->seed ^ mix64(index + 1)) };

	f.r = &r;
	f.g = g;
	f.len = 0;
	f.nmarks = 0;
	if (chance(&r, 3)) {
		build_noise(&f);
	} else {
		build_eth(&f);
		if (chance(&r, 25))
			cut(&f);
		if (chance(&r, 10))
			pad(&f);
		if (chance(&r, 8))
			scribble(&f);
	}
	if (f.len > PKT_GEN_MAX)
		f.len = PKT_GEN_MAX;
	if (f.len < g->min_len)
		fill_random(&r, grow(&f, g->min_len - f.len), g->min_len - f.len);
	memcpy(buf, f.d, f.len);
	return f.len;
}
