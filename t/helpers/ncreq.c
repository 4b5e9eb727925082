/* ncreq - builds relay request bodies and signature headers for tests, so
 * curl can exercise every route. Keys live as raw files in a directory:
 *   ncreq keygen DIR                    auth, device, identity, DH keys
 *   ncreq devid DIR                     the device id (hex)
 *   ncreq register DIR [INVITE]         register body
 *   ncreq adddev DIR NEWDIR ADDR CHAL   add-device body (CHAL: challenge reply)
 *   ncreq delete DIR ADDR CHAL          delete-account body
 *   ncreq sign DIR METHOD TARGET [BODY] three header lines (NCREQ_TIME: time)
 *   ncreq devlist DIR ADDR VERSION [DEVDIR...]   signed device list
 *   ncreq idbackup DIR ADDR [SALTHEX OPS MEM]   identity-key backup of
 *                                       DIR's id.sk under backup key 32 x
 *                                       0x42, or the one NC_PASSWORD derives
 *   ncreq prekeys DIR N [FIRST_ID]      prekey upload (signed prekey + N)
 *   ncreq claim [DEVHEX...]             claim request body
 *   ncreq deliver VERSION DEVHEX:ENVHEX:FILE...  batch delivery body
 *   ncreq ack ENVHEX...                 ack body
 *   ncreq hex N                         N random bytes in hex
 *   ncreq kthead DESC HEAD              check a key-log head (GET /v1/kt/head)
 *                                       against the log key of the relay's
 *                                       descriptor DESC (its well-known
 *                                       answer); print SIZE ROOTHEX TIME
 *   ncreq ktverify DESC ADDR LIST PROOF [LASTHEAD]   nc_kt_verify the
 *                                       X-NC-KT-Proof in PROOF (base64) for
 *                                       the device list LIST of ADDR; the
 *                                       proof's head goes to PROOF.head;
 *                                       print SIZE INDEX VERSION
 *   ncreq ktcons DESC OLDHEAD NEWHEAD CONS   check a consistency proof
 *   ncreq ktentries DESC HEAD ENTRIES   the entries (from 0) rebuild the
 *                                       head's root; print their count
 *   ncreq ktlabel DESC ADDR LABEL ENTRIES   the label proof verifies and
 *                                       its label is the leaf at its index
 *                                       in ENTRIES (from 0); print INDEX
 *   ncreq show KIND FILE                decode a response: challenge, count,
 *                                       claim, mailbox, version
 *   ncreq flood URL C N OKFILE          PUT N 400-byte envelopes with ids
 *                                       C.0 .. C.N-1 to URL/<id>, retrying
 *                                       through relay restarts; ids that got
 *                                       201 are appended to OKFILE
 * Bodies go to stdout; decoded responses print one line per item. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "account.h"
#include "fsutil.h"
#include "relaymsg.h"
#include "devlist.h"
#include "err.h"
#include "hex.h"
#include "idbackup.h"
#include "keys.h"
#include "kt.h"
#include "reqsig.h"

static void
die(const char *msg)
{
	fprintf(stderr, "ncreq: %s\n", msg);
	exit(1);
}

static void
readf(const char *dir, const char *name, void *out, size_t n)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	if ((f = fopen(p, "rb")) == NULL || fread(out, 1, n, f) != n)
		die(p);
	fclose(f);
}

static void
writef(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    write(fd, p, n) != (ssize_t)n || close(fd) != 0)
		die(path);
}

static void
slurp(const char *path, nc_buf *b)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0 || nc_buf_readfd(b, fd, NC_BUF_MAX - 16) != 0)
		die(path);
	close(fd);
}

/* Writes b to stdout and frees it. */
static void
out(nc_buf *b)
{
	if (fwrite(b->p, 1, b->len, stdout) != b->len || fflush(stdout) != 0)
		die("write");
	nc_buf_free(b);
}

static void
hexarg(const char *s, void *o, size_t n)
{
	if (nc_hex_decode(o, n, s, strlen(s)) != 0)
		die("bad hex argument");
}

static void
keygen(const char *dir)
{
	uint8_t pk[32], sk[64], dh[32];

	crypto_sign_keypair(pk, sk);
	writef(dir, "auth.sk", sk, 64);
	crypto_sign_keypair(pk, sk);
	writef(dir, "dev.sk", sk, 64);
	crypto_sign_keypair(pk, sk);
	writef(dir, "id.sk", sk, 64);
	randombytes_buf(dh, 32);
	writef(dir, "dh.sk", dh, 32);
	crypto_scalarmult_base(pk, dh);
	writef(dir, "dh.pk", pk, 32);
}

static void
devid(const char *dir)
{
	uint8_t sk[64], id[16];
	char hx[33];

	readf(dir, "dev.sk", sk, 64);
	nc_device_id(id, sk + 32);
	nc_hex_encode(hx, id, 16);
	puts(hx);
}

static void
reg(const char *dir, const char *invite)
{
	struct nc_register r;
	uint8_t sk[64];
	nc_buf b = NC_BUF_INIT;

	memset(&r, 0, sizeof r);
	readf(dir, "auth.sk", sk, 64);
	memcpy(r.auth_pk, sk + 32, 32);
	randombytes_buf(r.salt, sizeof r.salt);
	r.opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	r.memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	readf(dir, "dev.sk", sk, 64);
	memcpy(r.device_sign_pk, sk + 32, 32);
	snprintf(r.invite, sizeof r.invite, "%s", invite ? invite : "");
	if (nc_register_enc(&b, &r) != 0)
		die(nc_errmsg());
	out(&b);
}

static void
authreq(const char *dir, const char *newdir, const char *addr, const char *chal)
{
	struct nc_challenge c;
	struct nc_authreq a;
	uint8_t sk[64];
	nc_buf b = NC_BUF_INIT;
	int op = newdir ? NC_AUTH_ADD_DEVICE : NC_AUTH_DELETE;

	slurp(chal, &b);
	if (nc_challenge_dec(&c, b.p, b.len) != 0)
		die(nc_errmsg());
	nc_buf_reset(&b);
	memset(&a, 0, sizeof a);
	memcpy(a.nonce, c.nonce, 32);
	if (newdir) {
		readf(newdir, "dev.sk", sk, 64);
		memcpy(a.device_sign_pk, sk + 32, 32);
	}
	readf(dir, "auth.sk", sk, 64);
	if (nc_auth_sign(&a, op, addr, sk) != 0 ||
	    (newdir ? nc_adddev_enc(&b, &a) : nc_delete_enc(&b, &a)) != 0)
		die(nc_errmsg());
	out(&b);
}

static void
sign(const char *dir, const char *method, const char *target, const char *body)
{
	nc_buf b = NC_BUF_INIT;
	nc_reqsig_hdrs h;
	uint8_t sk[64];
	const char *t = getenv("NCREQ_TIME");
	int64_t now = t ? strtoll(t, NULL, 10) : (int64_t)time(NULL);

	if (body)
		slurp(body, &b);
	readf(dir, "dev.sk", sk, 64);
	if (nc_reqsig_sign(&h, sk, method, target, now, b.p, b.len) != 0)
		die(nc_errmsg());
	printf("%s: %s\n%s: %s\n%s: %s\n%s: %s\n", NC_HDR_DEVICE, h.device,
	    NC_HDR_TIME, h.time, NC_HDR_NONCE, h.nonce, NC_HDR_SIG, h.sig);
	nc_buf_free(&b);
}

static void
devlist(const char *dir, const char *addr, const char *ver, char **devdirs, int n)
{
	static nc_devlist l;
	uint8_t sk[64];
	nc_buf b = NC_BUF_INIT;

	memset(&l, 0, sizeof l);
	snprintf(l.user, sizeof l.user, "%s", addr);
	l.version = strtoull(ver, NULL, 10);
	l.created = (uint64_t)time(NULL);
	l.n = (uint16_t)(n + 1);
	for (int i = 0; i <= n && i < NC_DEVLIST_MAX; i++) {
		const char *d = i == 0 ? dir : devdirs[i - 1];
		readf(d, "dev.sk", sk, 64);
		memcpy(l.dev[i].sign_pk, sk + 32, 32);
		readf(d, "dh.pk", l.dev[i].dh_pk, 32);
	}
	readf(dir, "id.sk", sk, 64);
	if (nc_devlist_sign(&l, sk) != 0 || nc_devlist_encode(&l, &b) != 0)
		die(nc_errmsg());
	out(&b);
}

static void
idbackup(const char *dir, const char *addr, char **kdf)
{
	uint8_t bk[32], seed[32], salt[16];
	nc_idkey *k = nc_idkey_gen();
	nc_buf b = NC_BUF_INIT, pw = NC_SECBUF_INIT;

	if (k == NULL)
		die("idbackup: no memory");
	readf(dir, "id.sk", k->sk, 64);
	memcpy(k->pk, k->sk + 32, 32);
	memset(bk, 0x42, sizeof bk);
	if (kdf) {
		hexarg(kdf[0], salt, sizeof salt);
		if (nc_password(&pw, 0) != 0 || nc_account_derive(&pw, salt,
		    strtoull(kdf[1], NULL, 10), strtoull(kdf[2], NULL, 10), seed,
		    bk) != 0)
			die(nc_errmsg());
		nc_buf_free(&pw);
	}
	if (nc_idbackup_seal(&b, bk, addr, k) != 0)
		die(nc_errmsg());
	nc_idkey_free(k);
	out(&b);
}

static void
prekeys(const char *dir, const char *count, const char *first)
{
	static struct nc_prekeys k;
	uint8_t sk[64], dh[32];
	uint32_t id0 = first ? (uint32_t)strtoul(first, NULL, 10) : 1;
	nc_buf b = NC_BUF_INIT;

	readf(dir, "dev.sk", sk, 64);
	k.has_spk = 1;
	k.spk_id = id0;
	randombytes_buf(dh, 32);
	crypto_scalarmult_base(k.spk_pk, dh);
	nc_spk_sign(k.spk_sig, sk, id0, k.spk_pk);
	k.n = (uint16_t)strtoul(count, NULL, 10);
	for (size_t i = 0; i < k.n && i < NC_PREKEY_UPLOAD_MAX; i++) {
		k.otpk[i].id = id0 + (uint32_t)i;
		randombytes_buf(dh, 32);
		crypto_scalarmult_base(k.otpk[i].pk, dh);
	}
	if (nc_prekeys_enc(&b, &k) != 0)
		die(nc_errmsg());
	out(&b);
}

static void
claim(char **devs, int n)
{
	static struct nc_claim_req q;
	nc_buf b = NC_BUF_INIT;

	q.n = (uint16_t)n;
	for (int i = 0; i < n && i < NC_CLAIM_MAX; i++)
		hexarg(devs[i], q.dev[i], 16);
	if (nc_claim_req_enc(&b, &q) != 0)
		die(nc_errmsg());
	out(&b);
}

static void
deliver(const char *ver, char **items, int n)
{
	static struct nc_deliver d;
	static nc_buf env[NC_DELIVER_MAX];
	nc_buf b = NC_BUF_INIT;
	char dev[64], eid[64], file[4096];

	d.devlist_version = strtoull(ver, NULL, 10);
	d.n = (uint16_t)n;
	for (int i = 0; i < n && i < NC_DELIVER_MAX; i++) {
		if (sscanf(items[i], "%63[^:]:%63[^:]:%4095s", dev, eid, file) != 3)
			die("want DEVHEX:ENVHEX:FILE");
		hexarg(dev, d.item[i].dev, 16);
		hexarg(eid, d.item[i].envid, 16);
		slurp(file, &env[i]);
		d.item[i].env = env[i].p;
		d.item[i].len = env[i].len;
	}
	if (nc_deliver_enc(&b, &d) != 0)
		die(nc_errmsg());
	out(&b);
	for (int i = 0; i < n && i < NC_DELIVER_MAX; i++)
		nc_buf_free(&env[i]);
}

static void
ack(char **ids, int n)
{
	static struct nc_ack a;
	nc_buf b = NC_BUF_INIT;

	a.n = (uint16_t)n;
	for (int i = 0; i < n && i < NC_ACK_MAX; i++)
		hexarg(ids[i], a.envid[i], 16);
	if (nc_ack_enc(&b, &a) != 0)
		die(nc_errmsg());
	out(&b);
}

static void
randhex(const char *n)
{
	uint8_t b[64];
	char hx[129];
	size_t k = strtoul(n, NULL, 10);

	if (k == 0 || k > sizeof b)
		die("hex: 1..64 bytes");
	randombytes_buf(b, k);
	nc_hex_encode(hx, b, k);
	puts(hx);
}

static void
show(const char *kind, const char *file)
{
	static struct nc_challenge c;
	static struct nc_prekey_count pc;
	static struct nc_claim_resp cr;
	static struct nc_mailbox m;
	nc_buf b = NC_BUF_INIT;
	char h1[65];
	uint64_t v;

	slurp(file, &b);
	if (strcmp(kind, "challenge") == 0 && nc_challenge_dec(&c, b.p, b.len) == 0) {
		nc_hex_encode(h1, c.nonce, 32);
		printf("%s %llu %llu\n", h1, (unsigned long long)c.opslimit,
		    (unsigned long long)c.memlimit);
	} else if (strcmp(kind, "count") == 0 && nc_prekey_count_dec(&pc, b.p, b.len) == 0) {
		printf("%u %u\n", pc.spk_id, pc.otpk_count);
	} else if (strcmp(kind, "claim") == 0 && nc_claim_resp_dec(&cr, b.p, b.len) == 0) {
		for (size_t i = 0; i < cr.n; i++) {
			nc_hex_encode(h1, cr.b[i].dev, 16);
			if (cr.b[i].has_otpk)
				printf("%s %u %u\n", h1, cr.b[i].spk_id, cr.b[i].otpk_id);
			else
				printf("%s %u -\n", h1, cr.b[i].spk_id);
		}
	} else if (strcmp(kind, "mailbox") == 0 && nc_mailbox_dec(&m, b.p, b.len) == 0) {
		for (size_t i = 0; i < m.n; i++) {
			nc_hex_encode(h1, m.m[i].envid, 16);
			printf("%llu %s %zu\n", (unsigned long long)m.m[i].cursor, h1,
			    m.m[i].len);
		}
	} else if (strcmp(kind, "version") == 0 && nc_version_dec(&v, b.p, b.len) == 0) {
		printf("%llu\n", (unsigned long long)v);
	} else
		die("cannot decode");
	nc_buf_free(&b);
}

/* ---- the key log ---- */

struct desc {
	char domain[NC_DOMAIN_MAX + 1];
	uint8_t log_pk[32], vrf_pk[32];
};

static void
readdesc(const char *file, struct desc *d)
{
	char line[512], hx[80];
	FILE *f = fopen(file, "r");
	int got = 0;

	if (f == NULL)
		die(file);
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "domain %253s", d->domain) == 1)
			got |= 1;
		else if (sscanf(line, "kt-log %70s", hx) == 1 &&
		    nc_hex_decode(d->log_pk, 32, hx, strlen(hx)) == 0)
			got |= 2;
		else if (sscanf(line, "kt-vrf %70s", hx) == 1 &&
		    nc_hex_decode(d->vrf_pk, 32, hx, strlen(hx)) == 0)
			got |= 4;
	}
	fclose(f);
	if (got != 7)
		die("descriptor without domain, kt-log and kt-vrf lines");
}

static void
readhead(const char *desc, const char *file, nc_kt_head *h, struct desc *d)
{
	nc_buf b = NC_BUF_INIT;

	readdesc(desc, d);
	slurp(file, &b);
	if (nc_kt_head_decode(h, b.p, b.len) != 0 ||
	    nc_kt_head_verify(h, d->log_pk, d->domain) != 0)
		die(nc_errmsg());
	nc_buf_free(&b);
}

static void
kthead(const char *desc, const char *file)
{
	struct desc d;
	nc_kt_head h;
	char hx[65];

	readhead(desc, file, &h, &d);
	nc_hex_encode(hx, h.root, 32);
	printf("%llu %s %llu\n", (unsigned long long)h.size, hx, (unsigned long long)h.time);
}

static void
ktverify(const char *desc, const char *addr, const char *list, const char *proof,
    const char *last)
{
	static nc_kt_proof p;
	struct desc d;
	nc_kt_head old;
	nc_devlist *l = calloc(1, sizeof *l);
	nc_buf b = NC_BUF_INIT, pb = NC_BUF_INIT, hb = NC_BUF_INIT;
	char path[4200];
	size_t n = 0;

	if (l == NULL)
		die("no memory");
	if (last)
		readhead(desc, last, &old, &d);
	readdesc(desc, &d);
	slurp(proof, &b);
	while (b.len > 0 && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r'))
		b.len--;
	if (nc_buf_reserve(&pb, b.len) != 0 ||
	    sodium_base642bin(pb.p, b.len, (const char *)b.p, b.len, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		die("proof: not base64");
	if (nc_kt_proof_decode(&p, pb.p, n) != 0)
		die(nc_errmsg());
	nc_buf_reset(&b);
	slurp(list, &b);
	/* the identity key is the one the list names (and signs it) */
	if (nc_devlist_decode(l, b.p, b.len) != 0 || nc_devlist_verify(l) != 0)
		die(nc_errmsg());
	if (p.version != l->version)
		die("proof for another version than the list's");
	if (nc_kt_verify(&p, d.log_pk, d.vrf_pk, d.domain, addr, l->identity, b.p, b.len,
	    last ? &old : NULL) != 0)
		die(nc_errmsg());
	snprintf(path, sizeof path, "%s.head", proof);
	if (nc_kt_head_encode(&hb, &p.head) != 0)
		die(nc_errmsg());
	{
		FILE *f = fopen(path, "wb");
		if (f == NULL || fwrite(hb.p, 1, hb.len, f) != hb.len || fclose(f) != 0)
			die(path);
	}
	printf("%llu %llu %llu\n", (unsigned long long)p.head.size,
	    (unsigned long long)p.index, (unsigned long long)p.version);
	nc_buf_free(&b);
	nc_buf_free(&pb);
	nc_buf_free(&hb);
	free(l);
}

static void
ktcons(const char *desc, const char *oldf, const char *newf, const char *consf)
{
	static nc_kt_cons k;
	struct desc d;
	nc_kt_head o, h;
	nc_buf b = NC_BUF_INIT;

	readhead(desc, oldf, &o, &d);
	readhead(desc, newf, &h, &d);
	slurp(consf, &b);
	if (nc_kt_cons_decode(&k, b.p, b.len) != 0)
		die(nc_errmsg());
	if (k.from != o.size || k.to != h.size)
		die("consistency proof between other sizes");
	if (nc_merkle_verify_consistency(o.size, h.size, o.root, h.root, k.h, k.n) != 0)
		die(nc_errmsg());
	puts("ok");
	nc_buf_free(&b);
}

/* MTH over leaf hashes lh[lo..hi) (RFC 9162 2.1.1). */
static void
mth(nc_merkle_hash out, nc_merkle_hash *lh, uint64_t lo, uint64_t hi)
{
	nc_merkle_hash l, r;
	uint64_t k = 1;

	if (hi - lo == 1) {
		memcpy(out, lh[lo], NC_MERKLE_HASH);
		return;
	}
	while (k << 1 < hi - lo)
		k <<= 1;
	mth(l, lh, lo, lo + k);
	mth(r, lh, lo + k, hi);
	nc_merkle_node(out, l, r);
}

static nc_kt_entries *
readentries(const char *file)
{
	nc_kt_entries *e = malloc(sizeof *e);
	nc_buf b = NC_BUF_INIT;

	if (e == NULL)
		die("no memory");
	slurp(file, &b);
	if (nc_kt_entries_decode(e, b.p, b.len) != 0)
		die(nc_errmsg());
	if (e->start != 0)
		die("entries: want them from 0");
	nc_buf_free(&b);
	return e;
}

static void
ktentries(const char *desc, const char *headf, const char *entf)
{
	nc_kt_entries *e = readentries(entf);
	nc_merkle_hash *lh, root;
	struct desc d;
	nc_kt_head h;

	readhead(desc, headf, &h, &d);
	if (e->n != h.size || h.size == 0)
		die("entries: not the head's leaves");
	if ((lh = calloc(e->n, sizeof *lh)) == NULL)
		die("no memory");
	for (size_t i = 0; i < e->n; i++)
		nc_merkle_leaf(lh[i], e->leaf[i], NC_KT_LEAF);
	mth(root, lh, 0, e->n);
	if (memcmp(root, h.root, sizeof root) != 0)
		die("entries: they do not make the head's root");
	printf("%zu\n", e->n);
	free(lh);
	free(e);
}

static void
ktlabel(const char *desc, const char *addr, const char *labelf, const char *entf)
{
	nc_kt_entries *e = readentries(entf);
	nc_kt_labelproof l;
	struct desc d;
	uint8_t label[NC_KT_LABEL];
	nc_buf b = NC_BUF_INIT;

	readdesc(desc, &d);
	slurp(labelf, &b);
	if (nc_kt_labelproof_decode(&l, b.p, b.len) != 0 ||
	    nc_kt_labelproof_verify(label, &l, d.vrf_pk, addr) != 0)
		die(nc_errmsg());
	if (l.index >= e->n || memcmp(e->leaf[l.index] + 1, label, NC_KT_LABEL) != 0)
		die("label: not the leaf at its index");
	printf("%llu\n", (unsigned long long)l.index);
	nc_buf_free(&b);
	free(e);
}

static size_t
discard(char *p, size_t n, size_t k, void *arg)
{
	(void)p;
	(void)arg;
	return n * k;
}

/* One envelope until the relay answers: 201 ok, 000/503 retry, else fail. */
static long
put_once(CURL *c, const char *url, const uint8_t *env, size_t n)
{
	long code = 0;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, env);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

static void
flood(const char *base, const char *cno, const char *count, const char *okfile)
{
	struct timespec pause = { 0, 20 * 1000000 };
	unsigned long cl = strtoul(cno, NULL, 10), n = strtoul(count, NULL, 10);
	uint8_t env[400];
	char url[2048];
	FILE *ok = fopen(okfile, "a");
	CURL *c = curl_easy_init();
	long code;
	int tries;

	if (ok == NULL || c == NULL)
		die("flood: cannot start");
	randombytes_buf(env, sizeof env);
	for (unsigned long i = 0; i < n; i++) {
		snprintf(url, sizeof url, "%s/%08lx%024lx", base, cl, i);
		for (tries = 0; tries < 1500; tries++) {
			if ((code = put_once(c, url, env, sizeof env)) == 201)
				break;
			if (code != 0 && code != 503) {
				fprintf(stderr, "ncreq: flood: %s: %ld\n", url, code);
				exit(1);
			}
			nanosleep(&pause, NULL);
		}
		if (code != 201)
			die("flood: relay did not come back");
		fprintf(ok, "%08lx%024lx\n", cl, i);
		fflush(ok);
	}
	fclose(ok);
	curl_easy_cleanup(c);
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (sodium_init() < 0)
		die("sodium");
	if (strcmp(cmd, "keygen") == 0 && argc == 3)
		keygen(argv[2]);
	else if (strcmp(cmd, "devid") == 0 && argc == 3)
		devid(argv[2]);
	else if (strcmp(cmd, "register") == 0 && (argc == 3 || argc == 4))
		reg(argv[2], argc == 4 ? argv[3] : NULL);
	else if (strcmp(cmd, "adddev") == 0 && argc == 6)
		authreq(argv[2], argv[3], argv[4], argv[5]);
	else if (strcmp(cmd, "delete") == 0 && argc == 5)
		authreq(argv[2], NULL, argv[3], argv[4]);
	else if (strcmp(cmd, "sign") == 0 && (argc == 5 || argc == 6))
		sign(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	else if (strcmp(cmd, "devlist") == 0 && argc >= 5)
		devlist(argv[2], argv[3], argv[4], argv + 5, argc - 5);
	else if (strcmp(cmd, "idbackup") == 0 && (argc == 4 || argc == 7))
		idbackup(argv[2], argv[3], argc == 7 ? argv + 4 : NULL);
	else if (strcmp(cmd, "prekeys") == 0 && (argc == 4 || argc == 5))
		prekeys(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	else if (strcmp(cmd, "claim") == 0)
		claim(argv + 2, argc - 2);
	else if (strcmp(cmd, "deliver") == 0 && argc >= 4)
		deliver(argv[2], argv + 3, argc - 3);
	else if (strcmp(cmd, "ack") == 0 && argc >= 3)
		ack(argv + 2, argc - 2);
	else if (strcmp(cmd, "hex") == 0 && argc == 3)
		randhex(argv[2]);
	else if (strcmp(cmd, "flood") == 0 && argc == 6)
		flood(argv[2], argv[3], argv[4], argv[5]);
	else if (strcmp(cmd, "kthead") == 0 && argc == 4)
		kthead(argv[2], argv[3]);
	else if (strcmp(cmd, "ktverify") == 0 && (argc == 6 || argc == 7))
		ktverify(argv[2], argv[3], argv[4], argv[5], argc == 7 ? argv[6] : NULL);
	else if (strcmp(cmd, "ktcons") == 0 && argc == 6)
		ktcons(argv[2], argv[3], argv[4], argv[5]);
	else if (strcmp(cmd, "ktentries") == 0 && argc == 5)
		ktentries(argv[2], argv[3], argv[4]);
	else if (strcmp(cmd, "ktlabel") == 0 && argc == 6)
		ktlabel(argv[2], argv[3], argv[4], argv[5]);
	else if (strcmp(cmd, "show") == 0 && argc == 4)
		show(argv[2], argv[3]);
	else
		die("usage: see the comment at the top of t/helpers/ncreq.c");
	return 0;
}
