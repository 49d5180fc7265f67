/*
 * attach.h - putting the gate on interfaces and taking it off.
 *
 * XDP attachments are bpf_links pinned as PIN_DIR/xdp_IFNAME: they outlive
 * the process that made them, and re-attaching (an upgrade) swaps the
 * program inside the link with no moment unguarded. tc attachments are
 * clsact ingress filters (handle GATE_TC_HANDLE); the program is pinned as
 * PIN_DIR/tc_IFNAME so detach and status can find them. Every interface
 * runs its own copy of the program over the same pinned maps.
 * Errors are reported here, naming the interface; calls return 0 or -errno.
 */
#ifndef POPGATE_ATTACH_H
#define POPGATE_ATTACH_H
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

enum attach_mode { ATTACH_AUTO, ATTACH_NATIVE, ATTACH_GENERIC, ATTACH_TC };

int attach_mode_parse(const char *s, enum attach_mode *mode);
const char *attach_mode_name(enum attach_mode mode);

struct gate_maps;
/* *used (may be NULL) gets the mode in force; auto falls back to tc. With
 * maps NULL the pinned state is used (and created when missing); else the
 * program uses exactly those maps (popgated's own, see gate_maps.h). */
int gate_attach(const char *pin_dir, const char *ifname, enum attach_mode mode,
		enum attach_mode *used, const struct gate_maps *maps);
int gate_detach(const char *pin_dir, const char *ifname);

struct attach_info {
	char ifname[IF_NAMESIZE];
	int ifindex;            /* 0 when the interface is gone */
	enum attach_mode mode;
	uint32_t prog_id;
	bool active;            /* the program really is on the interface now */
};
typedef int (*attach_fn)(void *ctx, const struct attach_info *a);
int gate_attach_foreach(const char *pin_dir, attach_fn fn, void *ctx);
#endif
