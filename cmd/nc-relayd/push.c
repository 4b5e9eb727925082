/* push.c - wake-ups to devices' push endpoints (push.h, protocol.md 1.12).
 *
 * push_mail (called by the store's writer after each commit) only marks
 * the device pending in a hash table and a due-time heap: the wake-up is
 * due PUSH_DELAY_MS later, so the mail of a burst shares it. One thread
 * runs every push through one curl multi handle (PUSH_INFLIGHT_MAX at
 * once, one per device at a time), looks each endpoint up in the store
 * when it is due (none: nothing to do), counts the device's wake-ups per
 * minute and its failures in a row, and drops the endpoint (store_push_drop)
 * after PUSH_FAILS_MAX of them. Redirects are never followed; a 3xx is a
 * failure like any other status outside 2xx. Entries with nothing pending,
 * nothing failing and a minute old are freed by a sweep every 10 s. The
 * counts live in this process: a restart starts them over. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "push.h"

#define NBUCKETS 65536   /* a power of two */
#define SWEEP_MS 10000
#define MINUTE_MS 60000
#define SINK_MAX 65536   /* bytes of an answer read (and thrown away) */

struct pent {
	struct pent *hnext;
	char user[NC_NAME_MAX + 1];
	uint8_t dev[NC_DEVID_LEN];
	int64_t due_ms;          /* pending: when the wake-up goes */
	size_t hi;               /* pending: its place in the heap */
	int pending, inflight, again;
	int64_t win_ms;          /* the minute the cap counts in began then */
	unsigned win_n, fails;
};

struct xfer {
	struct xfer *prev, *next;   /* in flight: on the pusher's list */
	struct pusher *p;
	struct pent *pe;         /* NULL: the registration check */
	CURL *e;
	size_t got;
	int refused;             /* the address was not one we may connect to */
	char url[NC_PUSH_URL_MAX + 1];
	char err[CURL_ERROR_SIZE];
};

struct pusher {
	struct store *s;
	int allow_local;
	struct curl_slist *hdr;
	CURLM *m;
	pthread_t thr;
	int started, curl;
	struct xfer *xfers;      /* in flight (the thread's own) */
	pthread_mutex_t mu;      /* everything below */
	int stop;
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct pent **tab;
	size_t n;
	struct pent **heap;
	size_t nheap;
	unsigned inflight;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- which addresses a push may go to ---- */

static int
v4_public(const uint8_t a[4])
{
	uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	static const struct { uint32_t net, mask; } no[] = {
		{ 0x00000000, 0xff000000 },   /* 0/8 */
		{ 0x0a000000, 0xff000000 },   /* 10/8 */
		{ 0x64400000, 0xffc00000 },   /* 100.64/10 */
		{ 0x7f000000, 0xff000000 },   /* 127/8 */
		{ 0xa9fe0000, 0xffff0000 },   /* 169.254/16 */
		{ 0xac100000, 0xfff00000 },   /* 172.16/12 */
		{ 0xc0000000, 0xffffff00 },   /* 192.0.0/24 */
		{ 0xc0000200, 0xffffff00 },   /* 192.0.2/24 */
		{ 0xc0a80000, 0xffff0000 },   /* 192.168/16 */
		{ 0xc6120000, 0xfffe0000 },   /* 198.18/15 */
		{ 0xc6336400, 0xffffff00 },   /* 198.51.100/24 */
		{ 0xcb007100, 0xffffff00 },   /* 203.0.113/24 */
		{ 0xe0000000, 0xe0000000 },   /* 224/4, 240/4 */
	};

	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if ((x & no[i].mask) == no[i].net)
			return 0;
	return 1;
}

static int
v6_public(const uint8_t a[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const uint8_t zero[15];

	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return v4_public(a + 12);
	if (memcmp(a, zero, 15) == 0)   /* :: and ::1 */
		return 0;
	if ((a[0] & 0xfe) == 0xfc ||                      /* fc00::/7 */
	    (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||    /* fe80::/10 */
	    a[0] == 0xff ||                               /* multicast */
	    (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8))
		return 0;                                 /* 2001:db8::/32 */
	return 1;
}

/* curl asks for each socket it connects: only to public addresses, unless
 * the operator allowed local ones. Checked on the address connected to,
 * so a name that resolves to an internal address is refused too. */
static curl_socket_t
open_sock(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = arg;
	const struct sockaddr *sa = &a->addr;
	int ok = x->p->allow_local;

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (!ok && sa->sa_family == AF_INET && a->addrlen >= sizeof(struct sockaddr_in))
		ok = v4_public((const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr);
	else if (!ok && sa->sa_family == AF_INET6 &&
	    a->addrlen >= sizeof(struct sockaddr_in6))
		ok = v6_public(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
	if (!ok) {
		x->refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t
sink(char *b, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;

	(void)b;
	x->got += sz * n;
	return x->got > SINK_MAX ? 0 : sz * n;
}

/* A transfer of the wake-up body to url (x->url), not started. */
static struct xfer *
xfer_new(struct pusher *p, struct pent *pe, const char *url)
{
	struct xfer *x = calloc(1, sizeof *x);
	int ok;

	if (x == NULL)
		return NULL;
	x->p = p;
	x->pe = pe;
	snprintf(x->url, sizeof x->url, "%s", url);
	if ((x->e = curl_easy_init()) == NULL) {
		free(x);
		return NULL;
	}
	ok = curl_easy_setopt(x->e, CURLOPT_URL, x->url) == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_PROTOCOLS_STR,
	    p->allow_local ? "http,https" : "https") == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_MAXREDIRS, 0L) == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_PROXY, "") == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_CONNECTTIMEOUT_MS, (long)PUSH_CONNECT_MS) ==
	    CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_TIMEOUT_MS, (long)PUSH_TIMEOUT_MS) == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_POSTFIELDS, PUSH_BODY) == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_POSTFIELDSIZE, (long)strlen(PUSH_BODY)) ==
	    CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, p->hdr) == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_WRITEFUNCTION, sink) == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_WRITEDATA, x) == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_ERRORBUFFER, x->err) == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_OPENSOCKETFUNCTION, open_sock) == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_OPENSOCKETDATA, x) == CURLE_OK &&
	    curl_easy_setopt(x->e, CURLOPT_PRIVATE, x) == CURLE_OK;
	if (!ok) {
		curl_easy_cleanup(x->e);
		free(x);
		return NULL;
	}
	return x;
}

static void
xfer_free(struct xfer *x)
{
	curl_easy_cleanup(x->e);
	free(x);
}

/* The outcome of a finished transfer: 0 ok (2xx), 1 failed, 2 gone (404,
 * 410), 3 slow down (429); why says what happened. */
static int
outcome(struct xfer *x, CURLcode rc, char *why, size_t n)
{
	long st = 0;

	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &st);
	if (rc == CURLE_OK && st >= 200 && st <= 299)
		return 0;
	if (x->refused)
		snprintf(why, n, "push endpoint: %s resolves to a loopback, private or "
		    "reserved address, which this relay does not push to", x->url);
	else if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
		snprintf(why, n, "push endpoint unreachable: %s", x->err[0] ? x->err :
		    curl_easy_strerror(rc));
	else if (st >= 300 && st <= 399)
		snprintf(why, n, "push endpoint answered %ld, a redirect: the relay "
		    "follows none; register the URL it points to", st);
	else
		snprintf(why, n, "push endpoint answered %ld, not 2xx", st);
	return st == 404 || st == 410 ? 2 : st == 429 ? 3 : 1;
}

int
push_check(const struct pusher *cp, const char *url, char *why, size_t n)
{
	struct pusher *p = (struct pusher *)cp;   /* only read */
	struct xfer *x;
	CURLcode rc;
	int k = nc_push_url_check(url);

	if (k == NC_PUSH_BAD) {
		snprintf(why, n, "push endpoint: not an http(s) URL");
		return -1;
	}
	if (k == NC_PUSH_HTTP && !p->allow_local) {
		snprintf(why, n, "push endpoint must be an https:// URL");
		return -1;
	}
	if ((x = xfer_new(p, NULL, url)) == NULL) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	rc = curl_easy_perform(x->e);
	k = outcome(x, rc, why, n);
	xfer_free(x);
	return k == 0 ? 0 : -1;
}

/* ---- the table and the heap (under mu) ---- */

static size_t
bucket(const struct pusher *p, const char *user, const uint8_t dev[NC_DEVID_LEN])
{
	uint8_t k[NC_NAME_MAX + 1 + NC_DEVID_LEN], h[crypto_shorthash_BYTES];
	size_t n = strlen(user);
	uint64_t v;

	memcpy(k, user, n);
	k[n] = '\0';
	memcpy(k + n + 1, dev, NC_DEVID_LEN);
	crypto_shorthash(h, k, n + 1 + NC_DEVID_LEN, p->key);
	memcpy(&v, h, sizeof v);
	return (size_t)(v & (NBUCKETS - 1));
}

static void
heap_swap(struct pusher *p, size_t i, size_t j)
{
	struct pent *t = p->heap[i];

	p->heap[i] = p->heap[j];
	p->heap[j] = t;
	p->heap[i]->hi = i;
	p->heap[j]->hi = j;
}

static void
heap_push(struct pusher *p, struct pent *e)
{
	size_t i = p->nheap++;

	p->heap[i] = e;
	e->hi = i;
	while (i > 0 && p->heap[(i - 1) / 2]->due_ms > p->heap[i]->due_ms) {
		heap_swap(p, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct pent *
heap_pop(struct pusher *p)
{
	struct pent *top = p->heap[0];
	size_t i = 0, c;

	p->heap[0] = p->heap[--p->nheap];
	p->heap[0]->hi = 0;
	while ((c = 2 * i + 1) < p->nheap) {
		if (c + 1 < p->nheap && p->heap[c + 1]->due_ms < p->heap[c]->due_ms)
			c++;
		if (p->heap[i]->due_ms <= p->heap[c]->due_ms)
			break;
		heap_swap(p, i, c);
		i = c;
	}
	return top;
}

static void
schedule(struct pusher *p, struct pent *e, int64_t due)
{
	e->pending = 1;
	e->due_ms = due;
	heap_push(p, e);
}

/* Free e unless something about it must be remembered. */
static void
maybe_free(struct pusher *p, struct pent *e, int64_t now)
{
	struct pent **pp;

	if (e->pending || e->inflight || e->fails > 0 ||
	    (e->win_n > 0 && now - e->win_ms < MINUTE_MS))
		return;
	for (pp = &p->tab[bucket(p, e->user, e->dev)]; *pp; pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			p->n--;
			free(e);
			return;
		}
}

static void
sweep(struct pusher *p, int64_t now)
{
	struct pent *e, *nx;

	for (size_t b = 0; b < NBUCKETS; b++)
		for (e = p->tab[b]; e; e = nx) {
			nx = e->hnext;
			maybe_free(p, e, now);
		}
}

void
push_mail(struct pusher *p, const char *user, const uint8_t dev[NC_DEVID_LEN])
{
	struct pent *e;
	size_t b;
	int wake = 0;

	if (p == NULL || strlen(user) > NC_NAME_MAX)
		return;
	pthread_mutex_lock(&p->mu);
	b = bucket(p, user, dev);
	for (e = p->tab[b]; e; e = e->hnext)
		if (strcmp(e->user, user) == 0 && memcmp(e->dev, dev, NC_DEVID_LEN) == 0)
			break;
	if (e == NULL && p->n < PUSH_TABLE_MAX && (e = calloc(1, sizeof *e)) != NULL) {
		snprintf(e->user, sizeof e->user, "%s", user);
		memcpy(e->dev, dev, NC_DEVID_LEN);
		e->hnext = p->tab[b];
		p->tab[b] = e;
		p->n++;
	}
	if (e != NULL && !e->pending && !p->stop) {
		schedule(p, e, mono_ms() + PUSH_DELAY_MS);
		wake = 1;
	}
	pthread_mutex_unlock(&p->mu);
	if (wake)
		curl_multi_wakeup(p->m);
}

/* ---- the thread ---- */

/* A due entry (inflight set): its endpoint, and the push started. */
static void
start(struct pusher *p, struct pent *e)
{
	char url[NC_PUSH_URL_MAX + 1];
	struct xfer *x = NULL;
	int rc = store_push_get(p->s, e->user, e->dev, url, sizeof url);

	if (rc == ST_OK && (x = xfer_new(p, e, url)) != NULL &&
	    curl_multi_add_handle(p->m, x->e) == CURLM_OK) {
		if ((x->next = p->xfers) != NULL)
			x->next->prev = x;
		p->xfers = x;
		return;
	}
	if (x != NULL)
		xfer_free(x);
	pthread_mutex_lock(&p->mu);
	e->inflight = 0;
	p->inflight--;
	if (e->again && !e->pending)
		schedule(p, e, mono_ms() + PUSH_DELAY_MS);
	e->again = 0;
	if (rc == ST_NOTFOUND)
		e->win_n = 0;   /* no endpoint: nothing was sent */
	maybe_free(p, e, mono_ms());
	pthread_mutex_unlock(&p->mu);
}

static void
finish(struct pusher *p, struct xfer *x, CURLcode rc)
{
	struct pent *e = x->pe;
	char why[300], user[NC_NAME_MAX + 1];
	uint8_t dev[NC_DEVID_LEN];
	int k = outcome(x, rc, why, sizeof why), drop = 0;
	int64_t now = mono_ms();

	curl_multi_remove_handle(p->m, x->e);
	if (x->prev)
		x->prev->next = x->next;
	else
		p->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	pthread_mutex_lock(&p->mu);
	e->inflight = 0;
	p->inflight--;
	if (k == 0)
		e->fails = 0;
	else if (k == 3)
		e->win_n = PUSH_PER_MIN;   /* 429: nothing more this minute */
	else if (k == 2 || ++e->fails >= PUSH_FAILS_MAX)
		drop = 1;
	if (drop)
		e->fails = 0;
	if (e->again && !e->pending && !drop)
		schedule(p, e, now + PUSH_DELAY_MS);
	e->again = 0;
	memcpy(user, e->user, sizeof user);
	memcpy(dev, e->dev, sizeof dev);
	maybe_free(p, e, now);
	pthread_mutex_unlock(&p->mu);
	/* only this URL: the device may have registered another meanwhile */
	if (drop)
		(void)store_push_drop(p->s, user, dev, x->url);
	xfer_free(x);
}

static void *
run(void *arg)
{
	struct pusher *p = arg;
	struct pent *due[PUSH_INFLIGHT_MAX], *e;
	int64_t now, swept = mono_ms();
	size_t nd;
	int running, left, wait;
	CURLMsg *msg;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		now = mono_ms();
		nd = 0;
		while (p->nheap > 0 && p->heap[0]->due_ms <= now &&
		    p->inflight + nd < PUSH_INFLIGHT_MAX) {
			e = heap_pop(p);
			e->pending = 0;
			if (e->inflight) {   /* one at a time: again once it is over */
				e->again = 1;
				continue;
			}
			if (now - e->win_ms >= MINUTE_MS) {
				e->win_ms = now;
				e->win_n = 0;
			}
			if (e->win_n >= PUSH_PER_MIN) {   /* capped: at the next minute */
				schedule(p, e, e->win_ms + MINUTE_MS);
				continue;
			}
			e->win_n++;
			e->inflight = 1;
			due[nd++] = e;
		}
		p->inflight += (unsigned)nd;
		wait = 1000;
		if (p->nheap > 0 && p->inflight < PUSH_INFLIGHT_MAX)
			wait = p->heap[0]->due_ms - now < wait ?
			    (int)(p->heap[0]->due_ms - now) : wait;
		if (now - swept >= SWEEP_MS) {
			sweep(p, now);
			swept = now;
		}
		pthread_mutex_unlock(&p->mu);
		for (size_t i = 0; i < nd; i++)
			start(p, due[i]);
		curl_multi_perform(p->m, &running);
		while ((msg = curl_multi_info_read(p->m, &left)) != NULL) {
			struct xfer *x = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			finish(p, x, msg->data.result);
		}
		curl_multi_poll(p->m, NULL, 0, wait > 0 ? wait : 0, NULL);
	}
	return NULL;
}

struct pusher *
push_new(struct store *s, int allow_local)
{
	struct pusher *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->s = s;
	p->allow_local = allow_local;
	crypto_shorthash_keygen(p->key);
	pthread_mutex_init(&p->mu, NULL);
	p->tab = calloc(NBUCKETS, sizeof *p->tab);
	p->heap = calloc(PUSH_TABLE_MAX, sizeof *p->heap);
	if (p->tab == NULL || p->heap == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		goto fail;
	p->curl = 1;
	/* TTL (RFC 8030): a wake-up may wait a day at the push service */
	p->hdr = curl_slist_append(NULL, "Content-Type: text/plain");
	if (p->hdr)
		p->hdr = curl_slist_append(p->hdr, "TTL: 86400");
	if (p->hdr == NULL || (p->m = curl_multi_init()) == NULL)
		goto fail;
	if (pthread_create(&p->thr, NULL, run, p) != 0)
		goto fail;
	p->started = 1;
	return p;
fail:
	fprintf(stderr, "nc-relayd: cannot start the push thread\n");
	push_free(p);
	return NULL;
}

void
push_stop(struct pusher *p)
{
	if (p == NULL || !p->started)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_mutex_unlock(&p->mu);
	curl_multi_wakeup(p->m);
	pthread_join(p->thr, NULL);
	p->started = 0;
}

void
push_free(struct pusher *p)
{
	struct pent *e, *nx;
	struct xfer *x, *xn;

	if (p == NULL)
		return;
	push_stop(p);
	if (p->m) {
		/* transfers still in flight are abandoned */
		for (x = p->xfers; x; x = xn) {
			xn = x->next;
			curl_multi_remove_handle(p->m, x->e);
			xfer_free(x);
		}
		curl_multi_cleanup(p->m);
	}
	curl_slist_free_all(p->hdr);
	for (size_t b = 0; p->tab && b < NBUCKETS; b++)
		for (e = p->tab[b]; e; e = nx) {
			nx = e->hnext;
			free(e);
		}
	free(p->tab);
	free(p->heap);
	pthread_mutex_destroy(&p->mu);
	if (p->curl)
		curl_global_cleanup();
	free(p);
}
