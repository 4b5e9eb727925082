/* http.h - the HTTP front: libmicrohttpd with a thread pool on epoll,
 * bounded requests, suspended connections for long-polls. */
#ifndef RELAY_HTTP_H
#define RELAY_HTTP_H

#include "relay.h"

struct http_conf {
	const char *listen;          /* ADDR:PORT, [ADDR6]:PORT */
	const char *tls_cert, *tls_key;
	unsigned threads;            /* MHD's I/O threads */
	unsigned workers;            /* threads that run requests */
	unsigned conns_per_ip;
	unsigned conns_max;          /* 0: from the descriptor limit */
	unsigned polls_max;          /* long-polls held; 0: 13/16 of conns_max */
	unsigned idle_max;           /* idle connections; 0: 1/8 of conns_max */
	unsigned idle_timeout;       /* seconds without a byte */
	unsigned request_timeout;    /* seconds for a whole request */
	unsigned upload_timeout;     /* ... when it streams a blob */
	const char *trust_proxy;     /* an address whose X-Forwarded-For is
	                                believed (--trust-proxy), or NULL */
};

struct http;

void http_conf_defaults(struct http_conf *c);
/* 0 if s is an ADDR:PORT http_start can listen on (IPv4 dotted quad or
 * [IPv6], port 0..65535). */
int http_listen_check(const char *s);
/* Starts serving r; writes the base URL ("http://127.0.0.1:PORT") to url,
 * and to r->url unless that is set (--public-url) - before any request
 * reaches the API. 0, or the exit code, its reason on stderr: NC_EUSAGE
 * for an address that is in use or not this machine's. */
int http_start(struct http **h, const struct http_conf *c, struct relay *r,
    char *url, size_t urllen);
/* Answers new requests 503, ends long-polls, waits for requests in flight
 * (those still sending a body: at most grace seconds), then stops. */
void http_stop(struct http *h, unsigned grace);

#endif
