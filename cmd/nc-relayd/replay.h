/* replay.h - the (device, nonce) pairs of device-signed requests seen
 * recently, so a captured request cannot be sent again inside the time
 * window. */
#ifndef RELAY_REPLAY_H
#define RELAY_REPLAY_H

#include <stddef.h>
#include <stdint.h>

struct replay;

/* Remembers up to max pairs per generation of `window` seconds. */
struct replay *replay_new(size_t max, int64_t window);
void replay_free(struct replay *rp);
/* 0: first sight (now remembered); 1: seen before; -1: table full. */
int replay_check(struct replay *rp, const uint8_t dev[16],
    const uint8_t nonce[16], int64_t now);

#endif
