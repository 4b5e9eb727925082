/* json.c - JSON string escaping for --json output. */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "json.h"

int
nc_json_str(nc_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];
	size_t i;
	int rc;

	if ((rc = nc_buf_add(b, "\"", 1)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		const char *e = NULL;

		switch (p[i]) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			/* Control characters, DEL too: keeps lines terminal-safe. */
			if (p[i] < 0x20 || p[i] == 0x7f) {
				snprintf(esc, sizeof esc, "\\u%04x", p[i]);
				e = esc;
			}
		}
		rc = e ? nc_buf_addstr(b, e) : nc_buf_add(b, p + i, 1);
		if (rc != 0)
			return rc;
	}
	return nc_buf_add(b, "\"", 1);
}

int
nc_json_kv(nc_buf *b, const char *key, const char *val)
{
	int rc;

	if ((rc = nc_buf_addstr(b, b->len ? "," : "{")) != 0 ||
	    (rc = nc_json_str(b, key, strlen(key))) != 0 ||
	    (rc = nc_buf_add(b, ":", 1)) != 0)
		return rc;
	return nc_json_str(b, val, strlen(val));
}
