/* curlfns.c - libcurl loaded with dlopen on first use (curlfns.h). */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "curlfns.h"
#include "dlsyms.h"
#include "err.h"

static struct nc_curlfns C;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_ok;
static char load_err[256];

static void
load(void)
{
	static const nc_dlsym syms[] = {
		{ "curl_global_init", offsetof(struct nc_curlfns, global_init) },
		{ "curl_easy_init", offsetof(struct nc_curlfns, easy_init) },
		{ "curl_easy_setopt", offsetof(struct nc_curlfns, easy_setopt) },
		{ "curl_easy_perform", offsetof(struct nc_curlfns, easy_perform) },
		{ "curl_easy_getinfo", offsetof(struct nc_curlfns, easy_getinfo) },
		{ "curl_easy_reset", offsetof(struct nc_curlfns, easy_reset) },
		{ "curl_easy_cleanup", offsetof(struct nc_curlfns, easy_cleanup) },
		{ "curl_easy_strerror", offsetof(struct nc_curlfns, easy_strerror) },
		{ "curl_slist_append", offsetof(struct nc_curlfns, slist_append) },
		{ "curl_slist_free_all", offsetof(struct nc_curlfns, slist_free_all) },
	};
	/* RTLD_LAZY (nc_dlsyms): the functions of libcurl's thirty libraries
	 * that are never called (most of Kerberos, LDAP, RTMP...) are never
	 * bound, as when a program linked with libcurl starts: about 1,800
	 * symbol lookups fewer than RTLD_NOW. */
	if (nc_dlsyms("libcurl.so.4", syms, sizeof syms / sizeof syms[0], &C,
	    load_err, sizeof load_err) != 0)
		return;
	if (C.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_err, sizeof load_err, "curl_global_init failed");
		return;
	}
	load_ok = 1;   /* the library stays loaded until exit */
}

const struct nc_curlfns *
nc_curlfns(void)
{
	pthread_once(&load_once, load);
	if (!load_ok) {
		nc_fail(NC_ESOFTWARE, "cannot load libcurl: %s", load_err);
		return NULL;
	}
	return &C;
}
