/* iface.c - see iface.h. */
#include "iface.h"

#include <errno.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <stdlib.h>
#include <string.h>

static void fill(struct iface_info *out, struct rtnl_link *link)
{
	const char *name = rtnl_link_get_name(link);

	memset(out, 0, sizeof(*out));
	if (name)
		strncpy(out->name, name, sizeof(out->name) - 1);
	out->ifindex = rtnl_link_get_ifindex(link);
	out->up = rtnl_link_get_flags(link) & IFF_UP;
}

/* libnl answers with its own error codes; errno-style for our callers. */
static int nl_to_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	default:
		return -EIO;
	}
}

static int lookup(const char *name, int ifindex, struct iface_info *out)
{
	struct rtnl_link *link = NULL;
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (!err)
		err = rtnl_link_get_kernel(sk, ifindex, name, &link);
	if (!err)
		fill(out, link);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return err ? nl_to_errno(err) : 0;
}

int iface_lookup(const char *name, struct iface_info *out)
{
	if (!name || !*name || strlen(name) >= IF_NAMESIZE)
		return -EINVAL;
	return lookup(name, 0, out);
}

int iface_by_index(int ifindex, struct iface_info *out)
{
	return lookup(NULL, ifindex, out);
}

struct iface_watch {
	struct nl_cache_mngr *mngr;
	struct nl_cache *cache;
	iface_event_fn fn;
	void *ctx;
};

static void on_change(struct nl_cache *cache, struct nl_object *obj, int action, void *arg)
{
	struct iface_watch *w = arg;
	struct iface_info info;

	(void)cache;
	fill(&info, (struct rtnl_link *)obj);
	if (action == NL_ACT_NEW || action == NL_ACT_CHANGE)
		w->fn(w->ctx, IFACE_NEW, &info);
	else if (action == NL_ACT_DEL)
		w->fn(w->ctx, IFACE_GONE, &info);
}

int iface_watch_new(struct iface_watch **out, iface_event_fn fn, void *ctx)
{
	struct iface_watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->ctx = ctx;
	err = nl_cache_mngr_alloc(NULL, NETLINK_ROUTE, NL_AUTO_PROVIDE, &w->mngr);
	if (!err)
		err = nl_cache_mngr_add(w->mngr, "route/link", on_change, w, &w->cache);
	if (err) {
		iface_watch_free(w);
		return nl_to_errno(err);
	}
	*out = w;
	return 0;
}

int iface_watch_fd(const struct iface_watch *w)
{
	return nl_cache_mngr_get_fd(w->mngr);
}

int iface_watch_dispatch(struct iface_watch *w)
{
	int err = nl_cache_mngr_data_ready(w->mngr);

	return err < 0 ? nl_to_errno(err) : 0;
}

void iface_watch_free(struct iface_watch *w)
{
	if (!w)
		return;
	if (w->mngr)
		nl_cache_mngr_free(w->mngr);
	free(w);
}
