/* home.h - the device directory NC_HOME and its config file.
 *
 * $NC_HOME/config holds lines of
 *   relay DOMAIN URL     where DOMAIN's relay is (http:// or https://)
 *   cafile PATH          CA certificates for relays (absolute path)
 *   proxy URL            proxy for all requests (NC_PROXY overrides it)
 *   gap-window SECONDS   how long a missing message may be late before it
 *                        is reported (0 .. 604800)
 *   policy log|tofu      how contacts' keys are trusted (below)
 *   first-contact hold|fetch  a message from a sender not known yet (below)
 * plus '#' comment lines and blank lines; anything else is an error. */
#ifndef NC_HOME_H
#define NC_HOME_H

#include <stddef.h>

#define NC_CONFIG_MAXSIZE  (64 * 1024)
#define NC_CONFIG_MAXLINES 1000
#define NC_CONFIG_MAXLINE  2048   /* bytes, without the newline */
#define NC_URL_MAX         1024

/* The NC_HOME path: $NC_HOME, else ${XDG_DATA_HOME:-$HOME/.local/share}/
 * newchat. 0, or NC_ECONFIG (nothing set, relative or too long). */
int nc_home_path(char *out, size_t size) __attribute__((warn_unused_result));

/* nc_home_path, then create the directory mode 0700 (parents too) if it is
 * missing. Refuses (NC_ECONFIG with the reason) a home that is not a
 * directory, not owned by us, or open to group or others. */
int nc_home_open(char *out, size_t size) __attribute__((warn_unused_result));
/* The same checks on an NC_HOME that must exist already (commands that
 * only use an identity never create a directory): NC_ECONFIG "no
 * identity in PATH (run nc-keygen USER@DOMAIN)" when it is missing. */
int nc_home_find(char *out, size_t size) __attribute__((warn_unused_result));

typedef struct nc_config nc_config;

/* Parse config text; name is used in messages ("config:3: reason").
 * 0 with *cfg set, NC_ECONFIG, NC_EOSERR. */
int nc_config_parse(nc_config **cfg, const char *text, size_t len)
	__attribute__((warn_unused_result));
/* Load home/config; a missing file is an empty config. NC_ECONFIG, NC_EIO,
 * NC_EOSERR. NC_PROXY in the environment overrides the proxy line. */
int nc_config_load(nc_config **cfg, const char *home)
	__attribute__((warn_unused_result));
void nc_config_free(nc_config *cfg);

/* The relay base URL configured for domain (no trailing '/'), or NULL. */
const char *nc_config_relay(const nc_config *cfg, const char *domain);
const char *nc_config_cafile(const nc_config *cfg);   /* or NULL */
const char *nc_config_proxy(const nc_config *cfg);    /* or NULL */
long nc_config_gap_window(const nc_config *cfg);      /* or -1 */
/* How a contact's keys are trusted: NC_POLICY_LOG (the default) demands
 * the key log's proof with every fetch from a relay that publishes a log;
 * NC_POLICY_TOFU ("policy tofu": bots, tests of the layer below) takes
 * keys on first use and alarms on changes, as with a relay without a log;
 * NC_POLICY_VERIFIED ("policy verified", the careful) demands the proofs
 * as log does and sends only to contacts whose safety number was compared
 * (nc-keys verify): messages to others are held. */
enum { NC_POLICY_LOG = 1, NC_POLICY_TOFU = 2, NC_POLICY_VERIFIED = 3 };
int nc_config_policy(const nc_config *cfg);
/* The policy's name ("log", "tofu", "verified"). */
const char *nc_policy_name(int policy);
/* The config of home with its policy line replaced by "policy NAME" (other
 * lines as they were); checked by nc_config_parse before it is written. */
int nc_config_set_policy(const char *home, const char *name)
	__attribute__((warn_unused_result));
/* A message from a sender whose device list is not pinned: NC_FIRST_HOLD
 * keeps it unopened, and asks nobody, until the user releases it or
 * writes to the sender (lib/store/held.c): looking the sender up at its
 * domain would tell that domain when, and from where, the user reads.
 * NC_FIRST_FETCH looks it up at once (bots). Not set: hold, unless a
 * proxy is configured (the lookup then goes through it). */
enum { NC_FIRST_HOLD = 1, NC_FIRST_FETCH = 2 };
int nc_config_first_contact(const nc_config *cfg);

#endif
