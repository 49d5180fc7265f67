/* attach_mode.c - attach mode names (attach.h); apart from attach.c so the
 * config parser can use them without linking libbpf. */
#include <errno.h>
#include <string.h>

#include "attach.h"

static const char *const mode_names[] = {
	[ATTACH_AUTO] = "auto", [ATTACH_NATIVE] = "native",
	[ATTACH_GENERIC] = "generic", [ATTACH_TC] = "tc",
};

int attach_mode_parse(const char *s, enum attach_mode *mode)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*mode = (enum attach_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *attach_mode_name(enum attach_mode mode)
{
	return mode <= ATTACH_TC ? mode_names[mode] : "?";
}
