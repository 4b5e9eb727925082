/* fuzz-config.c - the config parser is bounded and whatever it accepts is
 * well-formed: relay URLs are http(s) with no whitespace, cafile absolute. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "home.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_url(const char *u)
{
	if (u == NULL)
		return;
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		abort();
	for (; *u; u++)
		if ((unsigned char)*u <= 0x20 || (unsigned char)*u >= 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *domains[] = { "a.test", "b.test", "localhost",
		"127.0.0.1:8080", "x", "" };
	nc_config *cfg = NULL;
	int rc = nc_config_parse(&cfg, (const char *)data, size);

	if (rc != 0) {
		if (cfg != NULL || rc != NC_ECONFIG ||
		    strncmp(nc_errmsg(), "config:", 7) != 0)
			abort();
		return 0;
	}
	for (size_t i = 0; i < sizeof domains / sizeof domains[0]; i++)
		check_url(nc_config_relay(cfg, domains[i]));
	if (nc_config_cafile(cfg) && nc_config_cafile(cfg)[0] != '/')
		abort();
	(void)nc_config_proxy(cfg);
	nc_config_free(cfg);
	return 0;
}
