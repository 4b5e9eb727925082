/* syncbackup.h - nc-sync backup, restore, export and import (issue 16
 * item 3; protocol.md 1.9 and 3.6).
 *
 * A random backup root key, kept in the state (secret), wrapped by the
 * OPAQUE export key of the account's password and, when asked, by a
 * recovery code shown once; the wrapped copies sit at the relay under
 * locators only the secret gives. Records: "identity" (the identity key),
 * "config" (NC_HOME/config), "settings" (the relay key and password cost
 * pinned), "meta" (when, which user), "contact/USER" (pinned keys, list and
 * trust) and "hist/N" (messages N*64 .. N*64+63 of the history, both ways)
 * - never sessions, prekeys or device keys: a restore is a new device that
 * starts new sessions. A backup uploads only the records whose content
 * changed since the last one, then a manifest signed by the identity key
 * under a counter that only increases. A restore opens nothing before the
 * manifest's signature, every record's hash and every record's id check. */
#ifndef NC_SYNCBACKUP_H
#define NC_SYNCBACKUP_H

#include <stdint.h>

#include "account.h"
#include "backup.h"
#include "state.h"

#define NC_SYNC_HIST_CHUNK 64          /* messages per history record */
/* An archive (export/import): entries, bytes of one entry, bytes in all. */
#define NC_SYNC_ARCHIVE_ENTRIES (NC_BACKUP_SLOT_ENTRIES + 1)
#define NC_SYNC_ARCHIVE_ENTRY_MAX NC_BACKUP_RECORD_WIRE_MAX
#define NC_SYNC_ARCHIVE_TOTAL_MAX ((uint64_t)1 << 30)

typedef struct {
	int recovery_code;   /* make a new recovery code (the old one stops) */
	int password;        /* wrap again under the password's export key */
} nc_sync_opts;

typedef struct {
	uint64_t counter;
	size_t records, uploaded;
	uint64_t bytes, bytes_uploaded;
	char code[NC_BACKUP_CODE_LEN + 1];   /* a new recovery code, or "" */
} nc_sync_stats;

/* The root key's password slot, wrapped under the export key ek: with
 * create, a new root key when the state has none (an account just made,
 * whose first backup then needs no password: from cron too); without it,
 * the key the state has, wrapped again (after a password change: the
 * next backup stores the slot). Nothing when there is no key and no
 * create. */
int nc_sync_key_wrap(nc_state *s, nc_self *self, const uint8_t ek[64],
    int create) __attribute__((warn_unused_result));
/* 1 once this state has stored a backup (or export). */
int nc_sync_backed_up(nc_state *s);

/* nc-sync backup: to the user's relay. Needs the identity key. */
int nc_sync_backup(nc_state *s, nc_self *self, const nc_sync_opts *o,
    nc_sync_stats *st) __attribute__((warn_unused_result));
/* nc-sync export: the same records, all of them, into one archive file
 * (pax, 0600), through a temporary file renamed at the end. */
int nc_sync_export(nc_state *s, nc_self *self, const nc_sync_opts *o,
    const char *file, nc_sync_stats *st) __attribute__((warn_unused_result));

typedef struct {
	uint64_t counter, time;
	size_t records, contacts, messages;
	char addr[NC_ADDR_MAX + 1];
} nc_sync_restored;

/* nc-sync restore: into home, which must hold no identity. code: the
 * recovery code as typed, or NULL for the password. A manifest below
 * min_counter is refused as a rollback. NC_ESECURITY when the relay's
 * backup was changed (older, a record missing or altered). */
int nc_sync_restore(const char *home, const char *addr, const char *code,
    uint64_t min_counter, nc_sync_restored *out) __attribute__((warn_unused_result));
/* nc-sync import: the same from an archive written by export. */
int nc_sync_import(const char *home, const char *file, const char *code,
    uint64_t min_counter, nc_sync_restored *out) __attribute__((warn_unused_result));

/* Decode a record's data as restore does, writing nothing: 0 or NC_EDATA
 * (every record is checked so before a restore writes anything). */
int nc_sync_record_check(const char *id, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* The sub-commands (cmd/nc-sync.c): argv[0] is the sub-command's name;
 * errors printed; the exit code returned. */
int nc_sync_cmd_backup(int argc, char **argv);
int nc_sync_cmd_restore(int argc, char **argv);
int nc_sync_cmd_export(int argc, char **argv);
int nc_sync_cmd_import(int argc, char **argv);

#endif
