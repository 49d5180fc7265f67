/*
 * portlist.h - "25,465,2525" or "25 465 2525" -> ports, as the CLI and the
 * config file both accept them: 1..65535, no duplicates, at most
 * GATE_MAX_PORTS. Returns 0, -EINVAL (bad number, duplicate, empty) or
 * -E2BIG (too many); *bad points at the offending text when non-NULL.
 */
#ifndef POPGATE_PORTLIST_H
#define POPGATE_PORTLIST_H
#include <stdint.h>

#include "gate.h"

int portlist_parse(const char *s, uint16_t ports[GATE_MAX_PORTS], unsigned *n, const char **bad);
#endif
