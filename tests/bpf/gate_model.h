/*
 * gate_model.h - a userspace reference model of the gate's verdict.
 *
 * A second implementation of the parsing and decision policy of
 * bpf/gate.bpf.c, written from the policy text rather than from the BPF
 * code, so that test_bpf_diff can run both on the same packets: where they
 * disagree, one of them misreads the policy. The scenario (config, the
 * authorizations, the trusted prefixes, "now") is plain data, the same data
 * the test loads into the maps.
 */
#ifndef POPGATE_GATE_MODEL_H
#define POPGATE_GATE_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "gate.h"

/* One gate_auth entry: key and value as the map holds them. */
struct gate_model_auth {
	struct gate_addr addr;
	struct gate_auth auth;
};

struct gate_model {
	struct gate_config cfg;
	const struct gate_model_auth *auth;
	size_t nauth;
	const struct gate_prefix *trust; /* prefixlen over all 128 bits */
	size_t ntrust;
	__u64 now_ns;                    /* CLOCK_BOOTTIME of the decision */
};

/*
 * The rules of the policy, one per way a frame can be decided; each names
 * the counter it moves. A test reports the rule with a mismatch, and counts
 * the rules its frames reach to show what it has covered.
 */
#define GATE_MODEL_RULES(X)                                                   \
	X(ETH_SHORT, pass_malformed, "Ethernet header cut short")               \
	X(VLAN_CUT, pass_malformed, "VLAN tag cut short")                       \
	X(VLAN_DEEP, not_gated, "a third VLAN tag")                             \
	X(NOT_IP, not_gated, "neither IPv4 nor IPv6")                           \
	X(V4_CUT, pass_malformed, "IPv4 header cut short")                      \
	X(V4_BAD, pass_malformed, "IPv4 version, ihl or tot_len wrong")         \
	X(V4_NOT_TCP, not_gated, "IPv4, not TCP")                               \
	X(V4_FRAG_LOW, drop_fragment, "IPv4 fragment at offset 1 or 2")         \
	X(V4_FRAG_HIGH, not_gated, "IPv4 fragment at offset 3 or more")         \
	X(V6_CUT, pass_malformed, "IPv6 header cut short")                      \
	X(V6_BAD, pass_malformed, "IPv6 version wrong")                         \
	X(V6_EXT_CUT, pass_malformed, "IPv6 extension header cut short")        \
	X(V6_EXT_CUT_FIRST, drop_fragment,                                      \
	  "IPv6 extension header cut short in a first fragment")               \
	X(V6_FRAG_LOW, drop_fragment,                                           \
	  "IPv6 fragment at offset 1 or 2 before TCP or a header")             \
	X(V6_FRAG_OTHER, not_gated, "IPv6 fragment at another offset")          \
	X(V6_NOT_TCP, not_gated, "IPv6, not TCP")                               \
	X(V6_DEEP, drop_unparsable, "IPv6, not at TCP after 8 headers")         \
	X(TCP_CUT, pass_malformed, "TCP header cut short")                      \
	X(TCP_CUT_FIRST, drop_fragment, "TCP header cut short in a first fragment") \
	X(NOT_SYN, not_gated, "TCP, not SYN without ACK")                       \
	X(PORT, not_gated, "SYN to a port not gated")                           \
	X(AUTHORIZED, pass_authorized, "SYN from an authorized source")         \
	X(TRUSTED, pass_trusted, "SYN from a trusted source")                   \
	X(EXPIRED, drop_expired, "SYN from an expired source")                  \
	X(UNAUTHORIZED, drop_unauthorized, "SYN from an unknown source")

enum gate_model_rule {
#define GATE_MODEL_RULE_ENUM(id, counter, text) GATE_MODEL_##id,
	GATE_MODEL_RULES(GATE_MODEL_RULE_ENUM)
#undef GATE_MODEL_RULE_ENUM
	GATE_MODEL_RULE_MAX
};

/* The rule that decides the frame. */
int gate_model_rule(const struct gate_model *m, const __u8 *frame, size_t len);
const char *gate_model_rule_text(int rule);
int gate_model_rule_counter(int rule); /* enum gate_counter */

/* The counter (enum gate_counter) the policy says the frame moves. */
int gate_model_decide(const struct gate_model *m, const __u8 *frame, size_t len);

bool gate_model_is_drop(int counter);
int gate_model_xdp_action(int counter); /* XDP_DROP / XDP_PASS */
int gate_model_tc_action(int counter);  /* TC_ACT_SHOT / TC_ACT_UNSPEC */
const char *gate_model_counter_name(int counter); /* "?" when out of range */

#endif
