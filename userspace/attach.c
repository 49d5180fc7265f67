/* attach.c - see attach.h. */
#include "attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gate.skel.h"
#include "gate_maps.h"
#include "iface.h"
#include "msg.h"

#define GATE_TC_HANDLE 0x706f /* "po" */
#define GATE_TC_PRIO 1
#define PIN_XDP "xdp_"
#define PIN_TC "tc_"

static int pin_of(char *buf, size_t len, const char *pin_dir, const char *kind, const char *ifname)
{
	char name[64];

	snprintf(name, sizeof(name), "%s%s", kind, ifname);
	return gate_pin_path(buf, len, pin_dir, name);
}

/* The XDP program on ifindex and how it is attached (0: none). */
static uint32_t xdp_current(int ifindex, enum attach_mode *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q) < 0)
		return 0;
	if (mode)
		*mode = q.attach_mode == XDP_ATTACHED_SKB ? ATTACH_GENERIC : ATTACH_NATIVE;
	return q.prog_id;
}

static uint32_t link_prog(int link_fd, int *ifindex)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(link_fd, &info, &len) < 0)
		return 0;
	*ifindex = (int)info.xdp.ifindex;
	return info.prog_id;
}

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? 0 : info.id;
}

static int tc_query(int ifindex, uint32_t *prog_id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = GATE_TC_HANDLE, .priority = GATE_TC_PRIO);
	int err = bpf_tc_query(&hook, &opts);

	*prog_id = err ? 0 : opts.prog_id;
	return err;
}

/* Remove our XDP link for ifname, if any (a stale one of a vanished
 * interface too). */
static int xdp_remove(const char *pin_dir, const char *ifname)
{
	char path[PATH_MAX];
	int fd, err = 0;

	pin_of(path, sizeof(path), pin_dir, PIN_XDP, ifname);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (bpf_link_detach(fd) < 0 && errno != ENOLINK && errno != EINVAL)
		err = -errno;
	close(fd);
	if (!err)
		unlink(path);
	return err;
}

static int tc_remove(const char *pin_dir, const char *ifname)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = GATE_TC_HANDLE, .priority = GATE_TC_PRIO);
	struct iface_info ifi;
	char path[PATH_MAX];
	int err = 0;

	pin_of(path, sizeof(path), pin_dir, PIN_TC, ifname);
	if (access(path, F_OK) < 0)
		return -ENOENT;
	/* A vanished interface took its filters with it. */
	if (iface_lookup(ifname, &ifi) == 0) {
		hook.ifindex = ifi.ifindex;
		err = bpf_tc_detach(&hook, &opts);
		if (err == -ENOENT)
			err = 0;
	}
	if (!err)
		unlink(path);
	return err;
}

static int attach_xdp(const char *pin_dir, const struct iface_info *ifi, int prog_fd,
		      enum attach_mode mode)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts,
		    .flags = mode == ATTACH_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE);
	enum attach_mode cur_mode = ATTACH_AUTO;
	char path[PATH_MAX];
	int link_fd, ifindex = 0, err;
	uint32_t cur;

	pin_of(path, sizeof(path), pin_dir, PIN_XDP, ifi->name);
	link_fd = bpf_obj_get(path);
	cur = xdp_current(ifi->ifindex, &cur_mode);
	if (link_fd >= 0) {
		uint32_t ours = link_prog(link_fd, &ifindex);

		/* Our link, same interface, same mode: swap the program in place. */
		if (ifindex == ifi->ifindex && cur == ours && cur_mode == mode) {
			err = bpf_link_update(link_fd, prog_fd, NULL);
			close(link_fd);
			if (err)
				msg(LOG_ERR, "%s: replacing the XDP program: %s", ifi->name, strerror(-err));
			return err;
		}
		close(link_fd);
		/* Stale (interface re-created) or another mode: start over. */
		xdp_remove(pin_dir, ifi->name);
		cur = xdp_current(ifi->ifindex, NULL);
	}
	if (cur) {
		msg(LOG_ERR, "%s: another XDP program (id %u) is attached; detach it "
		    "or use --mode tc", ifi->name, cur);
		return -EBUSY;
	}
	link_fd = bpf_link_create(prog_fd, ifi->ifindex, BPF_XDP, &opts);
	if (link_fd < 0) {
		err = -errno;
		msg(mode == ATTACH_NATIVE ? LOG_WARNING : LOG_ERR, "%s: attaching XDP in %s mode: %s",
		    ifi->name, attach_mode_name(mode), strerror(-err));
		return err;
	}
	if (bpf_obj_pin(link_fd, path) < 0) {
		err = -errno;
		msg(LOG_ERR, "%s: pinning the XDP link at %s: %s", ifi->name, path, strerror(-err));
		close(link_fd); /* the last reference: the link goes with it */
		return err;
	}
	close(link_fd);
	return 0;
}

static int attach_tc(const char *pin_dir, const struct iface_info *ifi, int prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifi->ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = GATE_TC_HANDLE, .priority = GATE_TC_PRIO,
			    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	char path[PATH_MAX];
	int err;

	/* REPLACE: an upgrade swaps the filter's program atomically. The
	 * clsact qdisc is made only when missing: creating it when it exists
	 * makes the kernel complain in libbpf's output. */
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		err = bpf_tc_hook_create(&hook);
		if (err && err != -EEXIST) {
			msg(LOG_ERR, "%s: creating the clsact qdisc: %s", ifi->name, strerror(-err));
			return err;
		}
		err = bpf_tc_attach(&hook, &opts);
	}
	if (err) {
		msg(LOG_ERR, "%s: attaching tc ingress filter: %s", ifi->name, strerror(-err));
		return err;
	}
	pin_of(path, sizeof(path), pin_dir, PIN_TC, ifi->name);
	unlink(path);
	if (bpf_obj_pin(prog_fd, path) < 0) {
		err = -errno;
		msg(LOG_ERR, "%s: pinning the tc program at %s: %s", ifi->name, path, strerror(-err));
		bpf_tc_detach(&hook, &opts);
		return err;
	}
	return 0;
}

int gate_attach(const char *pin_dir, const char *ifname, enum attach_mode mode,
		enum attach_mode *used, const struct gate_maps *maps)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pin_dir);
	struct iface_info ifi;
	struct gate_bpf *skel;
	int err;

	err = iface_lookup(ifname, &ifi);
	if (err) {
		msg(LOG_ERR, "%s: %s", ifname, err == -ENODEV ? "no such interface" : strerror(-err));
		return err;
	}
	if (!maps && (err = gate_state_create(pin_dir, 0)))
		return err;
	skel = gate_bpf__open_opts(&oopts);
	if (!skel)
		return -errno;
	err = gate_skel_use_maps(skel, pin_dir, maps);
	if (err) {
		msg(LOG_ERR, "%s: using the maps of %s: %s", ifname, pin_dir, strerror(-err));
		goto out;
	}
	/* Verify only what this mode can use (auto may fall back to tc). */
	bpf_program__set_autoload(skel->progs.popgate_xdp, mode != ATTACH_TC);
	bpf_program__set_autoload(skel->progs.popgate_tc, mode == ATTACH_TC || mode == ATTACH_AUTO);
	err = gate_bpf__load(skel);
	if (err) {
		msg(LOG_ERR, "%s: loading the BPF program: %s", ifname, strerror(-err));
		goto out;
	}
	if (mode == ATTACH_TC) {
		err = attach_tc(pin_dir, &ifi, bpf_program__fd(skel->progs.popgate_tc));
	} else {
		enum attach_mode xmode = mode == ATTACH_AUTO ? ATTACH_NATIVE : mode;

		err = attach_xdp(pin_dir, &ifi, bpf_program__fd(skel->progs.popgate_xdp), xmode);
		if (err && mode == ATTACH_AUTO) {
			msg(LOG_NOTICE, "%s: native XDP is not possible (%s); falling back to tc ingress",
			    ifname, strerror(-err));
			mode = ATTACH_TC;
			err = attach_tc(pin_dir, &ifi, bpf_program__fd(skel->progs.popgate_tc));
		} else {
			mode = xmode;
		}
	}
	if (err)
		goto out;
	/* The new attachment is in force; only now remove the other kind. */
	if (mode == ATTACH_TC)
		xdp_remove(pin_dir, ifname);
	else
		tc_remove(pin_dir, ifname);
	if (used)
		*used = mode;
out:
	gate_bpf__destroy(skel);
	return err;
}

int gate_detach(const char *pin_dir, const char *ifname)
{
	int ex = xdp_remove(pin_dir, ifname);
	int et = tc_remove(pin_dir, ifname);

	if (ex == -ENOENT && et == -ENOENT) {
		msg(LOG_ERR, "%s: popgate is not attached here (nothing in %s)", ifname, pin_dir);
		return -ENOENT;
	}
	if (ex && ex != -ENOENT) {
		msg(LOG_ERR, "%s: detaching XDP: %s", ifname, strerror(-ex));
		return ex;
	}
	if (et && et != -ENOENT) {
		msg(LOG_ERR, "%s: detaching tc: %s", ifname, strerror(-et));
		return et;
	}
	return 0;
}

static void describe(const char *pin_dir, const char *entry, struct attach_info *a)
{
	bool xdp = strncmp(entry, PIN_XDP, strlen(PIN_XDP)) == 0;
	struct iface_info ifi;
	char path[PATH_MAX];
	int fd;

	memset(a, 0, sizeof(*a));
	snprintf(a->ifname, sizeof(a->ifname), "%s", entry + strlen(xdp ? PIN_XDP : PIN_TC));
	gate_pin_path(path, sizeof(path), pin_dir, entry);
	if (iface_lookup(a->ifname, &ifi) == 0)
		a->ifindex = ifi.ifindex;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	if (xdp) {
		int link_ifindex = 0;

		a->prog_id = link_prog(fd, &link_ifindex);
		a->mode = ATTACH_NATIVE;
		a->active = a->ifindex && link_ifindex == a->ifindex &&
			    xdp_current(a->ifindex, &a->mode) == a->prog_id;
	} else {
		uint32_t cur = 0;

		a->prog_id = prog_id_of(fd);
		a->mode = ATTACH_TC;
		a->active = a->ifindex && tc_query(a->ifindex, &cur) == 0 && cur == a->prog_id;
	}
	close(fd);
}

int gate_attach_foreach(const char *pin_dir, attach_fn fn, void *ctx)
{
	struct dirent *de;
	DIR *d = opendir(pin_dir);
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && (de = readdir(d))) {
		struct attach_info a;

		if (strncmp(de->d_name, PIN_XDP, strlen(PIN_XDP)) != 0 &&
		    strncmp(de->d_name, PIN_TC, strlen(PIN_TC)) != 0)
			continue;
		describe(pin_dir, de->d_name, &a);
		ret = fn(ctx, &a);
	}
	closedir(d);
	return ret;
}
