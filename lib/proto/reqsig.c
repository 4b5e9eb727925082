/* reqsig.c - device-signed relay requests. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "relaymsg.h"
#include "err.h"
#include "hex.h"
#include "reqsig.h"
#include "rng.h"

int
nc_reqsig_canon(nc_buf *out, const char *method, const char *target,
    int64_t time, const uint8_t nonce[NC_REQSIG_NONCE_LEN], const void *body,
    size_t n)
{
	uint8_t h[32];
	char hx[65], nx[2 * NC_REQSIG_NONCE_LEN + 1];

	if (strlen(target) > NC_REQSIG_TARGET_MAX || strchr(method, '\n') ||
	    strchr(target, '\n'))
		return nc_fail(NC_EDATA, "reqsig: bad method or target");
	crypto_generichash(h, sizeof h, body, n, NULL, 0);
	nc_hex_encode(hx, h, sizeof h);
	nc_hex_encode(nx, nonce, NC_REQSIG_NONCE_LEN);
	return nc_buf_printf(out, "newchat req v2\n%s\n%s\n%lld\n%s\n%s\n",
	    method, target, (long long)time, nx, hx);
}

int
nc_reqsig_sign(nc_reqsig_hdrs *h, const uint8_t sk[64], const char *method,
    const char *target, int64_t now, const void *body, size_t n)
{
	nc_buf m = NC_BUF_INIT;
	uint8_t dev[NC_DEVID_LEN], sig[64], nonce[NC_REQSIG_NONCE_LEN];
	int rc;

	nc_random(nonce, sizeof nonce);
	if ((rc = nc_reqsig_canon(&m, method, target, now, nonce, body, n)) != 0)
		goto out;
	crypto_sign_detached(sig, NULL, m.p, m.len, sk);
	nc_device_id(dev, sk + 32);
	nc_hex_encode(h->device, dev, sizeof dev);
	snprintf(h->time, sizeof h->time, "%lld", (long long)now);
	nc_hex_encode(h->nonce, nonce, sizeof nonce);
	nc_hex_encode(h->sig, sig, sizeof sig);
out:
	nc_buf_free(&m);
	return rc;
}

/* Decimal seconds, no sign, no leading zero: one spelling per value. */
static int
parse_time(int64_t *t, const char *s)
{
	size_t n = strlen(s);
	int64_t v = 0;

	if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*t = v;
	return 0;
}

int
nc_reqsig_parse(nc_reqsig *r, const char *device, const char *time,
    const char *nonce, const char *sig)
{
	if (device == NULL || time == NULL || nonce == NULL || sig == NULL)
		return nc_fail(NC_EPERM, "missing request signature headers");
	if (nc_hex_decode(r->dev, sizeof r->dev, device, strlen(device)) != 0)
		return nc_fail(NC_EPERM, "bad " NC_HDR_DEVICE " header");
	if (parse_time(&r->time, time) != 0)
		return nc_fail(NC_EPERM, "bad " NC_HDR_TIME " header");
	if (nc_hex_decode(r->nonce, sizeof r->nonce, nonce, strlen(nonce)) != 0)
		return nc_fail(NC_EPERM, "bad " NC_HDR_NONCE " header");
	if (nc_hex_decode(r->sig, sizeof r->sig, sig, strlen(sig)) != 0)
		return nc_fail(NC_EPERM, "bad " NC_HDR_SIG " header");
	return 0;
}

int
nc_reqsig_verify(const nc_reqsig *r, const uint8_t pk[32], const char *method,
    const char *target, const void *body, size_t n, int64_t now)
{
	nc_buf m = NC_BUF_INIT;
	int rc;

	if (r->time < now - NC_REQSIG_WINDOW || r->time > now + NC_REQSIG_WINDOW)
		return nc_fail(NC_EPERM, NC_REQSIG_STALE);
	if (nc_reqsig_canon(&m, method, target, r->time, r->nonce, body, n) != 0) {
		nc_buf_free(&m);
		return nc_fail(NC_EPERM, "request target too long");
	}
	rc = crypto_sign_verify_detached(r->sig, m.p, m.len, pk);
	nc_buf_free(&m);
	if (rc != 0)
		return nc_fail(NC_EPERM, "bad request signature");
	return 0;
}
