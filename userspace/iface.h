/*
 * iface.h - network interfaces, through libnl's route socket.
 *
 * iface_lookup() answers "does NAME exist, what is its index, is it up".
 * An iface_watch delivers link events (an interface appearing, going away,
 * changing state) to a callback from the daemon's event loop: put
 * iface_watch_fd() in epoll and call iface_watch_dispatch() when readable.
 * All calls return 0 or -errno (-ENODEV: no such interface).
 */
#ifndef POPGATE_IFACE_H
#define POPGATE_IFACE_H
#include <net/if.h>
#include <stdbool.h>

struct iface_info {
	char name[IF_NAMESIZE];
	int ifindex;
	bool up;
};

int iface_lookup(const char *name, struct iface_info *out);
int iface_by_index(int ifindex, struct iface_info *out);

enum iface_event { IFACE_NEW, IFACE_GONE };
typedef void (*iface_event_fn)(void *ctx, enum iface_event ev, const struct iface_info *i);
struct iface_watch;
int iface_watch_new(struct iface_watch **out, iface_event_fn fn, void *ctx);
int iface_watch_fd(const struct iface_watch *w);
int iface_watch_dispatch(struct iface_watch *w);
void iface_watch_free(struct iface_watch *w);
#endif
