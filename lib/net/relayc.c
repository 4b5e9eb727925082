/* relayc.c - the relay client: resolution, request signing, status
 * mapping, and the typed bodies of protocol.md section 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "relaymsg.h"
#include "err.h"
#include "hex.h"
#include "home.h"
#include "http.h"
#include "backup.h"
#include "relayc.h"
#include "reqsig.h"

struct nc_relay {
	char domain[NC_DOMAIN_MAX + 1];
	char url[NC_URL_MAX + 1];
	char cafile[4096];
	char proxy[NC_URL_MAX + 1];
	long timeout_ms;
	/* The key log's keys from the descriptor (protocol.md 1.1): kt 0 not
	 * read yet, 1 read with both keys, 2 read without (an older relay). */
	int kt;
	uint8_t kt_log[32], kt_vrf[32];
};

/* Resolved relays, so one process asks the well-known URL once. */
static struct {
	char domain[NC_DOMAIN_MAX + 1];
	char url[NC_URL_MAX + 1];
	int kt;
	uint8_t kt_log[32], kt_vrf[32];
} seen[8];
static int nseen;

static int64_t (*clockfn)(void *, const uint8_t *, int64_t);
static void *clockctx;

/* A relay's clock as this process learnt it from the Date of a refusal
 * for the time: seconds to add to ours when signing for that domain. Kept
 * in memory only, so a clock that is set right is trusted again at once. */
#define CLOCK_ADOPT_MAX 86400   /* larger differences are refused, not followed */
static struct { char domain[NC_DOMAIN_MAX + 1]; int64_t skew; } clocks[8];
static int nclocks;

extern char *program_invocation_short_name;   /* glibc's, in <errno.h> */

static int64_t
skew_of(const char *domain)
{
	for (int i = 0; i < nclocks; i++)
		if (strcmp(clocks[i].domain, domain) == 0)
			return clocks[i].skew;
	return 0;
}

void
nc_relay_clock(int64_t (*fn)(void *ctx, const uint8_t h[32], int64_t now),
    void *ctx)
{
	clockfn = fn;
	clockctx = ctx;
}

static int64_t
signtime(const char *domain, const char *method, const char *target,
    const void *body, size_t n)
{
	crypto_generichash_state st;
	uint8_t h[32];
	int64_t now = (int64_t)time(NULL) + skew_of(domain);

	if (clockfn == NULL)
		return now;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const uint8_t *)method, strlen(method) + 1);
	crypto_generichash_update(&st, (const uint8_t *)target, strlen(target) + 1);
	crypto_generichash_update(&st, body, n);
	crypto_generichash_final(&st, h, sizeof h);
	return clockfn(clockctx, h, now);
}

const char *
nc_relay_url(const nc_relay *r)
{
	return r->url;
}

void
nc_relay_timeout(nc_relay *r, long secs)
{
	r->timeout_ms = secs * 1000;
}

int
nc_relay_descriptor(const char *domain, long status, const uint8_t *body,
    size_t n, char *url, size_t max)
{
	char text[4097], *line, *save = NULL, other[NC_DOMAIN_MAX + 1] = "";
	int ok = 0, dom = 0;

	url[0] = '\0';
	/* Busy or broken for now: the relay may come back. */
	if (status >= 500 || status == 408 || status == 429)
		return nc_fail(NC_EUNAVAIL, "HTTP %ld", status);
	if (status != 200)
		return nc_fail(NC_ENOHOST, "HTTP %ld", status);
	if (n >= sizeof text || memchr(body, '\0', n) != NULL)
		return nc_fail(NC_ENOHOST, "not a Newchat descriptor");
	memcpy(text, body, n);
	text[n] = '\0';
	for (line = strtok_r(text, "\r\n", &save); line;
	    line = strtok_r(NULL, "\r\n", &save)) {
		if (strcmp(line, "newchat 1") == 0)
			ok = 1;
		else if (strncmp(line, "domain ", 7) == 0 &&
		    !(dom = strcmp(line + 7, domain) == 0))
			snprintf(other, sizeof other, "%s", line + 7);
		else if (strncmp(line, "relay ", 6) == 0 && strlen(line + 6) < max)
			strcpy(url, line + 6);
	}
	if (ok && !dom && other[0])
		return nc_fail(NC_ENOHOST, "a descriptor for another domain");
	if (!ok || !dom || (strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "http://", 7) != 0) || strpbrk(url, " \t") != NULL) {
		url[0] = '\0';
		return nc_fail(NC_ENOHOST, "not a Newchat descriptor");
	}
	/* Fetched over TLS, it may not send us on in plain text: that would
	 * expose first-contact key fetches and logins to the network. */
	if (strncmp(url, "https://", 8) != 0) {
		nc_fail(NC_ESECURITY, "its descriptor names a plain-http relay (%.300s): "
		    "refused, a downgrade from https", url);
		url[0] = '\0';
		return NC_ESECURITY;
	}
	return 0;
}

/* The kt-log and kt-vrf lines of a descriptor: 1 both (keys set), 0
 * neither, NC_EDATA one alone, twice or malformed. */
static int
kt_lines(const uint8_t *body, size_t n, uint8_t log[32], uint8_t vrf[32])
{
	const char *p = (const char *)body, *end = p + n, *e;
	int nlog = 0, nvrf = 0;

	for (; p < end; p = e + 1) {
		size_t k;

		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		k = (size_t)(e - p);
		if (k > 0 && p[k - 1] == '\r')
			k--;
		if (k >= 7 && (memcmp(p, "kt-log ", 7) == 0 ||
		    memcmp(p, "kt-vrf ", 7) == 0)) {
			int islog = p[3] == 'l';

			if (k != 7 + 64 || nc_hex_decode(islog ? log : vrf, 32, p + 7,
			    64) != 0 || (islog ? nlog++ : nvrf++) > 0)
				return nc_fail(NC_EDATA, "a malformed %.6s line", p);
		}
	}
	if (nlog != nvrf)
		return nc_fail(NC_EDATA, "%s without %s", nlog ? "kt-log" : "kt-vrf",
		    nlog ? "kt-vrf" : "kt-log");
	return nlog;
}

/* The relay of r->domain from https://DOMAIN/.well-known/newchat. A
 * domain that does not resolve or serves no descriptor is NC_ENOHOST (a
 * typo, say: permanent); one whose server is down, NC_EUNAVAIL. */
static int
wellknown(nc_relay *r, const char *home)
{
	nc_http_req q = { .method = "GET" };
	nc_http_resp a = NC_HTTP_RESP_INIT;
	char u[NC_URL_MAX + 64], fix[NC_DOMAIN_MAX + 4200];
	const char *why;
	int rc;

	snprintf(u, sizeof u, "https://%s/.well-known/newchat", r->domain);
	snprintf(fix, sizeof fix, "check the address, or add `relay %s URL` to "
	    "%s/config", r->domain, home);
	q.url = u;
	q.cafile = r->cafile[0] ? r->cafile : NULL;
	q.proxy = r->proxy[0] ? r->proxy : NULL;
	q.max_response = 4096;
	if ((rc = nc_http(&q, &a)) != 0) {
		/* http.c says "relay ORIGIN: reason": the origin is u's. */
		why = strncmp(nc_errmsg(), "relay ", 6) == 0 &&
		    strstr(nc_errmsg(), ": ") ? strstr(nc_errmsg(), ": ") + 2 :
		    nc_errmsg();
		if (rc == NC_ENOHOST)
			rc = nc_fail(rc, "no such domain %s (%s); %s", r->domain,
			    why, fix);
		else if (rc == NC_EUNAVAIL)
			rc = nc_fail(rc, "relay of %s unreachable: %s: %s", r->domain,
			    u, why);
		goto done;
	}
	rc = nc_relay_descriptor(r->domain, a.status, a.body.p, a.body.len,
	    r->url, sizeof r->url);
	if (rc == 0) {
		int k = kt_lines(a.body.p, a.body.len, r->kt_log, r->kt_vrf);

		/* A malformed key line is no key: the fetch that needs one says so. */
		r->kt = k == 1 ? 1 : k == 0 ? 2 : 0;
	}
	if (rc == NC_ESECURITY)
		rc = nc_fail(rc, "relay of %s: %s; if you trust it, name it yourself: add "
		    "`relay %s URL` to %s/config", r->domain, nc_errmsg(), r->domain, home);
	else if (rc == NC_ENOHOST)
		rc = nc_fail(rc, "%s serves no Newchat relay (%s: %s); %s",
		    r->domain, u, nc_errmsg(), fix);
	else if (rc != 0)
		rc = nc_fail(rc, "relay of %s unreachable: %s: %s", r->domain, u,
		    nc_errmsg());
done:
	nc_http_resp_free(&a);
	return rc;
}

int
nc_relay_open(nc_relay **out, const char *home, const char *domain)
{
	nc_config *cfg = NULL;
	nc_relay *r;
	const char *v;
	int rc, i;

	*out = NULL;
	if (strlen(domain) > NC_DOMAIN_MAX)
		return nc_fail(NC_EUSAGE, "%s: domain too long", domain);
	if ((r = calloc(1, sizeof *r)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	strcpy(r->domain, domain);
	if ((rc = nc_config_load(&cfg, home)) != 0) {
		free(r);
		return rc;
	}
	if ((v = nc_config_cafile(cfg)) != NULL)
		snprintf(r->cafile, sizeof r->cafile, "%s", v);
	if ((v = nc_config_proxy(cfg)) != NULL)
		snprintf(r->proxy, sizeof r->proxy, "%s", v);
	if ((v = nc_config_relay(cfg, domain)) != NULL)
		snprintf(r->url, sizeof r->url, "%s", v);
	nc_config_free(cfg);
	for (i = 0; !r->url[0] && i < nseen; i++)
		if (strcmp(seen[i].domain, domain) == 0) {
			strcpy(r->url, seen[i].url);
			r->kt = seen[i].kt;
			memcpy(r->kt_log, seen[i].kt_log, 32);
			memcpy(r->kt_vrf, seen[i].kt_vrf, 32);
		}
	if (!r->url[0]) {
		if ((rc = wellknown(r, home)) != 0) {
			free(r);
			return rc;
		}
		if (nseen < 8) {
			strcpy(seen[nseen].domain, domain);
			seen[nseen].kt = r->kt;
			memcpy(seen[nseen].kt_log, r->kt_log, 32);
			memcpy(seen[nseen].kt_vrf, r->kt_vrf, 32);
			strcpy(seen[nseen++].url, r->url);
		}
	}
	*out = r;
	return 0;
}

void
nc_relay_close(nc_relay *r)
{
	free(r);
}

/* The path part of the base URL, which the relay sees in the target. */
static const char *
basepath(const char *url)
{
	const char *p = strstr(url, "://");

	p = p ? strchr(p + 3, '/') : NULL;
	return p ? p : "";
}

static int
status_err_in(const char *domain, long status, const nc_buf *body)
{
	char why[200];
	size_t n = body->len < sizeof why - 1 ? body->len : sizeof why - 1, i;
	int code;

	memcpy(why, body->p ? (const char *)body->p : "", n);
	why[n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)why[i] < 0x20 || (unsigned char)why[i] > 0x7e)
			why[i] = i + 1 == n && why[i] == '\n' ? '\0' : '?';
	switch (status) {
	case 400: case 411: case 413: case 414: case 431: code = NC_EDATA; break;
	case 401: case 403: code = NC_EPERM; break;
	case 404: code = NC_ENOUSER; break;
	case 409: case 410: code = NC_ETEMP; break;
	case 429: case 503: case 507: code = NC_ETEMP; break;
	default: code = status >= 500 ? NC_ETEMP : NC_EDATA;
	}
	return nc_fail(code, "relay of %s answered %ld %s", domain, status,
	    why[0] ? why : "error");
}

static int
status_err(nc_relay *r, long status, const nc_buf *body)
{
	return status_err_in(r->domain, status, body);
}

/* Ready for its wait, even if nothing starts. */
static void
pending_init(nc_relay_pending *p)
{
	memset(p, 0, sizeof *p);
	p->resp = (nc_http_resp)NC_HTTP_RESP_INIT;
}

static void req_start_x(nc_relay *, const char *, const char *, const void *,
    size_t, const nc_device *, nc_relay_pending *, const char *);

/* Build and start one request (nc_relay_req's first half). */
static void
req_start(nc_relay *r, const char *method, const char *path,
    const void *body, size_t n, const nc_device *signer, nc_relay_pending *p)
{
	req_start_x(r, method, path, body, n, signer, p, NULL);
}

/* The same with one more header line (extra, or NULL). */
static void
req_start_x(nc_relay *r, const char *method, const char *path,
    const void *body, size_t n, const nc_device *signer, nc_relay_pending *p,
    const char *extra)
{
	nc_http_req q = { .method = method };
	nc_reqsig_hdrs h;
	char url[NC_URL_MAX + 2048], target[NC_REQSIG_TARGET_MAX + 1];
	char hd[4][200];
	const char *hdrs[5] = { NULL };
	int rc;

	pending_init(p);
	snprintf(p->domain, sizeof p->domain, "%s", r->domain);
	if ((size_t)snprintf(url, sizeof url, "%s%s", r->url, path) >= sizeof url ||
	    (size_t)snprintf(target, sizeof target, "%s%s", basepath(r->url),
	    path) >= sizeof target) {
		p->rc = nc_fail(NC_EDATA, "request path too long");
		return;
	}
	if (signer) {
		if ((rc = nc_reqsig_sign(&h, signer->sign_sk, method, target,
		    signtime(r->domain, method, target, body, n), body, n)) != 0) {
			p->rc = rc;
			return;
		}
		snprintf(hd[0], sizeof hd[0], NC_HDR_DEVICE ": %s", h.device);
		snprintf(hd[1], sizeof hd[1], NC_HDR_TIME ": %s", h.time);
		snprintf(hd[2], sizeof hd[2], NC_HDR_NONCE ": %s", h.nonce);
		snprintf(hd[3], sizeof hd[3], NC_HDR_SIG ": %s", h.sig);
		hdrs[0] = hd[0];
		hdrs[1] = hd[1];
		hdrs[2] = hd[2];
		hdrs[3] = hd[3];
	}
	hdrs[signer ? 4 : 0] = extra;
	q.headers = hdrs;
	q.url = url;
	q.body = body;
	q.bodylen = n;
	q.timeout_ms = r->timeout_ms;
	/* a full mailbox page; a backup fetch's answer (8 MiB and its
	 * first record's header, NC_BACKUP_FETCH_MAX) */
	q.max_response = ((size_t)8 << 20) + 4096;
	q.cafile = r->cafile[0] ? r->cafile : NULL;
	q.proxy = r->proxy[0] ? r->proxy : NULL;
	nc_http_start(&q, &p->resp, &p->call);
	p->started = 1;
}

/* Its second half: wait, then the status, the body and the Date (date
 * may be NULL). */
static int
req_wait(nc_relay_pending *p, long *status, nc_buf *resp, int64_t *date)
{
	int rc = p->rc;

	*status = 0;
	if (date)
		*date = 0;
	if (p->started && (rc = nc_http_wait(&p->call)) != 0) {
		/* "relay ORIGIN: reason" from http.c, named by domain; a relay
		 * URL whose host does not resolve is a relay unreachable. */
		if (rc == NC_EUNAVAIL || rc == NC_ENOHOST)
			rc = nc_fail(NC_EUNAVAIL, "relay of %s unreachable: %s",
			    p->domain, strncmp(nc_errmsg(), "relay ", 6) == 0 ?
			    nc_errmsg() + 6 : nc_errmsg());
	}
	else if (rc == 0) {
		*status = p->resp.status;
		if (date)
			*date = p->resp.date;
		nc_buf_reset(resp);
		rc = nc_buf_add(resp, p->resp.body.p, p->resp.body.len);
	}
	nc_http_resp_free(&p->resp);
	return rc;
}

/* "600 seconds ahead of" / "172800 seconds (2.0 days) behind". */
static void
skew_words(char *out, size_t max, int64_t skew)
{
	long long a = (long long)(skew < 0 ? -skew : skew);
	const char *dir = skew < 0 ? "ahead of" : "behind";

	if (a >= 2 * 86400)
		snprintf(out, max, "%lld seconds (%.1f days) %s", a, a / 86400.0, dir);
	else if (a >= 2 * 3600)
		snprintf(out, max, "%lld seconds (%.1f hours) %s", a, a / 3600.0, dir);
	else
		snprintf(out, max, "%lld seconds %s", a, dir);
}

/* A signed request was refused for its time (a 401 with NC_REQSIG_STALE,
 * date the response's Date, 0 if none): learn the relay's clock and return
 * 0 to sign again with it (once: may_adopt), or say what is wrong with
 * ours. Following the relay's clock is bounded by CLOCK_ADOPT_MAX. */
static int
clock_refused(const char *domain, int64_t date, int may_adopt)
{
	int64_t skew = date - (int64_t)time(NULL);
	char w[100];
	int i;

	if (date <= 0)
		return nc_fail(NC_EPERM, "relay of %s: " NC_REQSIG_STALE ": check "
		    "this machine's clock (the relay sent no Date to compare)",
		    domain);
	skew_words(w, sizeof w, skew);
	if (!may_adopt || skew > CLOCK_ADOPT_MAX || skew < -CLOCK_ADOPT_MAX)
		return nc_fail(NC_EPERM, "relay of %s: this machine's clock is %s the "
		    "relay: set it right (e.g. timedatectl set-ntp true) and "
		    "retry", domain, w);
	for (i = 0; i < nclocks && strcmp(clocks[i].domain, domain) != 0; i++)
		;
	if (i == nclocks && nclocks < 8)
		snprintf(clocks[nclocks++].domain, sizeof clocks[0].domain, "%s",
		    domain);
	if (i < 8)
		clocks[i].skew = skew;
	/* A warning, not an error: the request is retried and may succeed.
	 * nc_prog is the app layer's; glibc knows the command's name too. */
	fprintf(stderr, "%s: this machine's clock is %s the relay of %s; "
	    "signing with the relay's time: set the clock right (e.g. "
	    "timedatectl set-ntp true)\n", program_invocation_short_name, w,
	    domain);
	return 0;
}

static int
stale(long status, const nc_buf *resp)
{
	size_t k = strlen(NC_REQSIG_STALE);

	return status == 401 && resp->len >= k && memcmp(resp->p,
	    NC_REQSIG_STALE, k) == 0;
}

int
nc_relay_req(nc_relay *r, const char *method, const char *path,
    const void *body, size_t n, const nc_device *signer, long *status,
    nc_buf *resp)
{
	nc_relay_pending p;
	int64_t date;
	int rc, tries;

	for (tries = 0;; tries++) {
		req_start(r, method, path, body, n, signer, &p);
		rc = req_wait(&p, status, resp, &date);
		if (rc != 0 || signer == NULL || !stale(*status, resp))
			return rc;
		if ((rc = clock_refused(r->domain, date, tries == 0)) != 0)
			return rc;
	}
}

void
nc_relay_req_start(nc_relay *r, const char *method, const char *path,
    const void *body, size_t n, nc_relay_pending *p)
{
	req_start(r, method, path, body, n, NULL, p);
}

int
nc_relay_req_wait(nc_relay_pending *p, long *status, nc_buf *resp)
{
	return req_wait(p, status, resp, NULL);
}

/* A request whose only good answers are 200/201/204. */
static int
call(nc_relay *r, const char *method, const char *path, const nc_buf *body,
    const nc_device *signer, nc_buf *resp)
{
	nc_buf tmp = NC_BUF_INIT;
	long status;
	int rc;

	if (resp == NULL)
		resp = &tmp;
	rc = nc_relay_req(r, method, path, body ? body->p : NULL,
	    body ? body->len : 0, signer, &status, resp);
	if (rc == 0 && status != 200 && status != 201 && status != 204)
		rc = status_err(r, status, resp);
	nc_buf_free(&tmp);
	return rc;
}


/* POST an encoded registration; 409 is a taken name. */
static int
post_register(nc_relay *r, const char *name, const nc_buf *b)
{
	nc_buf resp = NC_BUF_INIT;
	char path[128];
	long status;
	int rc;

	snprintf(path, sizeof path, "/v1/users/%s", name);
	if ((rc = nc_relay_req(r, "POST", path, b->p, b->len, NULL, &status,
	    &resp)) == 0 && status != 201) {
		if (status == 409)
			rc = nc_fail(NC_ECANTCREAT, "%s@%s: name taken", name, r->domain);
		else
			rc = status_err(r, status, &resp);
	}
	nc_buf_free(&resp);
	return rc;
}

int
nc_relay_register(nc_relay *r, const char *name, const uint8_t auth_pk[32],
    const uint8_t salt[16], uint64_t ops, uint64_t mem,
    const uint8_t dev_sign_pk[32])
{
	struct nc_register g;
	nc_buf b = NC_BUF_INIT;
	int rc;

	memset(&g, 0, sizeof g);
	memcpy(g.auth_pk, auth_pk, 32);
	memcpy(g.salt, salt, 16);
	g.opslimit = ops;
	g.memlimit = mem;
	memcpy(g.device_sign_pk, dev_sign_pk, 32);
	if (getenv("NC_INVITE"))
		snprintf(g.invite, sizeof g.invite, "%s", getenv("NC_INVITE"));
	if ((rc = nc_register_enc(&b, &g)) == 0)
		rc = post_register(r, name, &b);
	nc_buf_free(&b);
	return rc;
}

int
nc_relay_challenge(nc_relay *r, const char *name, uint8_t salt[16],
    uint64_t *ops, uint64_t *mem, uint8_t nonce[32])
{
	struct nc_challenge c;
	nc_buf resp = NC_BUF_INIT;
	char path[128];
	int rc;

	snprintf(path, sizeof path, "/v1/users/%s/challenge", name);
	if ((rc = call(r, "POST", path, NULL, NULL, &resp)) == 0 &&
	    (rc = nc_challenge_dec(&c, resp.p, resp.len)) == 0) {
		memcpy(salt, c.salt, 16);
		*ops = c.opslimit;
		*mem = c.memlimit;
		memcpy(nonce, c.nonce, 32);
	}
	nc_buf_free(&resp);
	return rc;
}

int
nc_relay_add_device(nc_relay *r, const char *name, const char *addr,
    const uint8_t nonce[32], const uint8_t dev_sign_pk[32],
    const uint8_t auth_sk[64], nc_buf *backup)
{
	struct nc_authreq a;
	nc_buf b = NC_BUF_INIT;
	char path[128];
	long status;
	int rc;

	memcpy(a.nonce, nonce, 32);
	memcpy(a.device_sign_pk, dev_sign_pk, 32);
	snprintf(path, sizeof path, "/v1/users/%s/devices", name);
	if ((rc = nc_auth_sign(&a, NC_AUTH_ADD_DEVICE, addr, auth_sk)) == 0 &&
	    (rc = nc_adddev_enc(&b, &a)) == 0 &&
	    (rc = nc_relay_req(r, "POST", path, b.p, b.len, NULL, &status,
	    backup)) == 0 && status != 201) {
		if (status == 409)
			rc = nc_fail(NC_ECANTCREAT, "%s: %d devices already",
			    addr, NC_DEVLIST_MAX);
		else
			rc = status_err(r, status, backup);
	}
	nc_buf_free(&b);
	return rc;
}

int
nc_relay_opaque_pk(nc_relay *r, uint8_t pk[32])
{
	nc_buf resp = NC_BUF_INIT;
	const char *p, *e;
	int rc;

	if ((rc = call(r, "GET", "/.well-known/newchat", NULL, NULL, &resp)) != 0 ||
	    (rc = nc_buf_nul(&resp)) != 0)
		goto done;
	/* a line "opaque <64 hex>" */
	for (p = (const char *)resp.p; p && *p; p = e ? e + 1 : NULL) {
		e = strchr(p, '\n');
		if (strncmp(p, "opaque ", 7) == 0 && (e ? (size_t)(e - p) : strlen(p)) == 71 &&
		    nc_hex_decode(pk, 32, p + 7, 64) == 0)
			goto done;
	}
	rc = nc_fail(NC_EDATA, "relay of %s publishes no OPAQUE key in "
	    "/.well-known/newchat (an older relay?)", r->domain);
done:
	nc_buf_free(&resp);
	return rc;
}

int
nc_relay_reg_init(nc_relay *r, const char *name, const uint8_t req[32],
    int *taken, uint8_t resp[64])
{
	nc_buf b = NC_BUF_INIT, out = NC_BUF_INIT;
	char path[128];
	int rc;

	snprintf(path, sizeof path, "/v1/users/%s/opaque", name);
	if ((rc = nc_regreq_enc(&b, req)) == 0 &&
	    (rc = call(r, "POST", path, &b, NULL, &out)) == 0 &&
	    nc_regresp_dec(taken, resp, out.p, out.len) != 0)
		rc = nc_fail(NC_EDATA, "relay of %s: malformed registration "
		    "response", r->domain);
	nc_buf_free(&b);
	nc_buf_free(&out);
	return rc;
}

int
nc_relay_register2(nc_relay *r, const char *name, const uint8_t record[192],
    int cost, const uint8_t dev_sign_pk[32])
{
	struct nc_register2 g;
	nc_buf b = NC_BUF_INIT;
	int rc;

	memset(&g, 0, sizeof g);
	memcpy(g.record, record, 192);
	g.cost = cost;
	memcpy(g.device_sign_pk, dev_sign_pk, 32);
	if (getenv("NC_INVITE"))
		snprintf(g.invite, sizeof g.invite, "%s", getenv("NC_INVITE"));
	if ((rc = nc_register2_enc(&b, &g)) == 0)
		rc = post_register(r, name, &b);
	nc_buf_free(&b);
	return rc;
}

int
nc_relay_login(nc_relay *r, const char *name, const uint8_t ke1[96],
    int *cost, uint8_t ke2[320], uint8_t token[NC_LOGIN_TOKEN_LEN])
{
	nc_buf b = NC_BUF_INIT, out = NC_BUF_INIT;
	char path[128];
	int rc;

	snprintf(path, sizeof path, "/v1/users/%s/login", name);
	if ((rc = nc_ke1_enc(&b, ke1)) == 0 &&
	    (rc = call(r, "POST", path, &b, NULL, &out)) == 0 &&
	    nc_ke2_dec(cost, ke2, token, out.p, out.len) != 0)
		rc = nc_fail(NC_EDATA, "relay of %s: malformed KE2", r->domain);
	nc_buf_free(&b);
	nc_buf_free(&out);
	return rc;
}

int
nc_relay_op(nc_relay *r, const char *name, const char *addr,
    struct nc_opreq *o, const uint8_t session_key[64], nc_buf *resp)
{
	nc_buf b = NC_BUF_INIT;
	char path[128];
	const char *method = o->op == NC_OP_DELETE ? "DELETE" : "POST";
	long status;
	int rc;

	snprintf(path, sizeof path, "/v1/users/%s%s", name, o->op == NC_OP_ADD_DEVICE ?
	    "/devices" : o->op == NC_OP_PASSWD ? "/passwd" : "");
	if ((rc = nc_opreq_enc(&b, o, session_key, addr)) == 0 &&
	    (rc = nc_relay_req(r, method, path, b.p, b.len, NULL, &status,
	    resp)) == 0 && status != 200 && status != 201 && status != 204) {
		if (status == 401)
			rc = nc_fail(NC_EPERM, "%s: wrong user or password", addr);
		else if (status == 409 && o->op == NC_OP_ADD_DEVICE)
			rc = nc_fail(NC_ECANTCREAT, "%s: %d devices already",
			    addr, NC_DEVLIST_MAX);
		else
			rc = status_err(r, status, resp);
	}
	nc_buf_free(&b);
	return rc;
}

int
nc_relay_migrate(nc_relay *r, const char *name, const char *addr,
    struct nc_migrate *m, const uint8_t auth_sk[64])
{
	nc_buf b = NC_BUF_INIT, resp = NC_BUF_INIT;
	char path[128];
	long status;
	int rc;

	snprintf(path, sizeof path, "/v1/users/%s/migrate", name);
	if ((rc = nc_migrate_enc(&b, m, auth_sk, addr)) == 0 &&
	    (rc = nc_relay_req(r, "POST", path, b.p, b.len, NULL, &status,
	    &resp)) == 0 && status != 204) {
		if (status == 401)
			rc = nc_fail(NC_EPERM, "%s: wrong user or password", addr);
		else
			rc = status_err(r, status, &resp);
	}
	nc_buf_free(&b);
	nc_buf_free(&resp);
	return rc;
}

/* PUT /v1/users/{name}/{what} with bytes p, signed by device d. */
static int
put_signed(nc_relay *r, const char *name, const char *what,
    const nc_device *d, const uint8_t *p, size_t n)
{
	nc_buf b = NC_BUF_INIT;
	char path[128];
	int rc;

	snprintf(path, sizeof path, "/v1/users/%s/%s", name, what);
	if ((rc = nc_buf_add(&b, p, n)) == 0)
		rc = call(r, "PUT", path, &b, d, NULL);
	nc_buf_free(&b);
	return rc;
}

int
nc_relay_put_idbackup(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t *p, size_t n)
{
	return put_signed(r, name, "idbackup", d, p, n);
}

int
nc_relay_put_devlist(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t *p, size_t n)
{
	return put_signed(r, name, "devicelist", d, p, n);
}

int
nc_relay_get_devlist(nc_relay *r, const char *name, nc_buf *out)
{
	char path[128];

	snprintf(path, sizeof path, "/v1/users/%s/devicelist", name);
	return call(r, "GET", path, NULL, NULL, out);
}

int
nc_relay_get_devlist_kt(nc_relay *r, const char *name, uint64_t since,
    nc_buf *out, nc_buf *proof, int *has_proof)
{
	nc_relay_pending p;
	char path[128], since_h[64];
	long status;
	int rc;

	*has_proof = 0;
	nc_buf_reset(proof);
	snprintf(path, sizeof path, "/v1/users/%s/devicelist", name);
	snprintf(since_h, sizeof since_h, "X-NC-KT-Since: %llu",
	    (unsigned long long)since);
	req_start_x(r, "GET", path, NULL, 0, NULL, &p, since > 0 ? since_h : NULL);
	/* req_wait frees the body only: the header stays in p.resp. */
	if ((rc = req_wait(&p, &status, out, NULL)) != 0)
		return rc;
	if (status != 200)
		return status_err(r, status, out);
	if (p.resp.kt_proof[0] != '\0') {
		const char *b = p.resp.kt_proof;
		size_t bl = strlen(b), got = 0;

		*has_proof = 1;
		/* Undecodable base64 leaves proof empty: nc_kt_proof_decode
		 * refuses it, and the caller raises the alarm. */
		if (nc_buf_reserve(proof, bl) == 0 && sodium_base642bin(proof->p,
		    bl, b, bl, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) == 0)
			proof->len = got;
	}
	return 0;
}

int
nc_relay_kt_keys(nc_relay *r, uint8_t log[32], uint8_t vrf[32], int *has)
{
	nc_buf resp = NC_BUF_INIT;
	int rc = 0, k;

	/* A relay named in the config was never asked for its descriptor:
	 * once, at its own URL. */
	if (r->kt == 0) {
		if ((rc = call(r, "GET", "/.well-known/newchat", NULL, NULL,
		    &resp)) != 0)
			goto done;
		if (resp.len > 4096 || (k = kt_lines(resp.p, resp.len, r->kt_log,
		    r->kt_vrf)) < 0) {
			rc = nc_fail(NC_EDATA, "relay of %s: its /.well-known/newchat: %s",
			    r->domain, resp.len > 4096 ? "too long" : nc_errmsg());
			goto done;
		}
		r->kt = k == 1 ? 1 : 2;
	}
	*has = r->kt == 1;
	memcpy(log, r->kt_log, 32);
	memcpy(vrf, r->kt_vrf, 32);
done:
	nc_buf_free(&resp);
	return rc;
}

int
nc_relay_kt_descr(const nc_relay *r, uint8_t log[32], uint8_t vrf[32])
{
	memcpy(log, r->kt_log, 32);
	memcpy(vrf, r->kt_vrf, 32);
	return r->kt;
}

static void
devpath(char *out, size_t max, const char *name, const uint8_t dev[16],
    const char *rest)
{
	char h[33];

	nc_hex_encode(h, dev, 16);
	snprintf(out, max, "/v1/users/%s/devices/%s%s", name, h, rest);
}

int
nc_relay_put_prekeys(nc_relay *r, const char *name, const nc_device *d,
    const nc_spk *spk, const nc_otpk *otpk, size_t n)
{
	struct nc_prekeys *k;
	nc_buf b = NC_BUF_INIT;
	char path[200];
	size_t i, off = 0, chunk;
	int rc = 0;

	if ((k = calloc(1, sizeof *k)) == NULL)
		return nc_fail(NC_EOSERR, "out of memory");
	devpath(path, sizeof path, name, d->id, "/prekeys");
	do {
		chunk = n - off > NC_PREKEY_UPLOAD_MAX ? NC_PREKEY_UPLOAD_MAX : n - off;
		memset(k, 0, sizeof *k);
		if (spk && off == 0) {
			k->has_spk = 1;
			k->spk_id = spk->id;
			memcpy(k->spk_pk, spk->pk, 32);
			memcpy(k->spk_sig, spk->sig, 64);
		}
		k->n = (uint16_t)chunk;
		for (i = 0; i < chunk; i++) {
			k->otpk[i].id = otpk[off + i].id;
			memcpy(k->otpk[i].pk, otpk[off + i].pk, 32);
		}
		nc_buf_reset(&b);
		if ((rc = nc_prekeys_enc(&b, k)) == 0)
			rc = call(r, "PUT", path, &b, d, NULL);
		off += chunk;
	} while (rc == 0 && off < n);
	nc_buf_free(&b);
	free(k);
	return rc;
}

int
nc_relay_prekey_count(nc_relay *r, const char *name, const nc_device *d,
    uint32_t *spk_id, uint32_t *count)
{
	struct nc_prekey_count c;
	nc_buf resp = NC_BUF_INIT;
	char path[200];
	int rc;

	devpath(path, sizeof path, name, d->id, "/prekeys");
	if ((rc = call(r, "GET", path, NULL, d, &resp)) == 0 &&
	    (rc = nc_prekey_count_dec(&c, resp.p, resp.len)) == 0) {
		*spk_id = c.spk_id;
		*count = c.otpk_count;
	}
	nc_buf_free(&resp);
	return rc;
}

void
nc_relay_counter_start(nc_relay *r, const char *name, const nc_device *d,
    const struct nc_counter_req *q, nc_relay_pending *p)
{
	nc_buf b = NC_BUF_INIT;
	char path[200];

	pending_init(p);
	devpath(path, sizeof path, name, d->id, "/counter");
	if ((p->rc = nc_counter_req_enc(&b, q)) == 0)
		req_start(r, "POST", path, b.p, b.len, d, p);
	nc_buf_free(&b);
}

int
nc_relay_counter_wait(nc_relay *r, const char *name, const nc_device *d,
    const struct nc_counter_req *q, nc_relay_pending *p, int *moved,
    struct nc_counter *out)
{
	nc_buf b = NC_BUF_INIT, resp = NC_BUF_INIT;
	char path[200];
	int64_t date;
	long status;
	int rc;

	*moved = 0;
	rc = req_wait(p, &status, &resp, &date);
	/* Refused for its time: learn the relay's clock, ask again (the
	 * same question: the tag asked for is kept). */
	if (rc == 0 && stale(status, &resp) &&
	    (rc = clock_refused(r->domain, date, 1)) == 0) {
		devpath(path, sizeof path, name, d->id, "/counter");
		if ((rc = nc_counter_req_enc(&b, q)) == 0)
			rc = nc_relay_req(r, "POST", path, b.p, b.len, d, &status,
			    &resp);
	}
	if (rc == 0) {
		if (status != 200 && status != 409)
			rc = status_err(r, status, &resp);
		else if (nc_counter_dec(out, resp.p, resp.len) != 0)
			rc = nc_fail(NC_EUNAVAIL, "relay of %s: malformed counter",
			    r->domain);
		else
			*moved = status == 200;
	}
	nc_buf_free(&b);
	nc_buf_free(&resp);
	return rc;
}

int
nc_relay_counter(nc_relay *r, const char *name, const nc_device *d,
    const struct nc_counter_req *q, int *moved, struct nc_counter *out)
{
	nc_relay_pending p;

	nc_relay_counter_start(r, name, d, q, &p);
	return nc_relay_counter_wait(r, name, d, q, &p, moved, out);
}

int
nc_relay_push(nc_relay *r, const char *name, const nc_device *d, const char *url)
{
	nc_buf b = NC_BUF_INIT, resp = NC_BUF_INIT;
	char path[200];
	long status;
	int rc = 0;

	devpath(path, sizeof path, name, d->id, "/push");
	if (url != NULL)
		rc = nc_push_enc(&b, url);
	if (rc == 0 && (rc = nc_relay_req(r, url ? "PUT" : "DELETE", path, b.p, b.len, d,
	    &status, &resp)) == 0 && status != (url ? 201 : 204))
		rc = status_err(r, status, &resp);
	nc_buf_free(&b);
	nc_buf_free(&resp);
	return rc;
}

int
nc_relay_claim(nc_relay *r, const char *name,
    const uint8_t (*devs)[NC_DEVID_LEN], size_t n, nc_bundle *out,
    uint8_t (*outdev)[NC_DEVID_LEN], size_t *nout)
{
	struct nc_claim_req *q;
	struct nc_claim_resp *a;
	nc_buf b = NC_BUF_INIT, resp = NC_BUF_INIT;
	char path[128];
	size_t i;
	int rc;

	*nout = 0;
	if (n > NC_CLAIM_MAX)
		return nc_fail(NC_EDATA, "too many devices to claim");
	q = calloc(1, sizeof *q);
	a = calloc(1, sizeof *a);
	if (q == NULL || a == NULL) {
		rc = nc_fail(NC_EOSERR, "out of memory");
		goto done;
	}
	q->n = (uint16_t)n;
	memcpy(q->dev, devs, n * NC_DEVID_LEN);
	snprintf(path, sizeof path, "/v1/users/%s/prekeys/claim", name);
	if ((rc = nc_claim_req_enc(&b, q)) != 0 ||
	    (rc = call(r, "POST", path, &b, NULL, &resp)) != 0)
		goto done;
	if ((rc = nc_claim_resp_dec(a, resp.p, resp.len)) != 0) {
		rc = nc_fail(NC_ESECURITY, "relay %s: bad prekey bundles: %s",
		    r->domain, nc_errmsg());
		goto done;
	}
	for (i = 0; i < a->n && i < n; i++) {
		memcpy(outdev[i], a->b[i].dev, NC_DEVID_LEN);
		memset(&out[i], 0, sizeof out[i]);
		out[i].spk_id = a->b[i].spk_id;
		memcpy(out[i].spk_pk, a->b[i].spk_pk, 32);
		memcpy(out[i].spk_sig, a->b[i].spk_sig, 64);
		out[i].has_otpk = a->b[i].has_otpk;
		out[i].otpk_id = a->b[i].otpk_id;
		memcpy(out[i].otpk_pk, a->b[i].otpk_pk, 32);
	}
	*nout = i;
done:
	free(q);
	free(a);
	nc_buf_free(&b);
	nc_buf_free(&resp);
	return rc;
}

void
nc_relay_deliver_start(nc_relay *r, const char *name, uint64_t version,
    const nc_relay_item *it, size_t n, nc_relay_pending *p)
{
	struct nc_deliver *d = NULL;
	nc_buf b = NC_BUF_INIT;
	char path[128];
	size_t i;

	pending_init(p);
	if (n == 0 || n > NC_DELIVER_MAX) {
		p->rc = nc_fail(NC_ESOFTWARE, "deliver: bad batch size");
		return;
	}
	if ((d = calloc(1, sizeof *d)) == NULL) {
		p->rc = nc_fail(NC_EOSERR, "out of memory");
		return;
	}
	d->devlist_version = version;
	d->n = (uint16_t)n;
	for (i = 0; i < n; i++) {
		memcpy(d->item[i].dev, it[i].dev, NC_DEVID_LEN);
		memcpy(d->item[i].envid, it[i].envid, NC_ENVID_LEN);
		d->item[i].env = it[i].env;
		d->item[i].len = it[i].len;
	}
	snprintf(path, sizeof path, "/v1/users/%s/deliver", name);
	if ((p->rc = nc_deliver_enc(&b, d)) == 0)
		req_start(r, "POST", path, b.p, b.len, NULL, p);
	free(d);
	nc_buf_free(&b);
}

int
nc_relay_deliver_wait(nc_relay_pending *p, const char *name, uint64_t *cur)
{
	nc_buf resp = NC_BUF_INIT;
	long status;
	int rc;

	*cur = 0;
	if ((rc = req_wait(p, &status, &resp, NULL)) != 0 || status == 200 ||
	    status == 201)
		goto done;
	rc = status_err_in(p->domain, status, &resp);
	if (status == 409 && nc_version_dec(cur, resp.p, resp.len) == 0)
		rc = nc_fail(NC_ETEMP, "relay of %s: device list of %s changed",
		    p->domain, name);
	else if (status == 410 || status == 409 || status == 404)
		*cur = UINT64_MAX;   /* stale: a device gone, or the user */
done:
	nc_buf_free(&resp);
	return rc;
}

void
nc_relay_deliveries_start(nc_relay *r, const struct nc_deliveries *d,
    nc_relay_pending *p)
{
	nc_buf b = NC_BUF_INIT;

	pending_init(p);
	if ((p->rc = nc_deliveries_enc(&b, d)) == 0)
		req_start(r, "POST", "/v1/deliveries", b.p, b.len, NULL, p);
	nc_buf_free(&b);
}

int
nc_relay_deliveries_wait(nc_relay_pending *p, struct nc_stale *stale)
{
	nc_buf resp = NC_BUF_INIT;
	long status;
	int rc;

	stale->n = 0;
	if ((rc = req_wait(p, &status, &resp, NULL)) != 0 || status == 201)
		goto done;
	if (status == 409 && nc_stale_dec(stale, resp.p, resp.len) == 0)
		rc = nc_fail(NC_ETEMP, "relay of %s: device lists of %u users "
		    "changed", p->domain, (unsigned)stale->n);
	else
		rc = status_err_in(p->domain, status, &resp);
done:
	nc_buf_free(&resp);
	return rc;
}

int
nc_relay_deliver(nc_relay *r, const char *name, uint64_t version,
    const nc_relay_item *it, size_t n, uint64_t *cur)
{
	nc_relay_pending p;

	nc_relay_deliver_start(r, name, version, it, n, &p);
	return nc_relay_deliver_wait(&p, name, cur);
}

int
nc_relay_fetch(nc_relay *r, const char *name, const nc_device *d,
    uint64_t after, int wait, nc_buf *resp, nc_relay_mail *out, size_t *nout)
{
	static struct nc_mailbox m;
	char path[300], q[80];
	size_t i;
	int rc;

	*nout = 0;
	snprintf(q, sizeof q, "/mailbox?after=%llu&wait=%d&limit=%d",
	    (unsigned long long)after, wait, NC_RELAY_LIST_MAX);
	devpath(path, sizeof path, name, d->id, q);
	if ((rc = call(r, "GET", path, NULL, d, resp)) != 0)
		return rc;
	if ((rc = nc_mailbox_dec(&m, resp->p, resp->len)) != 0)
		return nc_fail(NC_ESECURITY, "relay %s: bad mailbox listing: %s",
		    r->domain, nc_errmsg());
	for (i = 0; i < m.n && i < NC_RELAY_LIST_MAX; i++) {
		out[i].cursor = m.m[i].cursor;
		memcpy(out[i].envid, m.m[i].envid, 16);
		out[i].received = m.m[i].received;
		out[i].env = m.m[i].env;
		out[i].len = m.m[i].len;
	}
	*nout = i;
	return 0;
}

void
nc_relay_ack_start(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t (*ids)[16], size_t n, nc_relay_pending *p)
{
	static struct nc_ack a;
	nc_buf b = NC_BUF_INIT;
	char path[200];

	if (n > NC_ACK_MAX)
		n = NC_ACK_MAX;
	a.n = (uint16_t)n;
	memcpy(a.envid, ids, n * 16);
	devpath(path, sizeof path, name, d->id, "/mailbox/ack");
	pending_init(p);
	if ((p->rc = nc_ack_enc(&b, &a)) == 0)
		req_start(r, "POST", path, b.p, b.len, d, p);
	nc_buf_free(&b);
}

int
nc_relay_ack_wait(nc_relay_pending *p)
{
	nc_buf resp = NC_BUF_INIT;
	long status;
	int64_t date;
	int rc = req_wait(p, &status, &resp, &date);

	if (rc == 0 && stale(status, &resp))   /* not retried: say why */
		rc = clock_refused(p->domain, date, 0);
	else if (rc == 0 && status != 200 && status != 201 && status != 204)
		rc = status_err_in(p->domain, status, &resp);
	nc_buf_free(&resp);
	return rc;
}

int
nc_relay_ack(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t (*ids)[16], size_t n)
{
	nc_relay_pending p;

	if (n == 0)
		return 0;
	nc_relay_ack_start(r, name, d, ids, n, &p);
	return nc_relay_ack_wait(&p);
}

/* ---- the encrypted backup slot (protocol.md 1.9) ---- */

/* A backup read with the token (GET, or POST with a body), in two
 * halves: start, then wait (200 into out; 404 NC_ENOUSER; *unrouted, if
 * given, 1 for a 404 or 405, which is how a relay without the route
 * answers). */
static void
backup_read_start(nc_relay *r, const char *method, const char *path,
    const nc_buf *body, const uint8_t token[32], nc_relay_pending *p)
{
	char hdr[100], hex[65];

	hdr[0] = '\0';
	if (token) {
		nc_hex_encode(hex, token, 32);
		snprintf(hdr, sizeof hdr, "X-NC-Backup-Token: %s", hex);
	}
	req_start_x(r, method, path, body ? body->p : NULL, body ? body->len : 0,
	    NULL, p, token ? hdr : NULL);
	sodium_memzero(hdr, sizeof hdr);
	sodium_memzero(hex, sizeof hex);
}

static void
backup_get_start(nc_relay *r, const char *path, const uint8_t token[32],
    nc_relay_pending *p)
{
	backup_read_start(r, "GET", path, NULL, token, p);
}

static int
backup_read_wait(nc_relay_pending *p, nc_buf *out, int *unrouted)
{
	long status;
	int rc = req_wait(p, &status, out, NULL);

	if (unrouted)
		*unrouted = rc == 0 && (status == 404 || status == 405);
	if (rc == 0 && status != 200)
		rc = status_err_in(p->domain, status, out);
	return rc;
}

static int
backup_get_wait(nc_relay_pending *p, nc_buf *out)
{
	return backup_read_wait(p, out, NULL);
}

static int
backup_get(nc_relay *r, const char *path, const uint8_t token[32], nc_buf *out)
{
	nc_relay_pending p;

	backup_get_start(r, path, token, &p);
	return backup_get_wait(&p, out);
}

int
nc_relay_backup_key(nc_relay *r, const char *name, const uint8_t locator[32],
    nc_buf *out)
{
	char path[200], hex[65];

	nc_hex_encode(hex, locator, 32);
	snprintf(path, sizeof path, "/v1/users/%s/backup/keys/%s", name, hex);
	return backup_get(r, path, NULL, out);
}

int
nc_relay_backup_head(nc_relay *r, const char *name, const uint8_t token[32],
    nc_buf *out)
{
	char path[128];

	snprintf(path, sizeof path, "/v1/users/%s/backup", name);
	return backup_get(r, path, token, out);
}

void
nc_relay_backup_record_start(nc_relay *r, const char *name,
    const uint8_t token[32], const uint8_t hash[32], nc_relay_pending *p)
{
	char path[200], hex[65];

	nc_hex_encode(hex, hash, 32);
	snprintf(path, sizeof path, "/v1/users/%s/backup/records/%s", name, hex);
	backup_get_start(r, path, token, p);
}

int
nc_relay_backup_record_wait(nc_relay_pending *p, nc_buf *out)
{
	return backup_get_wait(p, out);
}

int
nc_relay_backup_record(nc_relay *r, const char *name, const uint8_t token[32],
    const uint8_t hash[32], nc_buf *out)
{
	nc_relay_pending p;

	nc_relay_backup_record_start(r, name, token, hash, &p);
	return nc_relay_backup_record_wait(&p, out);
}

void
nc_relay_backup_fetch_start(nc_relay *r, const char *name, const uint8_t token[32],
    const uint8_t *hashes, size_t n, nc_relay_pending *p)
{
	char path[128];
	nc_buf req = NC_BUF_INIT;
	int rc;

	if ((rc = nc_backup_fetch_req(&req, hashes, n)) != 0) {
		pending_init(p);
		p->rc = rc;
		return;
	}
	snprintf(path, sizeof path, "/v1/users/%s/backup/fetch", name);
	backup_read_start(r, "POST", path, &req, token, p);
	nc_buf_free(&req);
}

int
nc_relay_backup_fetch_wait(nc_relay_pending *p, nc_buf *out, int *unrouted)
{
	return backup_read_wait(p, out, unrouted);
}

/* The answer to a put of records: 507 says the user's slot is full. */
static int
backup_put_status(nc_relay *r, const char *name, long status, const nc_buf *resp)
{
	if (status == 507)
		return nc_fail(NC_ETEMP, "backup: the relay of %s holds no more for %s "
		    "(507, its backup quota): this backup was not made, the last one "
		    "stands; ask its operator for more, then back up again", r->domain, name);
	if (status != 200 && status != 201 && status != 204)
		return status_err(r, status, resp);
	return 0;
}

static int
backup_put(nc_relay *r, const char *method, const char *name, const char *path,
    const uint8_t *p, size_t n, const nc_device *d, long *status)
{
	nc_buf resp = NC_BUF_INIT;
	int rc;

	*status = 0;
	rc = nc_relay_req(r, method, path, p, n, d, status, &resp);
	if (rc == 0)
		rc = backup_put_status(r, name, *status, &resp);
	nc_buf_free(&resp);
	return rc;
}

int
nc_relay_backup_put_record(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t hash[32], const uint8_t *p, size_t n)
{
	char path[200], hex[65];
	long status;

	nc_hex_encode(hex, hash, 32);
	snprintf(path, sizeof path, "/v1/users/%s/backup/records/%s", name, hex);
	return backup_put(r, "PUT", name, path, p, n, d, &status);
}

static void
records_path(char *path, size_t max, const char *name)
{
	snprintf(path, max, "/v1/users/%s/backup/records", name);
}

int
nc_relay_backup_put_records(nc_relay *r, const char *name, const nc_device *d,
    const nc_buf *batch, int *unrouted)
{
	char path[200];
	long status;
	int rc;

	records_path(path, sizeof path, name);
	rc = backup_put(r, "POST", name, path, batch->p, batch->len, d, &status);
	*unrouted = rc != 0 && (status == 404 || status == 405);
	return rc;
}

void
nc_relay_backup_put_records_start(nc_relay *r, const char *name,
    const nc_device *d, const nc_buf *batch, nc_relay_pending *p)
{
	char path[200];

	records_path(path, sizeof path, name);
	req_start(r, "POST", path, batch->p, batch->len, d, p);
}

int
nc_relay_backup_put_records_wait(nc_relay *r, const char *name,
    const nc_device *d, const nc_buf *batch, nc_relay_pending *p, int *unrouted)
{
	nc_buf resp = NC_BUF_INIT;
	int64_t date;
	long status;
	int rc;

	*unrouted = 0;
	rc = req_wait(p, &status, &resp, &date);
	if (rc == 0 && stale(status, &resp)) {
		/* signed with a clock the relay refused: again in the
		 * foreground, as nc_relay_req would */
		nc_buf_free(&resp);
		if ((rc = clock_refused(r->domain, date, 1)) != 0)
			return rc;
		return nc_relay_backup_put_records(r, name, d, batch, unrouted);
	}
	if (rc == 0)
		rc = backup_put_status(r, name, status, &resp);
	*unrouted = rc != 0 && (status == 404 || status == 405);
	nc_buf_free(&resp);
	return rc;
}

int
nc_relay_backup_put_head(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t *p, size_t n)
{
	return put_signed(r, name, "backup", d, p, n);
}

/* ---- provisioning boxes (protocol.md 1.11) ---- */

static void
link_path(char *path, size_t max, const char *name, const uint8_t box[16])
{
	char hex[33];

	nc_hex_encode(hex, box, 16);
	snprintf(path, max, "/v1/users/%s/link/%s", name, hex);
}

static int
link_err(nc_relay *r, long status, const nc_buf *body)
{
	if (status == 404)
		return nc_fail(NC_EDATA, "relay of %s: no such link code (expired, "
		    "or for another user): make a new one", r->domain);
	if (status == 409 || status == 410)
		return nc_fail(NC_EDATA, "relay of %s: this link code was used "
		    "already: make a new one", r->domain);
	return status_err(r, status, body);
}

int
nc_relay_link_open(nc_relay *r, const char *name, const uint8_t box[16])
{
	nc_buf resp = NC_BUF_INIT;
	char path[128];
	long status;
	int rc;

	link_path(path, sizeof path, name, box);
	if ((rc = nc_relay_req(r, "PUT", path, NULL, 0, NULL, &status, &resp)) == 0 &&
	    status != 201)
		rc = status == 404 ? nc_fail(NC_ENOUSER, "%s@%s: no such user", name,
		    r->domain) : status_err(r, status, &resp);
	nc_buf_free(&resp);
	return rc;
}

int
nc_relay_link_put(nc_relay *r, const char *name, const nc_device *d,
    const uint8_t box[16], const nc_buf *body)
{
	nc_buf resp = NC_BUF_INIT;
	char path[128];
	long status;
	int rc;

	link_path(path, sizeof path, name, box);
	if ((rc = nc_relay_req(r, "POST", path, body->p, body->len, d, &status,
	    &resp)) == 0 && status != 201)
		rc = link_err(r, status, &resp);
	nc_buf_free(&resp);
	return rc;
}

int
nc_relay_link_take(nc_relay *r, const char *name, const uint8_t box[16],
    int wait, nc_buf *out, int *got)
{
	char path[160];
	size_t k;
	long status;
	int rc;

	*got = 0;
	link_path(path, sizeof path, name, box);
	k = strlen(path);
	if (wait > 0)
		snprintf(path + k, sizeof path - k, "?wait=%d", wait > 60 ? 60 : wait);
	if ((rc = nc_relay_req(r, "GET", path, NULL, 0, NULL, &status, out)) != 0)
		return rc;
	if (status == 200)
		*got = 1;
	else if (status == 204)
		nc_buf_reset(out);
	else
		rc = link_err(r, status, out);
	return rc;
}
