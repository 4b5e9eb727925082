/* curlfns.h - the libcurl functions this project calls, loaded with dlopen
 * on first use, once a process (http.c for the network process, blob.c for
 * media). <curl/curl.h> provides only types and constants: no symbol of
 * libcurl is referenced at link time. */
#ifndef NC_CURLFNS_H
#define NC_CURLFNS_H

#include <curl/curl.h>

struct nc_curlfns {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_reset)(CURL *);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
};

/* The table, libcurl loaded and initialised; NULL (NC_ESOFTWARE set,
 * "cannot load libcurl: ...") when it cannot be. Thread-safe. */
const struct nc_curlfns *nc_curlfns(void);

#endif
