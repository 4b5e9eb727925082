/* fuzz-relay.c - the relay's request handling (cmd/nc-relayd/api.h) on
 * hostile requests: routes, headers, bodies. One relay on a temporary data
 * directory, made once and provisioned with a user "bob" whose keys come
 * from fixed seeds, so inputs can name his device and reach deep routes.
 *
 * Input: byte 0 = flags (bits 0-2 method, bit 3 sign the request as bob's
 * device with valid headers, bit 4 time outside the window); then the
 * target up to '\n'; then header lines "Name: value" up to an empty line;
 * the rest is the body. Every few thousand inputs the relay is wiped and
 * provisioned again, so its storage stays small. */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "../../cmd/nc-relayd/api.h"
#include "../../cmd/nc-relayd/relay.h"
#include "buf.h"
#include "keys.h"
#include "reqsig.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 1800000000          /* the relay's clock at the first input */
#define WIPE_EVERY 4000

static struct relay *relay;
static char dir[64], blobfile[96];
static int64_t now = T0;
static unsigned long inputs;
static uint8_t dev_sk[64], dev_pk[32], id_sk[64], id_pk[32], auth_sk[64],
    auth_pk[32];
static char dev_hex[33];

/* rm -r of the relay's data directory (it holds files and, for blobs,
 * one level of directories). */
static void
rmtree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[PATH_MAX];

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof p, "%s/%s", path, e->d_name);
			rmtree(p);
		}
		closedir(d);
	}
	remove(path);
}

static void
wipe(void)
{
	if (relay) {
		relay_close(relay);
		relay = NULL;
	}
	if (dir[0])
		rmtree(dir);
}

static void
call(const char *method, const char *target, const nc_buf *body, int sign,
    struct api_resp *a)
{
	struct api_req q;
	nc_reqsig_hdrs h;

	memset(&q, 0, sizeof q);
	q.method = method;
	q.target = target;
	q.addr = "127.0.0.1";
	q.body = body ? body->p : NULL;
	q.body_len = body ? body->len : 0;
	q.now = now;
	if (sign && nc_reqsig_sign(&h, dev_sk, method, target, now, q.body,
	    q.body_len) == 0) {
		q.h_device = h.device;
		q.h_time = h.time;
		q.h_nonce = h.nonce;
		q.h_sig = h.sig;
	}
	api_resp_init(a);
	relay_api(relay, &q, a);
	if (a->status != 201) {     /* provisioning must work, or inputs miss */
		fprintf(stderr, "fuzz-relay: %s %s: %d %.*s\n", method, target,
		    a->status, (int)a->body.len, (const char *)a->body.p);
		abort();
	}
}

/* bob@a.test: registered, a signed device list, a signed prekey and a few
 * one-time prekeys, one envelope waiting. */
static void
provision(void)
{
	struct relay_conf c;
	struct nc_register reg;
	struct api_resp a;
	nc_buf b = NC_BUF_INIT, m = NC_BUF_INIT;
	nc_enc e;
	uint8_t dh_pk[32], dev[16], sig[64], spk[32], seed[32];

	if (mkdtemp(strcpy(dir, "/tmp/fuzz-relay.XXXXXX")) == NULL)
		abort();
	snprintf(blobfile, sizeof blobfile, "%s.blob", dir);
	relay_conf_defaults(&c);
	c.datadir = dir;
	c.domain = "a.test";
	c.public_url = "http://127.0.0.1:1";
	c.rate_register = c.rate_login = c.rate_anon = 0;
	if (relay_open(&relay, &c) != 0)
		abort();

	memset(&reg, 0, sizeof reg);
	memcpy(reg.auth_pk, auth_pk, 32);
	reg.opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	reg.memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	memcpy(reg.device_sign_pk, dev_pk, 32);
	if (nc_register_enc(&b, &reg) != 0)
		abort();
	call("POST", "/v1/users/bob", &b, 0, &a);
	api_resp_free(&a);

	/* protocol.md 2.1, signed by bob's identity key */
	memset(seed, 4, sizeof seed);
	crypto_scalarmult_base(dh_pk, seed);
	nc_device_id(dev, dev_pk);
	nc_buf_reset(&b);
	nc_enc_init(&e, &b);
	nc_put_u8(&e, 1);
	nc_put_u8(&e, 0x20);
	nc_put_str(&e, "bob@a.test");
	nc_put_u64(&e, 1);
	nc_put_fixed(&e, id_pk, 32);
	nc_put_u64(&e, T0);
	nc_put_u16(&e, 1);
	nc_put_fixed(&e, dev, 16);
	nc_put_fixed(&e, dev_pk, 32);
	nc_put_fixed(&e, dh_pk, 32);
	if (nc_enc_end(&e) != 0 || nc_buf_add(&m, "newchat devicelist v1", 22) ||
	    nc_buf_add(&m, b.p, b.len))
		abort();
	crypto_sign_detached(sig, NULL, m.p, m.len, id_sk);
	if (nc_buf_add(&b, sig, 64))
		abort();
	call("PUT", "/v1/users/bob/devicelist", &b, 1, &a);
	api_resp_free(&a);

	/* u8 1, u8 has_spk, u32 id, spk, sig, u16 n, n x (u32, pk) */
	memset(seed, 5, sizeof seed);
	crypto_scalarmult_base(spk, seed);
	nc_spk_sign(sig, dev_sk, 1, spk);
	nc_buf_reset(&b);
	nc_enc_init(&e, &b);
	nc_put_u8(&e, 1);
	nc_put_u8(&e, 1);
	nc_put_u32(&e, 1);
	nc_put_fixed(&e, spk, 32);
	nc_put_fixed(&e, sig, 64);
	nc_put_u16(&e, 3);
	for (uint32_t i = 0; i < 3; i++) {
		nc_put_u32(&e, 100 + i);
		nc_put_fixed(&e, spk, 32);
	}
	if (nc_enc_end(&e) != 0)
		abort();
	{
		char t[128];

		snprintf(t, sizeof t, "/v1/users/bob/devices/%s/prekeys", dev_hex);
		call("PUT", t, &b, 1, &a);
		api_resp_free(&a);
		snprintf(t, sizeof t, "/v1/users/bob/devices/%s/mailbox/%032x",
		    dev_hex, 1);
		nc_buf_reset(&b);
		if (nc_buf_addstr(&b, "an opaque envelope"))
			abort();
		call("PUT", t, &b, 0, &a);
		api_resp_free(&a);
	}
	nc_buf_free(&b);
	nc_buf_free(&m);
}

static void
cleanup(void)
{
	wipe();
	unlink(blobfile);
}

static void
init(void)
{
	uint8_t seed[32];

	if (sodium_init() < 0)
		abort();
	memset(seed, 1, sizeof seed);
	crypto_sign_seed_keypair(dev_pk, dev_sk, seed);
	memset(seed, 2, sizeof seed);
	crypto_sign_seed_keypair(id_pk, id_sk, seed);
	memset(seed, 3, sizeof seed);
	crypto_sign_seed_keypair(auth_pk, auth_sk, seed);
	{
		uint8_t id[16];

		nc_device_id(id, dev_pk);
		sodium_bin2hex(dev_hex, sizeof dev_hex, id, sizeof id);
	}
	provision();
	atexit(cleanup);
}

/* Next line of [*p, end): NUL-terminated copy in out (cut at cap - 1). */
static int
line(const uint8_t **p, const uint8_t *end, char *out, size_t cap)
{
	const uint8_t *nl;
	size_t n;

	if (*p >= end)
		return 0;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	n = (size_t)((nl ? nl : end) - *p);
	snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), (const char *)*p);
	*p = nl ? nl + 1 : end;
	return 1;
}

static const char *
hdr(const char *name, const char *l)
{
	size_t k = strlen(name);

	if (strncasecmp(l, name, k) || l[k] != ':')
		return NULL;
	l += k + 1;
	return l + strspn(l, " ");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *methods[] = { "GET", "PUT", "POST", "DELETE",
	    "HEAD", "OPTIONS", "PATCH", "put" };
	static char target[4096], hv[8][512], l[512];
	const uint8_t *p = data, *end = data + size;
	struct api_req q;
	struct api_resp a;
	nc_reqsig_hdrs h;
	uint8_t flags;
	int stream = 0, nh = 0;

	if (relay == NULL)
		init();
	if (size < 1)
		return 0;
	if (++inputs % WIPE_EVERY == 0) {
		wipe();
		provision();
	}
	now++;
	flags = *p++;
	memset(&q, 0, sizeof q);
	q.method = methods[flags & 7];
	q.addr = "127.0.0.1";
	q.now = now;
	target[0] = '\0';
	line(&p, end, target, sizeof target);
	q.target = target;
	while (nh < 8 && line(&p, end, l, sizeof l) && l[0] != '\0') {
		const char **slot = NULL, *v;

		if ((v = hdr("X-NC-Device", l)))
			slot = &q.h_device;
		else if ((v = hdr("X-NC-Time", l)))
			slot = &q.h_time;
		else if ((v = hdr("X-NC-Nonce", l)))
			slot = &q.h_nonce;
		else if ((v = hdr("X-NC-Signature", l)))
			slot = &q.h_sig;
		else if ((v = hdr("X-NC-Delete-Hash", l)))
			slot = &q.h_delete_hash;
		else if ((v = hdr("X-NC-Delete-Token", l)))
			slot = &q.h_delete_token;
		else if ((v = hdr("X-NC-Expires", l)))
			slot = &q.h_expires;
		if (slot) {
			snprintf(hv[nh], sizeof hv[nh], "%s", v);
			*slot = hv[nh++];
		}
	}
	q.body = p;
	q.body_len = (size_t)(end - p);
	/* As the HTTP front does: refuse what is over the route's limit before
	 * reading it; stream blob bodies to a file. */
	{
		uint64_t max = 0;

		if (relay_api_body_max(relay, q.method, q.target, &max, &stream) != 0 ||
		    q.body_len > max)
			return 0;
	}
	if (stream) {
		FILE *f = fopen(blobfile, "wb");

		if (f == NULL)
			abort();
		if (q.body_len)
			fwrite(q.body, 1, q.body_len, f);
		fclose(f);
		q.body_file = blobfile;
		q.body_file_size = q.body_len;
		q.body = NULL;
		q.body_len = 0;
	}
	if (flags & 8) {
		int64_t t = (flags & 16) ? now - 1000 : now;

		if (nc_reqsig_sign(&h, dev_sk, q.method, q.target, t,
		    q.body ? q.body : (const uint8_t *)"", q.body_len) == 0) {
			q.h_device = h.device;
			q.h_time = h.time;
			q.h_nonce = h.nonce;
			q.h_sig = h.sig;
		}
	}
	api_resp_init(&a);
	relay_api(relay, &q, &a);
	if (a.status == 0)               /* a long-poll: answer it at once */
		relay_api_list(relay, &a.wait, &a, 1);
	if (getenv("FUZZ_RELAY_VERBOSE"))
		fprintf(stderr, "%s %s -> %d %.*s\n", q.method, q.target, a.status,
		    a.status >= 400 ? (int)a.body.len : 0, (const char *)a.body.p);
	/* Every answer is a real status; errors carry a one-line reason. */
	if (a.status < 200 || a.status > 599)
		abort();
	if (a.status >= 400 && a.body.len > 0 &&
	    memchr(a.body.p, '\n', a.body.len) != NULL &&
	    memchr(a.body.p, '\n', a.body.len) != a.body.p + a.body.len - 1)
		abort();
	api_resp_free(&a);
	if (stream)
		unlink(blobfile);
	return 0;
}
