/* bpf_log.c - see bpf_log.h. */
#include "bpf_log.h"

#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"

static int print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char text[4096];
	size_t n;
	int prio;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(text, sizeof(text), fmt, ap);
	n = strlen(text);
	if (n && text[n - 1] == '\n')
		text[n - 1] = '\0';
	prio = level == LIBBPF_WARN && !strstr(text, "Kernel error message") ? LOG_WARNING
									     : LOG_DEBUG;
	msg(prio, "libbpf: %s", text);
	return 0;
}

void bpf_log_init(void)
{
	libbpf_set_print(print);
}
