/* gate_apply.c - see gate_apply.h. */
#include "gate_apply.h"

#include <errno.h>
#include <string.h>

#include "addr.h"
#include "attach.h"
#include "iface.h"
#include "msg.h"

static bool has_prefix(const struct config *c, const struct config_prefix *p)
{
	for (size_t i = 0; c && i < c->n_trust; i++)
		if (c->trust[i].plen == p->plen &&
		    memcmp(&c->trust[i].addr, &p->addr, sizeof(p->addr)) == 0)
			return true;
	return false;
}

static int first_err(int have, int now)
{
	return have ? have : now;
}

int gate_apply_policy(const struct gate_maps *m, const struct config *new_cfg,
		      const struct config *old_cfg)
{
	char text[ADDR_STRLEN];
	int err = 0, e;

	e = gate_ports_set(m, new_cfg->ports, new_cfg->n_ports);
	if (e)
		msg(LOG_ERR, "%s: setting the gated ports: %s", m->pin_dir, strerror(-e));
	err = first_err(err, e);
	e = gate_action_set(m, new_cfg->action);
	if (e)
		msg(LOG_ERR, "%s: setting the action: %s", m->pin_dir, strerror(-e));
	err = first_err(err, e);
	for (size_t i = 0; i < new_cfg->n_trust; i++) {
		e = gate_trust_add(m, &new_cfg->trust[i].addr, new_cfg->trust[i].plen);
		if (e) {
			prefix_format(&new_cfg->trust[i].addr, new_cfg->trust[i].plen, text, sizeof(text));
			msg(LOG_ERR, "trust %s: %s", text, strerror(-e));
		}
		err = first_err(err, e);
	}
	for (size_t i = 0; old_cfg && i < old_cfg->n_trust; i++) {
		if (has_prefix(new_cfg, &old_cfg->trust[i]))
			continue;
		e = gate_trust_del(m, &old_cfg->trust[i].addr, old_cfg->trust[i].plen);
		prefix_format(&old_cfg->trust[i].addr, old_cfg->trust[i].plen, text, sizeof(text));
		if (e && e != -ENOENT)
			msg(LOG_ERR, "trust %s: removing: %s", text, strerror(-e));
		else
			msg(LOG_NOTICE, "trust %s: no longer in the configuration, removed", text);
		err = first_err(err, e == -ENOENT ? 0 : e);
	}
	return err;
}

int gate_apply_iface(const struct gate_maps *m, const struct config_iface *ci)
{
	enum attach_mode used;
	struct iface_info ifi;
	int err;

	/* A missing interface is normal at boot (a VLAN or bond made later). */
	if (iface_lookup(ci->name, &ifi) == -ENODEV) {
		msg(LOG_WARNING, "%s: no such interface yet; the gate goes on when it appears",
		    ci->name);
		return -ENODEV;
	}
	err = gate_attach(m->pin_dir, ci->name, ci->mode, &used, m);
	if (!err)
		msg(LOG_NOTICE, "%s: gate attached (%s)", ci->name, attach_mode_name(used));
	return err;
}

static bool has_iface(const struct config *c, const char *name)
{
	for (size_t i = 0; c && i < c->n_ifaces; i++)
		if (strcmp(c->ifaces[i].name, name) == 0)
			return true;
	return false;
}

int gate_apply_ifaces(const struct gate_maps *m, const struct config *new_cfg,
		      const struct config *old_cfg)
{
	int err = 0, e;

	for (size_t i = 0; i < new_cfg->n_ifaces; i++) {
		e = gate_apply_iface(m, &new_cfg->ifaces[i]);
		err = first_err(err, e == -ENODEV ? 0 : e);
	}
	for (size_t i = 0; old_cfg && i < old_cfg->n_ifaces; i++) {
		const char *name = old_cfg->ifaces[i].name;

		if (has_iface(new_cfg, name))
			continue;
		e = gate_detach(m->pin_dir, name);
		if (!e)
			msg(LOG_NOTICE, "%s: no longer in the configuration, gate detached", name);
		err = first_err(err, e == -ENOENT ? 0 : e);
	}
	return err;
}
