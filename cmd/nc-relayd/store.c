/* store.c - store.h's calls, each passed to the backend that opened the
 * store (store_ops.h): sqlite (store_open) or PostgreSQL (store_open_pg). */
#include <stdlib.h>
#include <string.h>

#include "store_ops.h"

/* A backend's struct store begins with its table (C11 6.7.2.1p15: a
 * pointer to a struct, converted, points to its first member). */
static const struct store_ops *
ops(const struct store *s)
{
	return *(const struct store_ops *const *)(const void *)s;
}

#define STORE_FORWARD(ret, name, params, args) \
	ret store_##name params { return ops(s)->name args; }
STORE_CALLS(STORE_FORWARD)

int
store_counter_next(struct nc_counter *held, const struct nc_counter_req *q, int *write)
{
	*write = 0;
	if (held->n == q->cur.n + 1 && memcmp(held->tag, q->next, 16) == 0)
		return ST_OK;
	if (held->n != q->cur.n || memcmp(held->tag, q->cur.tag, 16) != 0)
		return ST_CONFLICT;
	held->n = q->cur.n + 1;
	memcpy(held->tag, q->next, 16);
	*write = 1;
	return ST_OK;
}

int
store_open(struct store **s, const char *dir, const struct store_limits *l,
    store_mail_fn on_mail, void *arg)
{
	return sq_open(s, dir, l, on_mail, arg);
}

int
store_open_pg(struct store **s, const char *conninfo, const char *dir,
    const struct store_limits *l, store_mail_fn on_mail, void *arg)
{
	return pg_open(s, conninfo, dir, l, on_mail, arg);
}

void
store_close(struct store *s)
{
	if (s != NULL)
		ops(s)->close(s);
}

void
store_kt_keys(struct store *s, const uint8_t *log_sk, const char *domain)
{
	ops(s)->kt_keys(s, log_sk, domain);
}

int
store_shared(const struct store *s)
{
	return ops(s)->shared;
}

const uint8_t *
store_env_bytes(const struct store_env *e, size_t *len, uint8_t **joined)
{
	*joined = NULL;
	*len = e->len + e->tail_len;
	if (e->tail_len == 0)
		return e->env;
	if ((*joined = malloc(*len)) == NULL)
		return NULL;
	memcpy(*joined, e->env, e->len);
	memcpy(*joined + e->len, e->tail, e->tail_len);
	return *joined;
}
