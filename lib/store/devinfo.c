/* devinfo.c - device names, when added, last seen (devinfo.h). */
#include <stdio.h>
#include <string.h>

#include "devinfo.h"
#include "hex.h"
#include "wire.h"      /* nc_utf8_valid */

int
nc_devname_valid(const char *name, size_t n)
{
	size_t i;

	if (n < 1 || n > NC_DEVNAME_MAX || !nc_utf8_valid(name, n))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}

static void
key(char *k, size_t max, const char *what, const char *hex)
{
	snprintf(k, max, "dev/%s/%.32s", what, hex);
}

void
nc_devinfo_name(nc_state *s, const char *hex, char name[NC_DEVNAME_MAX + 1])
{
	char k[64];

	key(k, sizeof k, "name", hex);
	if (nc_state_find_str(s, k, name, NC_DEVNAME_MAX + 1) != 0 ||
	    !nc_devname_valid(name, strlen(name)))
		name[0] = '\0';
}

int
nc_devinfo_set_name(nc_state *s, const char *hex, const char *name)
{
	char k[64];

	key(k, sizeof k, "name", hex);
	return nc_state_put(s, k, name, strlen(name));
}

int64_t
nc_devinfo_added(nc_state *s, const char *hex)
{
	char k[64];

	key(k, sizeof k, "added", hex);
	return nc_state_get_int(s, k, 0);
}

int
nc_devinfo_set_added(nc_state *s, const char *hex, int64_t t)
{
	char k[64];

	key(k, sizeof k, "added", hex);
	if (nc_state_get_int(s, k, 0) != 0)
		return 0;
	return nc_state_put_int(s, k, t);
}

int64_t
nc_devinfo_seen(nc_state *s, const char *hex)
{
	char k[64];

	key(k, sizeof k, "seen", hex);
	return nc_state_get_int(s, k, 0);
}

int
nc_devinfo_set_seen(nc_state *s, const uint8_t id[16], int64_t t)
{
	char k[64], hex[33];

	nc_hex_encode(hex, id, 16);
	key(k, sizeof k, "seen", hex);
	return nc_state_put_int(s, k, t);
}
