/*
 * gate_apply.h - bring the pinned gate in line with popgated's config.
 *
 * gate_apply_policy() writes ports and action, and makes the trusted set
 * hold the config's prefixes: those the previous config had and the new one
 * dropped are removed; prefixes added by hand with popgatectl are kept.
 * gate_apply_ifaces() attaches every configured interface (a missing one is
 * reported and left for the link watcher) and detaches those that the
 * previous config had and the new one dropped. Adding before removing means
 * no reload ever leaves a gap in enforcement. Both report their own errors;
 * they return 0 or the first -errno (and still do the rest).
 */
#ifndef POPGATE_GATE_APPLY_H
#define POPGATE_GATE_APPLY_H
#include "config.h"
#include "gate_maps.h"

int gate_apply_policy(const struct gate_maps *m, const struct config *new_cfg,
		      const struct config *old_cfg /* NULL at start */);
int gate_apply_ifaces(const struct gate_maps *m, const struct config *new_cfg,
		      const struct config *old_cfg /* NULL at start */);
/* Attach one configured interface, over m's maps; -ENODEV when it does not
 * exist (yet). */
int gate_apply_iface(const struct gate_maps *m, const struct config_iface *ci);
#endif
