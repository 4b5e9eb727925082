/* attach.h - files in messages (nc-send --attach, nc-recv --save):
 * uploads as nc-media put does, the attachment payload (media.h) that
 * travels as the message's body, and the fetching of the attachments a
 * reader is about to print. */
#ifndef NC_APP_ATTACH_H
#define NC_APP_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "state.h"

#define NC_ATTACH_ARGS 32   /* files in one message (NC_MEDIA_ATTACH_MAX) */

/* Upload files[0..n) (files or directories) to this home's relay, each
 * once whatever the number of recipients, and make the payload naming
 * them with text[0..textlen) (may be empty) in body. progress: a bar on
 * stderr per file. */
int nc_attach_upload(const char *const *files, size_t n, const uint8_t *text,
    size_t textlen, int progress, nc_buf *body)
	__attribute__((warn_unused_result));

/* Fetch, verify and save into dir (nc_media_get's save mode: 0600, a name
 * not taken) every attachment of the received messages whose events come
 * after event seq `after`, that no earlier run saved; where each went is
 * kept for the printing (event.h NC_SAVED_KEY). A file that fails is
 * named on stderr (the message is printed with the way to fetch it); the
 * worst error is returned (NC_ESECURITY first), after trying them all. */
int nc_attach_save(nc_state *s, const char *dir, int64_t after, int progress)
	__attribute__((warn_unused_result));

#endif
