/*
 * config.h - popgated's configuration file (popgate.conf(5)).
 *
 * config_load() reads "key = value" lines into a struct config. Every
 * problem is reported with msg(LOG_ERR, "FILE:LINE: ...") (line 0: the file
 * as a whole), all of them, and a file with any problem loads nothing: the
 * result is all or none. Lists are heap arrays owned by the struct.
 */
#ifndef POPGATE_CONFIG_H
#define POPGATE_CONFIG_H
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attach.h"
#include "gate.h"

#define CONFIG_LINE_MAX 4096          /* longer lines are refused, not cut */
#define CONFIG_IFNAMSIZ 16            /* IFNAMSIZ; <net/if.h> clashes with <linux/if.h> */
#define CONFIG_MAX_ENTRIES_MAX (16u << 20)
#define CONFIG_USER_MAX 64
#define CONFIG_READER_USER_DEFAULT "nobody"
#define CONFIG_FORMATS_ALL 0x7fu      /* one bit per login format, see config_formats */

struct config_iface { char name[CONFIG_IFNAMSIZ]; enum attach_mode mode; };
struct config_prefix { struct in6_addr addr; unsigned plen; /* as prefix_parse() */ };
struct config_pattern { char *text; char origin[PATH_MAX + 16]; /* "FILE:LINE" */ };

struct config {
	struct config_iface *ifaces;    /* interface = NAME [MODE] */
	size_t n_ifaces;
	uint16_t ports[GATE_MAX_PORTS]; /* host order, in the order written */
	unsigned n_ports;
	uint64_t window_s;
	struct config_prefix *trust;
	size_t n_trust;                 /* at most GATE_TRUST_MAX */
	char **logs;                    /* absolute paths */
	size_t n_logs;
	bool journal;                   /* read the systemd journal... */
	char *journal_unit;             /* ...only this unit's lines (NULL: all) */
	bool read_stdin;
	unsigned formats;               /* enum login_format bits (login_parse.h) */
	struct config_pattern *patterns;
	size_t n_patterns;
	char pin_dir[PATH_MAX];
	unsigned max_entries;           /* gate_auth size, 1..CONFIG_MAX_ENTRIES_MAX */
	enum gate_action action;
	uint64_t sweep_interval_s;
	int log_level;                  /* LOG_ERR..LOG_DEBUG, for msg_set_level() */
	char reader_user[CONFIG_USER_MAX]; /* the log reader's identity (reader.h) */
};

/* Defaults of every key; no source, so not loadable as is. Allocates nothing. */
void config_init_defaults(struct config *c);
/*
 * Parse path into *c. On success *c is overwritten with the new config, to be
 * released with config_free(); what *c held before is NOT freed, so reload
 * into a second struct and swap on success. On failure *c is untouched and
 * the return is -EINVAL (bad content, every problem printed) or -errno (the
 * file could not be read, also printed).
 */
int config_load(const char *path, struct config *c);
/* Release the lists and reset *c to the defaults; safe to call twice. */
void config_free(struct config *c);
/* The effective config in the same key = value syntax: it loads back equal. */
void config_print(const struct config *c, FILE *out);
#endif
