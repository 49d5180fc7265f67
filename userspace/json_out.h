/*
 * json_out.h - streaming JSON for the CLI's --json output.
 *
 * Keys are NULL inside arrays. Strings are escaped per RFC 8259 (user names
 * come from log lines: quotes, control bytes and non-ASCII are all safe).
 */
#ifndef POPGATE_JSON_OUT_H
#define POPGATE_JSON_OUT_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *f);
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *key, const char *value);
void json_u64(struct json *j, const char *key, uint64_t value);
void json_i64(struct json *j, const char *key, int64_t value);
void json_bool(struct json *j, const char *key, bool value);
#endif
