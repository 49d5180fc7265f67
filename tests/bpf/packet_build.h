/*
 * packet_build.h - Ethernet frames for test_bpf_gate, built from a
 * declarative spec.
 *
 * The builder records the offset of every header boundary it writes, so the
 * test can cut a frame (or shrink its IP length field) at each length and
 * still know which header the cut fell in, hence what the policy says about
 * it. Header-only: test_bpf_gate.c is its one user and the Makefile rule
 * builds a test from a single source.
 *
 * Checksums (IPv4 header, TCP/UDP) are always correct, so a frame differs
 * from a real one only in what the spec asks for.
 */
#ifndef POPGATE_PACKET_BUILD_H
#define POPGATE_PACKET_BUILD_H

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define PKT_MAX 2048
#define PKT_MAX_TAGS 3
#define PKT_MAX_EXT 12

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

#define PKT_SPORT 40000 /* source port when the spec gives none */
#define PKT_SRC4 "203.0.113.5"
#define PKT_SRC6 "2001:db8:2::99"
#define PKT_DST4 "192.0.2.1"
#define PKT_DST6 "2001:db8::1"

/*
 * IPv6 extension headers, one letter each in pkt_spec.ext. The lower-case
 * variants are longer, and the AH and routing lengths are chosen so that the
 * wrong length formula ((n+1)*8 for AH, (n+2)*4 for the others) lands the
 * parser on a different byte.
 */
struct pkt_ext_kind {
	char code;
	__u8 type;   /* next-header value naming it */
	__u8 hdrlen; /* its length field */
	__u8 len;    /* bytes, from the field by the header's own formula */
};

static const struct pkt_ext_kind pkt_ext_kinds[] = {
	{ 'H', IPPROTO_HOPOPTS, 0, 8 },
	{ 'h', IPPROTO_HOPOPTS, 2, 24 },
	{ 'R', IPPROTO_ROUTING, 2, 24 },
	{ 'D', IPPROTO_DSTOPTS, 0, 8 },
	{ 'd', IPPROTO_DSTOPTS, 1, 16 },
	{ 'A', IPPROTO_AH, 4, 24 },      /* (4 + 2) * 4 */
	{ 'F', IPPROTO_FRAGMENT, 0, 8 },
};

struct pkt_spec {
	int fam;                  /* 4 or 6: which IP header is built */
	__u16 tags[PKT_MAX_TAGS]; /* VLAN TPIDs, outermost first; 0 ends */
	__u16 ethertype;          /* 0: the family's; else written instead */
	__u8 version;             /* 0: fam; else written into the IP header */
	const char *src, *dst;    /* NULL: PKT_SRC4/6, PKT_DST4/6 */
	__u8 proto;               /* 0: TCP */
	__u16 sport, dport;       /* sport 0: PKT_SPORT */
	__u8 flags;               /* TCP flags */
	__u8 tcp_opt;             /* TCP option bytes, a multiple of 4 */
	__u8 l4_cut;              /* nonzero: only this much of the L4 header
				   * exists (frame and length field agree) */
	__u16 payload;            /* bytes after the L4 header */
	__u8 ip_opt;              /* IPv4 option bytes, a multiple of 4 */
	__u8 ihl;                 /* 0: from ip_opt; else its low 4 bits are
				   * written (0x10 writes ihl 0) */
	__u8 df;                  /* IPv4 don't-fragment */
	__u16 frag;               /* fragment offset, 8-byte units (IPv4
				   * header, or the IPv6 'F' header) */
	__u8 mf;                  /* more fragments */
	const char *ext;          /* IPv6 extension headers, pkt_ext_kinds */
	__u8 set_len;             /* write l3_len as tot_len / payload_len */
	__u16 l3_len;
	__u16 pad;                /* bytes after the IP packet, each 0x02: a
				   * SYN flag wherever a parser reads one */
	__u32 seq;
};

struct pkt {
	__u8 d[PKT_MAX];
	size_t len;
	int ntags;
	size_t l3;        /* IP header */
	size_t l3_fixed;  /* end of the fixed IP header (20 / 40 bytes) */
	size_t l3_hdr;    /* end of the IPv4 header with its options */
	size_t frag_end;  /* fragmented: end of the header saying so; else 0 */
	bool first_frag;  /* offset 0 and more fragments */
	int n_ext;
	size_t ext_start[PKT_MAX_EXT], ext_end[PKT_MAX_EXT];
	size_t l4;        /* upper-layer header */
	size_t l3_end;    /* end of the IP packet, before any padding */
};

static inline void pkt_put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void pkt_put32(__u8 *p, __u32 v)
{
	pkt_put16(p, v >> 16);
	pkt_put16(p + 2, v & 0xffff);
}

static inline __u16 pkt_get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static inline __u32 pkt_get32(const __u8 *p)
{
	return (__u32)pkt_get16(p) << 16 | pkt_get16(p + 2);
}

/* One's-complement sum; callers add even-length pieces before the last. */
static inline __u32 pkt_csum_add(__u32 sum, const __u8 *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		sum += (i & 1) ? b[i] : (__u32)b[i] << 8;
	return sum;
}

static inline __u16 pkt_csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Sum of the pseudo-header the L4 checksum covers (RFC 793 / RFC 8200). */
static inline __u32 pkt_pseudo_sum(int fam, const __u8 *src, const __u8 *dst,
				   __u8 proto, size_t seglen)
{
	size_t alen = fam == 4 ? 4 : 16;
	__u8 tail[8] = { 0 };
	__u32 sum;

	sum = pkt_csum_add(0, src, alen);
	sum = pkt_csum_add(sum, dst, alen);
	pkt_put32(tail, (__u32)seglen);
	tail[7] = proto;
	return pkt_csum_add(sum, tail, sizeof(tail));
}

static inline const struct pkt_ext_kind *pkt_ext_kind(char code)
{
	for (size_t i = 0; i < sizeof(pkt_ext_kinds) / sizeof(pkt_ext_kinds[0]); i++)
		if (pkt_ext_kinds[i].code == code)
			return &pkt_ext_kinds[i];
	return NULL;
}

/* Writes one extension header at d; its next-header byte is set later. */
static inline void pkt_write_ext(const struct pkt_spec *s,
				 const struct pkt_ext_kind *k, __u8 *d)
{
	d[1] = k->hdrlen;
	switch (k->type) {
	case IPPROTO_FRAGMENT:
		d[1] = 0; /* reserved */
		pkt_put16(d + 2, (__u16)(s->frag << 3 | (s->mf ? 1 : 0)));
		pkt_put32(d + 4, 0x5eed1d);
		break;
	case IPPROTO_AH:
		pkt_put32(d + 4, 0x1000); /* SPI */
		pkt_put32(d + 8, 1);      /* sequence; the ICV stays zero */
		break;
	case IPPROTO_ROUTING:
		d[2] = 4; /* segment routing, segments left 0: the stack walks past */
		break;
	default:
		d[2] = 1; /* PadN filling the option area */
		d[3] = k->len - 4;
	}
}

static inline size_t pkt_l4_len(const struct pkt_spec *s, __u8 proto)
{
	size_t len = proto == IPPROTO_TCP ? 20u + s->tcp_opt :
		     proto == IPPROTO_NONE ? 0 : 8;

	return s->l4_cut && s->l4_cut < len ? s->l4_cut : len;
}

/* Upper-layer header: TCP, or 8 bytes starting with two ports (UDP, SCTP;
 * for ICMP they are type/code/checksum, which nothing reads as ports). */
static inline void pkt_write_l4(const struct pkt_spec *s, __u8 proto, __u8 *d,
				size_t seglen)
{
	pkt_put16(d, s->sport ? s->sport : PKT_SPORT);
	pkt_put16(d + 2, s->dport);
	if (proto != IPPROTO_TCP) {
		pkt_put16(d + 4, (__u16)seglen);
		return;
	}
	pkt_put32(d + 4, s->seq);
	pkt_put32(d + 8, (s->flags & TH_ACK) ? 0x11223344 : 0);
	d[12] = (__u8)((20 + s->tcp_opt) / 4) << 4;
	d[13] = s->flags;
	pkt_put16(d + 14, 64240);
	if (s->tcp_opt >= 4) { /* MSS 1460, then NOPs */
		d[20] = 2;
		d[21] = 4;
		pkt_put16(d + 22, 1460);
		memset(d + 24, 1, s->tcp_opt - 4);
	}
}

/* Builds the frame s describes into p: 0, or -EINVAL for a bad spec. */
static inline int pkt_build(const struct pkt_spec *s, struct pkt *p)
{
	static const __u8 mac_dst[6] = { 2, 0, 0, 0, 0, 1 };
	static const __u8 mac_src[6] = { 2, 0, 0, 0, 0, 2 };
	__u8 proto = s->proto ? s->proto : IPPROTO_TCP;
	int af = s->fam == 4 ? AF_INET : AF_INET6;
	__u8 src[16], dst[16], l4buf[64] = { 0 }, *d = p->d, *next = NULL;
	size_t off, l4len, ip_len;
	__u32 sum;

	if (s->fam != 4 && s->fam != 6)
		return -EINVAL;
	if (inet_pton(af, s->src ? s->src : s->fam == 4 ? PKT_SRC4 : PKT_SRC6, src) != 1 ||
	    inet_pton(af, s->dst ? s->dst : s->fam == 4 ? PKT_DST4 : PKT_DST6, dst) != 1)
		return -EINVAL;
	/* The largest spec: 3 tags, 60-byte IPv4 header or 12 * 24 bytes of
	 * extension headers, 60-byte TCP header; payload and padding are
	 * checked against what is left. */
	if (s->ip_opt > 40 || s->tcp_opt > 40 || (s->ext && strlen(s->ext) > PKT_MAX_EXT) ||
	    (size_t)s->payload + s->pad > PKT_MAX - 512)
		return -EINVAL;

	memset(p, 0, sizeof(*p));
	memcpy(d, mac_dst, 6);
	memcpy(d + 6, mac_src, 6);
	off = 12;
	for (; p->ntags < PKT_MAX_TAGS && s->tags[p->ntags]; p->ntags++, off += 4) {
		pkt_put16(d + off, s->tags[p->ntags]);
		pkt_put16(d + off + 2, (__u16)(100 + p->ntags)); /* VLAN id */
	}
	pkt_put16(d + off, s->ethertype ? s->ethertype :
		  s->fam == 4 ? ETH_P_IP : ETH_P_IPV6);
	p->l3 = off += 2;

	if (s->fam == 4) {
		d[off] = (__u8)((s->version ? s->version : 4) << 4 |
				(s->ihl ? s->ihl & 0xf : (20 + s->ip_opt) / 4));
		pkt_put16(d + off + 4, 0x1234);
		pkt_put16(d + off + 6, (__u16)((s->df ? 0x4000 : 0) |
					       (s->mf ? 0x2000 : 0) | s->frag));
		d[off + 8] = 64;
		d[off + 9] = proto;
		memcpy(d + off + 12, src, 4);
		memcpy(d + off + 16, dst, 4);
		memset(d + off + 20, 1, s->ip_opt); /* NOPs */
		p->l3_fixed = off + 20;
		p->l3_hdr = off += 20 + s->ip_opt;
		if (s->mf || s->frag) {
			p->frag_end = p->l3_fixed;
			p->first_frag = !s->frag;
		}
	} else {
		pkt_put32(d + off, (__u32)(s->version ? s->version : 6) << 28);
		next = d + off + 6;
		d[off + 7] = 64;
		memcpy(d + off + 8, src, 16);
		memcpy(d + off + 24, dst, 16);
		p->l3_fixed = p->l3_hdr = off += 40;
		for (const char *c = s->ext; c && *c; c++, p->n_ext++) {
			const struct pkt_ext_kind *k = pkt_ext_kind(*c);

			if (!k)
				return -EINVAL;
			*next = k->type;
			next = d + off;
			pkt_write_ext(s, k, d + off);
			p->ext_start[p->n_ext] = off;
			p->ext_end[p->n_ext] = off += k->len;
			if (k->type == IPPROTO_FRAGMENT) {
				p->frag_end = off;
				p->first_frag = !s->frag && s->mf;
			}
		}
		*next = proto;
	}

	p->l4 = off;
	l4len = pkt_l4_len(s, proto);
	pkt_write_l4(s, proto, l4buf, l4len + s->payload);
	memcpy(d + off, l4buf, l4len);
	off += l4len;
	for (size_t i = 0; i < s->payload; i++)
		d[off + i] = (__u8)('a' + i % 26);
	off += s->payload;
	p->l3_end = off;

	ip_len = s->set_len ? s->l3_len :
		 s->fam == 4 ? off - p->l3 : off - p->l3_fixed;
	if (s->fam == 4) {
		size_t hl = p->l3_hdr - p->l3;

		pkt_put16(d + p->l3 + 2, (__u16)ip_len);
		pkt_put16(d + p->l3 + 10, pkt_csum_fold(pkt_csum_add(0, d + p->l3, hl)));
	} else {
		pkt_put16(d + p->l3 + 4, (__u16)ip_len);
	}
	if (l4len >= (proto == IPPROTO_TCP ? 18u : 8u) &&
	    (proto == IPPROTO_TCP || proto == IPPROTO_UDP)) {
		size_t at = proto == IPPROTO_TCP ? 16 : 6;

		sum = pkt_pseudo_sum(s->fam, src, dst, proto, off - p->l4);
		sum = pkt_csum_add(sum, d + p->l4, off - p->l4);
		pkt_put16(d + p->l4 + at, pkt_csum_fold(sum));
	}
	memset(d + off, 2, s->pad);
	p->len = off + s->pad;
	return 0;
}

#endif
