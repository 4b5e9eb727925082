/* account.h - this device's identity and its account at the relay: the
 * password (NC_PASSWORD, NC_PASSWORD_FILE or a prompt on the terminal),
 * OPAQUE registration and login (protocol.md 1.2; old Argon2id auth-key
 * accounts migrate at their next login), adding a device, changing the
 * password, and the keys loaded from the state. */
#ifndef NC_ACCOUNT_H
#define NC_ACCOUNT_H

#include <stdint.h>

#include "buf.h"
#include "devlist.h"
#include "keys.h"
#include "payload.h"
#include "state.h"

/* Everything a command needs to act as this device. */
typedef struct {
	char addr[NC_ADDR_MAX + 1];     /* alice@a.test */
	char name[NC_USER_MAX + 1];     /* alice */
	char domain[NC_DOMAIN_MAX + 1]; /* a.test */
	nc_idkey *id;                   /* NULL on a device without it */
	nc_device *dev;
	nc_devlist list;                /* our own signed device list */
} nc_self;

#define NC_OTPK_TARGET 100    /* one-time prekeys kept at the relay */
#define NC_OTPK_REFILL 25     /* refill when fewer remain */

/* The password into a secret buffer (NUL-terminated), from NC_PASSWORD,
 * NC_PASSWORD_FILE's first line or the terminal, whose prompt names addr
 * and why ("Password for alice@a.test (new account): "). create: a new
 * account - ask twice on a terminal, and warn on stderr when the password
 * is short. *asked (may be NULL): 1 if a person was asked. NC_EUSAGE for
 * an empty password or two that differ, NC_ECONFIG when there is no way
 * to get one. */
int nc_password_for(nc_buf *pw, const char *addr, const char *why, int create,
    int *asked) __attribute__((warn_unused_result));
/* A new password (nc-keygen --passwd) from NC_NEW_PASSWORD,
 * NC_NEW_PASSWORD_FILE's first line or the terminal, asked twice. */
int nc_new_password(nc_buf *pw, const char *addr) __attribute__((warn_unused_result));
/* The same without a name (confirm: create). */
int nc_password(nc_buf *pw, int confirm) __attribute__((warn_unused_result));
/* Argon2id cost from NC_PWHASH_COST (interactive, moderate, sensitive). */
int nc_pwhash_cost(uint64_t *ops, uint64_t *mem) __attribute__((warn_unused_result));
/* 64 bytes of Argon2id: auth key seed, then the backup key. */
int nc_account_derive(const nc_buf *pw, const uint8_t salt[16], uint64_t ops,
    uint64_t mem, uint8_t auth_seed[32], uint8_t backup[32])
	__attribute__((warn_unused_result));

/* nc-keygen: make keys for addr in a new state at home, register the user
 * (or, if it exists, log in with the password and add this device: with
 * the identity key from its backup it lists itself), publish the device
 * list and prekeys. *added: 0 a new user; NC_ADDED_LISTED added and
 * listed; NC_ADDED_UNLISTED added, but the account has no backup.
 * Resumable: the keys are stored before the first request that may change
 * the relay, and a second call on the same home finishes an interrupted
 * sign-up with them (each step is skipped when the relay has it). A home
 * whose sign-up is finished is refused (NC_ECANTCREAT). */
enum { NC_ADDED_LISTED = 1, NC_ADDED_UNLISTED = 2 };
/* Control message bodies (payload type 3): payload.h, NC_CTL_*. */
int nc_account_create(const char *home, const char *addr, int *added)
	__attribute__((warn_unused_result));

/* A new device linked by code (nc-keygen --link): *id, the identity key
 * the link message carried (taken: *id becomes NULL), must sign addr's
 * device list at the relay; a new state at home (empty) lists this device
 * under it, named devname (may be NULL), import(s, ctx) adds what the
 * message carried in the transaction that names it, prekeys are
 * published and the other devices told. */
int nc_account_link(const char *home, const char *addr, nc_idkey **id,
    const char *devname, int (*import)(nc_state *, void *), void *ctx)
	__attribute__((warn_unused_result));
/* Drop dev from our signed device list (needs the identity key): the
 * relay deletes its mailbox and prekeys and refuses its requests; our
 * sessions with it are retired; the other devices are told. */
int nc_account_revoke(nc_state *s, nc_self *self, const uint8_t dev[NC_DEVID_LEN])
	__attribute__((warn_unused_result));
/* The name nc_account_create gives the device (nc-keygen --name). */
void nc_account_set_name(const char *name);
/* Record this device's name (may be NULL) and when it was added. */
int nc_account_name(nc_state *s, const nc_self *self, const char *devname)
	__attribute__((warn_unused_result));

/* Refetch and verify our own device list (at most hourly unless force):
 * new or dropped devices become "device" events; another identity key is
 * an alarm (NC_ESECURITY). */
int nc_self_check(nc_state *s, nc_self *self, int force)
	__attribute__((warn_unused_result));
/* NC_EPERM if this device is no longer in our own list (revoked). online:
 * the list as the relay serves it now when we had other devices (only one
 * of them can revoke us), else as checked within the hour; offline (0), or
 * with the relay unreachable, as last seen. */
int nc_self_revoked(nc_state *s, nc_self *self, int online)
	__attribute__((warn_unused_result));
/* NC_ESECURITY if our own list was seen signed by another identity key. */
int nc_self_alarm(nc_state *s, const nc_self *self)
	__attribute__((warn_unused_result));

/* Make sure the relay holds a backup of our identity key (accounts made
 * before backups have none): log in with the password, and upload one
 * unless a good one is there. *stored: 1 if uploaded. */
int nc_account_backup(nc_state *s, nc_self *self, int *stored)
	__attribute__((warn_unused_result));

/* Change the account's password: log in with the current one, register
 * a new OPAQUE record for the new one and re-wrap the identity-key backup
 * under its export key, in one operation. Needs the identity key. */
int nc_account_passwd(nc_state *s, nc_self *self) __attribute__((warn_unused_result));

/* Delete addr's account at its relay with the password (everything the
 * relay holds for it; the name becomes free), and this home's state when
 * it is that user's (*local 1). */
int nc_account_delete(const char *home, const char *addr, int *local)
	__attribute__((warn_unused_result));

/* The OPAQUE export key of addr's account (the password from
 * nc_password_for, asked "why"), without any operation: for the backup
 * (lib/app/syncbackup.c). s may be NULL (a new home: nothing pinned). */
struct nc_relay;
int nc_account_export_key(struct nc_relay *r, nc_state *s, const char *addr,
    const char *why, uint8_t export_key[64]) __attribute__((warn_unused_result));

/* A new device of addr in a new state at home (which must hold none),
 * listed by the identity key id rather than the password (a restore from
 * backup): the relay's current list must be signed by id; it gets this
 * device added, signed by id and sent by this device (protocol.md 1.3),
 * prekeys published, the other devices told. *out: the open state. */
int nc_account_join_id(const char *home, const char *addr, const nc_idkey *id,
    nc_state **out) __attribute__((warn_unused_result));

/* This device's keys; NC_ECONFIG while its sign-up has no device list. */
int nc_self_load(nc_state *s, nc_self *self) __attribute__((warn_unused_result));
void nc_self_free(nc_self *self);

/* Keep prekeys invisible: refill one-time prekeys below the threshold and
 * rotate the signed prekey when due. force: ask the relay even if the
 * local bookkeeping says nothing is needed. */
int nc_prekeys_maintain(nc_state *s, nc_self *self, int force)
	__attribute__((warn_unused_result));
/* A restored copy publishes new prekeys (after the relay dropped the
 * one-time prekeys it held): a new signed prekey and NC_OTPK_TARGET
 * one-time prekeys, their ids moved past any the original may have used
 * since (NC_PREKEY_ID_JUMP), so that no id names two secrets. */
#define NC_PREKEY_ID_JUMP 65536
struct nc_relay;
int nc_prekeys_renew(nc_state *s, nc_self *self, struct nc_relay *r)
	__attribute__((warn_unused_result));

#endif
