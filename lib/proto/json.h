/* json.h - JSON output for --json: string escaping and one-object lines. */
#ifndef NC_JSON_H
#define NC_JSON_H

#include <stddef.h>

#include "buf.h"

/* Append s[0..n) as a quoted JSON string: ", \ and control characters
 * escaped, other UTF-8 passed through (the input is valid UTF-8). */
int nc_json_str(nc_buf *b, const char *s, size_t n)
	__attribute__((warn_unused_result));
/* Append ,"key":"value" (or {"key":"value" when b is empty). */
int nc_json_kv(nc_buf *b, const char *key, const char *val)
	__attribute__((warn_unused_result));

#endif
