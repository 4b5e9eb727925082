/* nc-hostile.c - a hostile relay for the threat tests. It sits between
 * clients and a real relay on loopback and, as a script says, passes,
 * records, flips a byte, truncates, drops, replays, reorders, injects and
 * replaces traffic (the network attacker of share/doc/threat-model.md).
 *
 *   nc-hostile -l 127.0.0.1:0 -u UPSTREAM_URL -s SCRIPT [-r RECORD_DIR]
 *
 * Prints its base URL as the first line of stdout. The script is re-read
 * for every request, so a test can change it mid-run; one rule a line:
 *
 *   ACTION METHOD PATH-GLOB [n=K | from=K] [key=value ...]
 *
 *   pass      forward unchanged
 *   flip      xor the byte at offset=O (default: the middle; negative
 *             counts from the end) with xor=X (default 1)
 *   truncate  keep the first len=L bytes (default: half)
 *   drop      do not forward; answer status=S (201 for PUT/POST, else 503)
 *   replay    forward, then deliver the same bytes again times=T (1) under
 *             fresh envelope ids (so relay-side dedupe does not hide it)
 *   inject    forward, then deliver the bytes of file=F to the same
 *             mailbox under a fresh envelope id
 *   reorder   hold the request (answer 201) and forward it after the next
 *             request this rule matches; on a mailbox listing: reverse the
 *             envelopes (cursors keep their order)
 *   replace   do not forward; answer status=S (200) with the bytes of file=F
 *   delay     wait ms=N, then forward
 *   cut       a connection cut part-way: forward only the first after=B
 *             bytes of the body (the request's by default, dir=resp for
 *             the response's), announced at full length, then close both
 *             connections: the relay sees a body that stops short, the
 *             client a request with no answer (or an answer that stops
 *             short). The log line says "cut B/TOTAL".
 *
 * Any rule may add ktproof=F: the answer's X-NC-KT-Proof header (the key
 * log's proof, forwarded as the relay sent it otherwise) becomes the
 * contents of file F, or goes when F is empty.
 *
 * A rule fires on its K-th match (n=K), from its K-th match on (from=K), or
 * on every match. The first rule that fires decides. Counters are kept per
 * rule text, so an unchanged line keeps counting across re-reads;
 * POST /_hostile/reset clears them. flip and truncate act on envelopes:
 * the body of a mailbox PUT, each envelope of a batch delivery (POST
 * .../deliver) or of a mailbox listing; dir=req|resp picks the request or
 * the response body (default: the request if it has one).
 *
 * With -r every exchange is recorded: NNNNNN.req (body as received),
 * NNNNNN.sent (as forwarded, when changed), NNNNNN.resp (as answered) and a
 * line "NNNNNN METHOD TARGET STATUS ACTION" in RECORD_DIR/log; each
 * connection a client opens adds a line "open" to RECORD_DIR/conns. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <sodium.h>

#include "buf.h"
#include "fsutil.h"
#include "wire.h"

#define BODY_MAX ((size_t)8 << 20)
#define RULE_MAX 64
#define COUNTER_MAX 256
#define HELD_MAX 64

static const char *upstream, *script, *recdir;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long seq;

struct counter {
	char *rule;
	unsigned long n;
};
static struct counter counters[COUNTER_MAX];

struct held {
	char *rule, *method, *target;
	struct curl_slist *hdrs;
	nc_buf body;
};
static struct held held[HELD_MAX];

struct rule {
	char text[512];
	char action[16], method[16], glob[256];
	long n, from, offset, len, status, times, ms, xor_, after;
	int has_offset, has_len, dir;   /* dir: 0 auto, 1 req, 2 resp */
	char file[256];
	char ktproof[256];    /* ktproof=F: the X-NC-KT-Proof answered */
};

struct req {
	char *target;         /* raw request target, path and query */
	nc_buf body;
	int too_big, started;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("nc-hostile: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
oom(int rc)
{
	if (rc != 0)
		die("out of memory");
}

/* ---- script -------------------------------------------------------- */

static int
parse_rule(struct rule *r, const char *line)
{
	char buf[512], *tok, *save = NULL;
	int i = 0;

	memset(r, 0, sizeof *r);
	r->xor_ = 1;
	r->times = 1;
	snprintf(r->text, sizeof r->text, "%s", line);
	snprintf(buf, sizeof buf, "%s", line);
	for (tok = strtok_r(buf, " \t", &save); tok;
	    tok = strtok_r(NULL, " \t", &save), i++) {
		char *eq = strchr(tok, '=');
		const char *v = eq ? eq + 1 : "";

		if (i == 0)
			snprintf(r->action, sizeof r->action, "%s", tok);
		else if (i == 1)
			snprintf(r->method, sizeof r->method, "%s", tok);
		else if (i == 2)
			snprintf(r->glob, sizeof r->glob, "%s", tok);
		else if (eq == NULL)
			return -1;
		else if (!strncmp(tok, "n=", 2))
			r->n = strtol(v, NULL, 0);
		else if (!strncmp(tok, "from=", 5))
			r->from = strtol(v, NULL, 0);
		else if (!strncmp(tok, "offset=", 7))
			r->offset = strtol(v, NULL, 0), r->has_offset = 1;
		else if (!strncmp(tok, "len=", 4))
			r->len = strtol(v, NULL, 0), r->has_len = 1;
		else if (!strncmp(tok, "status=", 7))
			r->status = strtol(v, NULL, 0);
		else if (!strncmp(tok, "times=", 6))
			r->times = strtol(v, NULL, 0);
		else if (!strncmp(tok, "ms=", 3))
			r->ms = strtol(v, NULL, 0);
		else if (!strncmp(tok, "after=", 6))
			r->after = strtol(v, NULL, 0);
		else if (!strncmp(tok, "xor=", 4))
			r->xor_ = strtol(v, NULL, 0);
		else if (!strncmp(tok, "dir=", 4))
			r->dir = !strcmp(v, "resp") ? 2 : 1;
		else if (!strncmp(tok, "file=", 5))
			snprintf(r->file, sizeof r->file, "%s", v);
		else if (!strncmp(tok, "ktproof=", 8))
			snprintf(r->ktproof, sizeof r->ktproof, "%s", v);
		else if (strncmp(tok, "id=", 3))   /* id= only makes a line unique */
			return -1;
	}
	return i >= 3 ? 0 : -1;
}

/* Reads the script now; unreadable or missing means "pass everything". */
static int
load_rules(struct rule *rules)
{
	char line[512];
	FILE *f;
	int n = 0;

	if ((f = fopen(script, "r")) == NULL)
		return 0;
	while (n < RULE_MAX && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *s = line + strspn(line, " \t");
		if (*s == '\0' || *s == '#')
			continue;
		if (parse_rule(&rules[n], s) != 0) {
			fprintf(stderr, "nc-hostile: bad rule: %s\n", s);
			continue;
		}
		n++;
	}
	fclose(f);
	return n;
}

static unsigned long
bump(const char *rule)
{
	int i;

	for (i = 0; i < COUNTER_MAX && counters[i].rule; i++)
		if (!strcmp(counters[i].rule, rule))
			return ++counters[i].n;
	if (i == COUNTER_MAX)
		return 0;
	if ((counters[i].rule = strdup(rule)) == NULL)
		die("out of memory");
	return counters[i].n = 1;
}

static int
matches(const struct rule *r, const char *method, const char *path)
{
	if (strcmp(r->method, "*") && strcasecmp(r->method, method))
		return 0;
	return fnmatch(r->glob, path, 0) == 0;
}

/* Under the lock: counts the request against every matching rule and
 * returns the first that fires (copied into out), or 0 for "pass". */
static int
decide(struct rule *out, const char *method, const char *path)
{
	struct rule rules[RULE_MAX];
	int n = load_rules(rules), found = 0;

	for (int i = 0; i < n; i++) {
		unsigned long k;

		if (!matches(&rules[i], method, path))
			continue;
		k = bump(rules[i].text);
		if (found)
			continue;
		if ((rules[i].n > 0 && k != (unsigned long)rules[i].n) ||
		    (rules[i].from > 0 && k < (unsigned long)rules[i].from))
			continue;
		*out = rules[i];
		found = 1;
	}
	return found;
}

/* ---- envelope framing ------------------------------------------------ */

enum fmt { F_RAW, F_DELIVER, F_LIST };

struct item {
	uint8_t dev[16], envid[16];
	uint64_t cursor, received;
	nc_buf env;
};

struct frame {
	enum fmt fmt;
	uint64_t version;
	size_t n;
	struct item it[128];
};

static enum fmt
fmt_of(const char *method, const char *path, int resp)
{
	if (!resp && !strcasecmp(method, "POST") &&
	    !fnmatch("/v1/users/*/deliver", path, 0))
		return F_DELIVER;
	if (resp && !strcasecmp(method, "GET") &&
	    !fnmatch("/v1/users/*/devices/*/mailbox", path, 0))
		return F_LIST;
	return F_RAW;
}

static void
frame_free(struct frame *f)
{
	for (size_t i = 0; i < f->n; i++)
		nc_buf_free(&f->it[i].env);
	f->n = 0;
}

/* Splits a body into its envelopes; anything unparsable is one raw item. */
static void
frame_parse(struct frame *f, enum fmt fmt, const nc_buf *b)
{
	nc_dec d;
	size_t n = 0, len;
	const uint8_t *p;

	memset(f, 0, sizeof *f);
	f->fmt = fmt;
	if (fmt != F_RAW) {
		nc_dec_init(&d, b->p, b->len);
		nc_dec_check(&d, nc_get_u8(&d) == 1, "version");
		if (fmt == F_DELIVER)
			f->version = nc_get_u64(&d);
		n = nc_get_u16(&d);
		nc_dec_check(&d, n <= 128, "count");
		for (size_t i = 0; i < n && !d.err; i++) {
			struct item *it = &f->it[i];

			if (fmt == F_LIST)
				it->cursor = nc_get_u64(&d);
			else if ((p = nc_get_fixed(&d, 16)))
				memcpy(it->dev, p, 16);
			if ((p = nc_get_fixed(&d, 16)))
				memcpy(it->envid, p, 16);
			if (fmt == F_LIST)
				it->received = nc_get_u64(&d);
			if ((p = nc_get_bytes(&d, BODY_MAX, &len)))
				oom(nc_buf_add(&it->env, p, len));
			f->n = i + 1;
		}
		if (nc_dec_end(&d, "frame") == 0)
			return;
		frame_free(f);
		f->fmt = F_RAW;
	}
	f->n = 1;
	oom(nc_buf_add(&f->it[0].env, b->p, b->len));
}

static void
frame_build(nc_buf *out, const struct frame *f)
{
	nc_enc e;

	nc_buf_reset(out);
	if (f->fmt == F_RAW) {
		oom(nc_buf_add(out, f->it[0].env.p, f->it[0].env.len));
		return;
	}
	nc_enc_init(&e, out);
	nc_put_u8(&e, 1);
	if (f->fmt == F_DELIVER)
		nc_put_u64(&e, f->version);
	nc_put_u16(&e, (uint16_t)f->n);
	for (size_t i = 0; i < f->n; i++) {
		const struct item *it = &f->it[i];

		if (f->fmt == F_LIST)
			nc_put_u64(&e, it->cursor);
		else
			nc_put_fixed(&e, it->dev, 16);
		nc_put_fixed(&e, it->envid, 16);
		if (f->fmt == F_LIST)
			nc_put_u64(&e, it->received);
		nc_put_bytes(&e, it->env.p, it->env.len);
	}
	oom(nc_enc_end(&e));
}

/* flip / truncate / reorder applied to every envelope of a body. */
static void
mutate(const struct rule *r, enum fmt fmt, nc_buf *b)
{
	struct frame f;

	frame_parse(&f, fmt, b);
	for (size_t i = 0; i < f.n; i++) {
		nc_buf *env = &f.it[i].env;

		if (!strcmp(r->action, "flip") && env->len > 0) {
			long o = r->has_offset ? r->offset : (long)env->len / 2;
			if (o < 0)
				o += (long)env->len;
			if (o < 0)
				o = 0;
			if ((size_t)o >= env->len)
				o = (long)env->len - 1;
			env->p[o] ^= (uint8_t)r->xor_;
		} else if (!strcmp(r->action, "truncate")) {
			long l = r->has_len ? r->len : (long)env->len / 2;
			if (l >= 0 && (size_t)l < env->len)
				env->len = (size_t)l;
		}
	}
	if (!strcmp(r->action, "reorder") && f.fmt == F_LIST) {
		for (size_t i = 0, j = f.n ? f.n - 1 : 0; i < j; i++, j--) {
			struct item t = f.it[i];
			uint64_t ci = f.it[i].cursor, cj = f.it[j].cursor;

			f.it[i] = f.it[j];
			f.it[j] = t;
			f.it[i].cursor = ci;    /* cursors stay increasing */
			f.it[j].cursor = cj;
		}
	}
	frame_build(b, &f);
	frame_free(&f);
}

/* An injected envelope travels as the request it rides on does: in a
 * batch delivery, as its one item, to the first item's device. */
static void
wrap_like(nc_buf *env, const nc_buf *req, const char *method, const char *path)
{
	struct frame f;

	if (fmt_of(method, path, 0) != F_DELIVER)
		return;
	frame_parse(&f, F_DELIVER, req);
	if (f.fmt == F_DELIVER && f.n > 0) {
		for (size_t i = 1; i < f.n; i++)
			nc_buf_free(&f.it[i].env);
		f.n = 1;
		nc_buf_reset(&f.it[0].env);
		oom(nc_buf_add(&f.it[0].env, env->p, env->len));
		frame_build(env, &f);
	}
	frame_free(&f);
}

/* A copy of target and body under fresh envelope ids: what the relay
 * takes for a new delivery of the same bytes. */
static char *
fresh_ids(const char *target, nc_buf *body, const char *method)
{
	char *t = strdup(target), *slash;
	uint8_t id[16];

	if (t == NULL)
		die("out of memory");
	slash = strrchr(t, '/');
	if (slash && strlen(slash + 1) == 32 && !strchr(slash, '?')) {
		randombytes_buf(id, sizeof id);
		sodium_bin2hex(slash + 1, 33, id, sizeof id);
	}
	if (fmt_of(method, t, 0) == F_DELIVER) {
		struct frame f;

		frame_parse(&f, F_DELIVER, body);
		for (size_t i = 0; i < f.n; i++)
			randombytes_buf(f.it[i].envid, 16);
		frame_build(body, &f);
		frame_free(&f);
	}
	return t;
}

/* ---- forwarding ---------------------------------------------------- */

struct resp {
	long status;
	nc_buf body;
	char ctype[128], retry[32], crange[96];
	char ktproof[8192];   /* X-NC-KT-Proof */
	long cut;             /* >= 0: answer only this many body bytes, then close */
};

static size_t
on_data(char *p, size_t sz, size_t nm, void *cls)
{
	struct resp *r = cls;

	if (r->body.len + sz * nm > BODY_MAX || nc_buf_add(&r->body, p, sz * nm))
		return 0;
	return sz * nm;
}

static void
header_value(char *dst, size_t cap, const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);

	if (n <= k + 1 || strncasecmp(line, name, k) || line[k] != ':')
		return;
	line += k + 1, n -= k + 1;
	while (n && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	snprintf(dst, cap, "%.*s", (int)n, line);
}

static size_t
on_header(char *p, size_t sz, size_t nm, void *cls)
{
	struct resp *r = cls;

	header_value(r->ctype, sizeof r->ctype, p, sz * nm, "Content-Type");
	header_value(r->retry, sizeof r->retry, p, sz * nm, "Retry-After");
	header_value(r->crange, sizeof r->crange, p, sz * nm, "Content-Range");
	header_value(r->ktproof, sizeof r->ktproof, p, sz * nm, "X-NC-KT-Proof");
	return sz * nm;
}

static void
forward(const char *method, const char *target, struct curl_slist *hdrs,
    const nc_buf *body, struct resp *out)
{
	CURL *c = curl_easy_init();
	nc_buf url = NC_BUF_INIT;
	CURLcode rc;

	out->status = 502;
	if (c == NULL)
		return;
	oom(nc_buf_printf(&url, "%s%s", upstream, target));
	oom(nc_buf_nul(&url));
	curl_easy_setopt(c, CURLOPT_URL, (char *)url.p);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body->len > 0 || strcasecmp(method, "GET")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->p ? (char *)body->p : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if ((rc = curl_easy_perform(c)) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	} else {
		nc_buf_reset(&out->body);
		oom(nc_buf_printf(&out->body, "nc-hostile: upstream: %s\n",
		    curl_easy_strerror(rc)));
		snprintf(out->ctype, sizeof out->ctype, "text/plain");
	}
	curl_easy_cleanup(c);
	nc_buf_free(&url);
}

/* cut, request side: the request line, headers and Content-Length of the
 * whole body, then only its first `after` bytes, on a socket of our own
 * (so exactly those bytes leave); then wait for the relay to hang up (it
 * sees the body stop short) and close. */
static void
forward_cut(const char *method, const char *target, struct curl_slist *hdrs,
    const nc_buf *body, size_t after)
{
	char host[256], port[16];
	const char *h = strstr(upstream, "://");
	struct addrinfo hints = { 0 }, *ai = NULL;
	nc_buf out = NC_BUF_INIT;
	struct pollfd pfd;
	char junk[4096];
	size_t off = 0;
	int fd = -1;

	h = h ? h + 3 : upstream;
	if (sscanf(h, "%255[^:/]:%15[0-9]", host, port) != 2)
		die("cut: upstream %s: want http://HOST:PORT", upstream);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0 ||
	    (fd = socket(ai->ai_family, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		goto out;
	oom(nc_buf_printf(&out, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n", method,
	    target, host, port));
	for (struct curl_slist *l = hdrs; l; l = l->next)
		if (strcasecmp(l->data, "Expect:"))
			oom(nc_buf_printf(&out, "%s\r\n", l->data));
	oom(nc_buf_printf(&out, "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    body->len));
	oom(nc_buf_add(&out, body->p, after < body->len ? after : body->len));
	while (off < out.len) {
		ssize_t w = send(fd, out.p + off, out.len - off, MSG_NOSIGNAL);

		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	shutdown(fd, SHUT_WR);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, 5000) > 0 && recv(fd, junk, sizeof junk, 0) > 0)
		;
out:
	if (fd >= 0)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
	nc_buf_free(&out);
}

/* Forwards a copy of the request whose answer nobody waits for. */
static void
forward_quiet(const char *method, const char *target,
    struct curl_slist *hdrs, const nc_buf *body, const char *why)
{
	struct resp r;

	memset(&r, 0, sizeof r);
	forward(method, target, hdrs, body, &r);
	if (recdir) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof path, "%s/log", recdir);
		pthread_mutex_lock(&lock);
		if ((f = fopen(path, "a"))) {
			fprintf(f, "------ %s %s %ld %s\n", method, target,
			    r.status, why);
			fclose(f);
		}
		pthread_mutex_unlock(&lock);
	}
	nc_buf_free(&r.body);
}

static void
hold(const char *rule, const char *method, const char *target,
    struct curl_slist *hdrs, const nc_buf *body)
{
	for (int i = 0; i < HELD_MAX; i++) {
		struct held *h = &held[i];

		if (h->rule)
			continue;
		h->rule = strdup(rule);
		h->method = strdup(method);
		h->target = strdup(target);
		if (!h->rule || !h->method || !h->target)
			die("out of memory");
		for (struct curl_slist *s = hdrs; s; s = s->next)
			h->hdrs = curl_slist_append(h->hdrs, s->data);
		oom(nc_buf_add(&h->body, body->p, body->len));
		return;
	}
}

static void
held_free(struct held *h)
{
	free(h->rule);
	free(h->method);
	free(h->target);
	curl_slist_free_all(h->hdrs);
	nc_buf_free(&h->body);
	memset(h, 0, sizeof *h);
}

/* Forwards what an earlier match of a reorder rule held back, once a
 * later request that rule matches has gone through. */
static void
release(const char *method, const char *path)
{
	for (int i = 0; i < HELD_MAX; i++) {
		struct rule r;
		struct held h;

		pthread_mutex_lock(&lock);
		if (held[i].rule == NULL || parse_rule(&r, held[i].rule) != 0 ||
		    !matches(&r, method, path)) {
			pthread_mutex_unlock(&lock);
			continue;
		}
		h = held[i];
		memset(&held[i], 0, sizeof held[i]);
		pthread_mutex_unlock(&lock);
		forward_quiet(h.method, h.target, h.hdrs, &h.body, "released");
		held_free(&h);
	}
}

/* ---- recording ------------------------------------------------------- */

static void
save(unsigned long n, const char *ext, const nc_buf *b)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/%06lu.%s", recdir, n, ext);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return;
	if (b->len && write(fd, b->p, b->len) != (ssize_t)b->len)
		fprintf(stderr, "nc-hostile: %s: short write\n", path);
	close(fd);
}

static void
record(unsigned long n, const char *method, const char *target,
    const nc_buf *req, const nc_buf *sent, const struct resp *r,
    const char *action)
{
	char path[4096];
	FILE *f;

	if (recdir == NULL)
		return;
	save(n, "req", req);
	if (sent)
		save(n, "sent", sent);
	save(n, "resp", &r->body);
	snprintf(path, sizeof path, "%s/log", recdir);
	pthread_mutex_lock(&lock);
	if ((f = fopen(path, "a"))) {
		fprintf(f, "%06lu %s %s %ld %s\n", n, method, target, r->status,
		    action);
		fclose(f);
	}
	pthread_mutex_unlock(&lock);
}

/* ---- the request handler -------------------------------------------- */

static enum MHD_Result
add_header(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct curl_slist **l = cls;
	static const char *skip[] = { "Host", "Content-Length", "Connection",
	    "Transfer-Encoding", "Expect", "Keep-Alive", NULL };
	nc_buf h = NC_BUF_INIT;

	(void)kind;
	for (int i = 0; skip[i]; i++)
		if (!strcasecmp(k, skip[i]))
			return MHD_YES;
	oom(nc_buf_printf(&h, "%s: %s", k, v ? v : ""));
	oom(nc_buf_nul(&h));
	*l = curl_slist_append(*l, (char *)h.p);
	nc_buf_free(&h);
	return MHD_YES;
}

/* cut, response side: the first r->cut bytes, then an error that makes
 * MHD close the connection with the answer short of its Content-Length. */
struct cutresp {
	nc_buf body;
	size_t keep;
};

static ssize_t
cut_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct cutresp *cr = cls;
	size_t n;

	if (pos >= cr->keep)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = cr->keep - (size_t)pos < max ? cr->keep - (size_t)pos : max;
	memcpy(buf, cr->body.p + pos, n);
	return (ssize_t)n;
}

static void
cut_free(void *cls)
{
	struct cutresp *cr = cls;

	nc_buf_free(&cr->body);
	free(cr);
}

static enum MHD_Result
answer(struct MHD_Connection *c, const struct resp *r)
{
	struct MHD_Response *mr;
	enum MHD_Result ret;

	if (r->cut >= 0) {
		struct cutresp *cr = calloc(1, sizeof *cr);

		if (cr == NULL)
			die("out of memory");
		oom(nc_buf_add(&cr->body, r->body.p, r->body.len));
		cr->keep = (size_t)r->cut < r->body.len ? (size_t)r->cut : r->body.len;
		mr = MHD_create_response_from_callback(r->body.len, 65536,
		    cut_reader, cr, cut_free);
	} else
		mr = MHD_create_response_from_buffer(r->body.len,
		    r->body.p ? r->body.p : (void *)"", MHD_RESPMEM_MUST_COPY);
	if (mr == NULL)
		return MHD_NO;
	if (r->ctype[0])
		MHD_add_response_header(mr, "Content-Type", r->ctype);
	if (r->retry[0])
		MHD_add_response_header(mr, "Retry-After", r->retry);
	if (r->crange[0])
		MHD_add_response_header(mr, "Content-Range", r->crange);
	if (r->ktproof[0])
		MHD_add_response_header(mr, "X-NC-KT-Proof", r->ktproof);
	ret = MHD_queue_response(c, (unsigned)r->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

static void
text(struct resp *r, long status, const char *msg)
{
	r->status = status;
	nc_buf_reset(&r->body);
	oom(nc_buf_printf(&r->body, "%s\n", msg));
	snprintf(r->ctype, sizeof r->ctype, "text/plain");
}

static int
read_file(nc_buf *b, const char *path)
{
	int fd = open(path, O_RDONLY), rc;

	if (fd < 0)
		return -1;
	rc = nc_buf_readfd(b, fd, BODY_MAX);
	close(fd);
	return rc ? -1 : 0;
}

static void
serve(const char *method, struct req *q, struct curl_slist *hdrs,
    struct resp *r)
{
	char path[2048], action[64] = "pass";
	struct rule rule;
	nc_buf sent = NC_BUF_INIT;
	int fired, changed = 0, resp_side;
	unsigned long n;

	snprintf(path, sizeof path, "%.*s", (int)strcspn(q->target, "?"),
	    q->target);
	if (!strcmp(path, "/_hostile/reset")) {
		pthread_mutex_lock(&lock);
		for (int i = 0; i < COUNTER_MAX; i++)
			counters[i].n = 0;
		pthread_mutex_unlock(&lock);
		text(r, 200, "reset");
		return;
	}
	pthread_mutex_lock(&lock);
	n = ++seq;
	fired = decide(&rule, method, path);
	pthread_mutex_unlock(&lock);
	oom(nc_buf_add(&sent, q->body.p, q->body.len));
	if (q->too_big) {
		text(r, 413, "nc-hostile: body too large");
		goto done;
	}
	if (!fired) {
		forward(method, q->target, hdrs, &sent, r);
		release(method, path);
		goto done;
	}
	snprintf(action, sizeof action, "%s", rule.action);
	resp_side = rule.dir == 2 || (rule.dir == 0 && q->body.len == 0);
	if (!strcmp(rule.action, "delay")) {
		struct timespec ts = { rule.ms / 1000, (rule.ms % 1000) * 1000000 };
		nanosleep(&ts, NULL);
	}
	if (!strcmp(rule.action, "drop")) {
		long s = rule.status ? rule.status :
		    (!strcasecmp(method, "PUT") || !strcasecmp(method, "POST")) ? 201 : 503;
		r->status = s;
		goto done;
	}
	if (!strcmp(rule.action, "replace")) {
		r->status = rule.status ? rule.status : 200;
		if (read_file(&r->body, rule.file) != 0)
			text(r, 500, "nc-hostile: replace: cannot read file");
		snprintf(r->ctype, sizeof r->ctype, "application/octet-stream");
		goto done;
	}
	if (!strcmp(rule.action, "cut") && !resp_side) {
		size_t k = rule.after > 0 ? (size_t)rule.after : 0;

		if (k > q->body.len)
			k = q->body.len;
		forward_cut(method, q->target, hdrs, &q->body, k);
		sent.len = k;
		changed = 1;
		r->status = 0;    /* no answer: the handler closes the connection */
		snprintf(action, sizeof action, "cut %zu/%zu", k, q->body.len);
		goto done;
	}
	if (!strcmp(rule.action, "reorder") && q->body.len > 0) {
		pthread_mutex_lock(&lock);
		hold(rule.text, method, q->target, hdrs, &q->body);
		pthread_mutex_unlock(&lock);
		r->status = 201;
		snprintf(action, sizeof action, "held");
		goto done;
	}
	if ((!strcmp(rule.action, "flip") || !strcmp(rule.action, "truncate")) &&
	    !resp_side) {
		mutate(&rule, fmt_of(method, path, 0), &sent);
		changed = 1;
	}
	forward(method, q->target, hdrs, &sent, r);
	if (resp_side && !strcmp(rule.action, "cut")) {
		r->cut = rule.after > 0 ? rule.after : 0;
		if ((size_t)r->cut > r->body.len)
			r->cut = (long)r->body.len;
		snprintf(action, sizeof action, "cut %ld/%zu", r->cut, r->body.len);
	}
	if (resp_side && r->status < 300 && (!strcmp(rule.action, "flip") ||
	    !strcmp(rule.action, "truncate") || !strcmp(rule.action, "reorder")))
		mutate(&rule, fmt_of(method, path, 1), &r->body);
	if (!strcmp(rule.action, "replay")) {
		for (long i = 0; i < rule.times; i++) {
			nc_buf b = NC_BUF_INIT;
			char *t;

			oom(nc_buf_add(&b, sent.p, sent.len));
			t = fresh_ids(q->target, &b, method);
			forward_quiet(method, t, hdrs, &b, "replayed");
			free(t);
			nc_buf_free(&b);
		}
	} else if (!strcmp(rule.action, "inject")) {
		nc_buf b = NC_BUF_INIT;
		char *t;

		if (read_file(&b, rule.file) == 0) {
			wrap_like(&b, &sent, method, path);
			t = fresh_ids(q->target, &b, method);
			forward_quiet(method, t, hdrs, &b, "injected");
			free(t);
		}
		nc_buf_free(&b);
	}
	release(method, path);
done:
	if (fired && rule.ktproof[0]) {
		nc_buf k = NC_BUF_INIT;

		r->ktproof[0] = '\0';
		if (read_file(&k, rule.ktproof) == 0) {
			while (k.len > 0 && (k.p[k.len - 1] == '\n' ||
			    k.p[k.len - 1] == '\r'))
				k.len--;
			snprintf(r->ktproof, sizeof r->ktproof, "%.*s", (int)k.len,
			    (char *)k.p);
		}
		nc_buf_free(&k);
	}
	record(n, method, q->target, &q->body, changed ? &sent : NULL, r, action);
	nc_buf_free(&sent);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **ptr)
{
	struct req *q = *ptr;
	struct curl_slist *hdrs = NULL;
	struct resp r;
	enum MHD_Result ret;

	(void)cls, (void)url, (void)version;
	if (q == NULL)
		return MHD_NO;
	if (!q->started) {      /* the first call comes before any body */
		q->started = 1;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (q->body.len + *upload_size > BODY_MAX)
			q->too_big = 1;
		else
			oom(nc_buf_add(&q->body, upload, *upload_size));
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&r, 0, sizeof r);
	r.cut = -1;
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, &hdrs);
	hdrs = curl_slist_append(hdrs, "Expect:");
	serve(method, q, hdrs, &r);
	ret = r.status == 0 ? MHD_NO : answer(c, &r);   /* 0: cut, no answer */
	curl_slist_free_all(hdrs);
	nc_buf_free(&r.body);
	return ret;
}

/* MHD hands the handler an unescaped path without the query; signed
 * requests need the target exactly as sent, which this callback sees. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct req *q = calloc(1, sizeof *q);

	(void)cls, (void)c;
	if (q == NULL || (q->target = strdup(uri)) == NULL)
		die("out of memory");
	return q;
}

/* A client's new connection, counted in RECORD_DIR/conns (whether
 * requests share one). */
static void
on_conn(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	char path[4096];
	FILE *f;

	(void)cls, (void)c, (void)socket_context;
	if (recdir == NULL || code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	snprintf(path, sizeof path, "%s/conns", recdir);
	pthread_mutex_lock(&lock);
	if ((f = fopen(path, "a"))) {
		fputs("open\n", f);
		fclose(f);
	}
	pthread_mutex_unlock(&lock);
}

static void
on_done(void *cls, struct MHD_Connection *c, void **ptr,
    enum MHD_RequestTerminationCode why)
{
	struct req *q = *ptr;

	(void)cls, (void)c, (void)why;
	if (q == NULL)
		return;
	free(q->target);
	nc_buf_free(&q->body);
	free(q);
	*ptr = NULL;
}

static void
usage(void)
{
	fputs("usage: nc-hostile -l ADDR:PORT -u UPSTREAM_URL -s SCRIPT "
	    "[-r RECORD_DIR]\n", stderr);
	exit(64);
}

int
main(int argc, char **argv)
{
	const char *listen = "127.0.0.1:0";
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	char host[64], *colon;
	sigset_t set;
	int opt, sig;

	while ((opt = getopt(argc, argv, "l:u:s:r:h")) != -1) {
		switch (opt) {
		case 'l': listen = optarg; break;
		case 'u': upstream = optarg; break;
		case 's': script = optarg; break;
		case 'r': recdir = optarg; break;
		default: usage();
		}
	}
	if (upstream == NULL || script == NULL || optind != argc)
		usage();
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT))
		die("cannot initialise");
	snprintf(host, sizeof host, "%s", listen);
	if ((colon = strrchr(host, ':')) == NULL)
		usage();
	*colon = '\0';
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("%s: not an IPv4 address", host);

	/* Threads inherit the mask: only main() takes the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    handler, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, on_conn, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)150,
	    MHD_OPTION_END);
	if (d == NULL)
		die("cannot listen on %s", listen);
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("http://%s:%u\n", host, info ? info->port : 0);
	fflush(stdout);

	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	for (int i = 0; i < HELD_MAX; i++)
		if (held[i].rule)
			held_free(&held[i]);
	for (int i = 0; i < COUNTER_MAX; i++)
		free(counters[i].rule);
	curl_global_cleanup();
	return 0;
}
