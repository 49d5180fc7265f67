/* JSON output must stay valid whatever a user name holds. */
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "tap.h"

static char *render(void (*fn)(struct json *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	json_init(&j, f);
	fn(&j);
	fclose(f);
	return buf;
}

static void list(struct json *j)
{
	json_array_begin(j, NULL);
	json_object_begin(j, NULL);
	json_string(j, "user", "a\"b\\c\n\x01\xff");
	json_i64(j, "expires_in_s", -3);
	json_bool(j, "expired", true);
	json_object_end(j);
	json_object_begin(j, NULL);
	json_u64(j, "n", 18446744073709551615ull);
	json_array_begin(j, "ports");
	json_u64(j, NULL, 25);
	json_u64(j, NULL, 465);
	json_array_end(j);
	json_object_end(j);
	json_array_end(j);
}

static void empty(struct json *j)
{
	json_array_begin(j, NULL);
	json_array_end(j);
}

int main(void)
{
	char *s = render(list);

	CHECK(strcmp(s, "[{\"user\":\"a\\\"b\\\\c\\u000a\\u0001\\u00ff\",\"expires_in_s\":-3,"
		     "\"expired\":true},{\"n\":18446744073709551615,\"ports\":[25,465]}]\n") == 0,
	      "escaping, nesting and commas (got %s)", s);
	free(s);
	s = render(empty);
	CHECK(strcmp(s, "[]\n") == 0, "empty array (got %s)", s);
	free(s);
	return tap_done();
}
