/* replay.h - the (device, nonce) pairs of device-signed requests seen
 * recently, so a captured request cannot be sent again inside the time
 * window. In memory, or in the store when it is shared by many relay
 * processes (store_shared). */
#ifndef RELAY_REPLAY_H
#define RELAY_REPLAY_H

#include <stddef.h>
#include <stdint.h>

struct replay;

/* Remembers up to max pairs per generation of `window` seconds. */
struct replay *replay_new(size_t max, int64_t window);
void replay_free(struct replay *rp);
/* From now on, the pairs every process on store st saw (PostgreSQL). */
struct store;
void replay_share(struct replay *rp, struct store *st);
/* 0: first sight (now remembered); 1: seen before; -1: table full. */
int replay_check(struct replay *rp, const uint8_t dev[16],
    const uint8_t nonce[16], int64_t now);

#endif
