/* media.h - encrypted files at capability links (share/doc/protocol-media.md):
 * the link syntax, the file header, chunking and Padmé padding, and the
 * attachment payload a message carries. Pure: the caller moves the bytes.
 *
 * A file is one crypto_secretstream_xchacha20poly1305 stream under a random
 * 32-byte key: a 24-byte stream header, then chunks of exactly
 * NC_MEDIA_CHUNK plaintext bytes (NC_MEDIA_CHUNK + 17 ciphertext bytes),
 * the last one shorter or equal and tagged FINAL. The plaintext is the
 * content, zero padding, and the file header (name, type, size) at its
 * end, so a stream of unknown length can be encrypted in one pass; its
 * length is padme(size + header length). The link carries, beside the
 * key, the BLAKE2b-256 of the stream header and of every chunk's 17
 * authentication bytes (its first byte, the encrypted tag, and its last
 * 16, the MAC), in order: computed in the same pass as the encryption. */
#ifndef NC_MEDIA_H
#define NC_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "buf.h"

#define NC_MEDIA_CHUNK     65536
#define NC_MEDIA_ABYTES    crypto_secretstream_xchacha20poly1305_ABYTES    /* 17 */
#define NC_MEDIA_HDRBYTES  crypto_secretstream_xchacha20poly1305_HEADERBYTES /* 24 */
#define NC_MEDIA_CTCHUNK   (NC_MEDIA_CHUNK + NC_MEDIA_ABYTES)
#define NC_MEDIA_NAME_MAX  255
#define NC_MEDIA_TYPE_MAX  127
/* The file header's largest encoding (the decoder holds this much back). */
#define NC_MEDIA_META_MAX  (1 + 1 + 8 + 2 + NC_MEDIA_NAME_MAX + 2 + NC_MEDIA_TYPE_MAX + 2)
#define NC_MEDIA_URL_MAX   2048   /* the link without its fragment */
#define NC_MEDIA_LINK_MAX  (NC_MEDIA_URL_MAX + 160)
#define NC_MEDIA_SIZE_MAX  ((uint64_t)1 << 50)   /* content bytes */

enum { NC_MEDIA_FILE = 0, NC_MEDIA_DIR = 1 };   /* kind: a file, a tar archive */

/* The file header (at the end of the plaintext):
 *   u8 1, u8 kind, u64 size, str name (1..255 bytes), str type (0..127),
 *   u16 length of the whole header, these two bytes included.
 * name: valid UTF-8, no '/', no control character, not "." or "..";
 * type: printable ASCII without spaces ("image/png"). */
typedef struct {
	uint8_t kind;
	uint64_t size;                    /* exact content bytes */
	char name[NC_MEDIA_NAME_MAX + 1];
	char type[NC_MEDIA_TYPE_MAX + 1];
} nc_media_meta;

/* 1 if name / type may appear in a header. */
int nc_media_name_ok(const char *name);
int nc_media_type_ok(const char *type);
/* Encode m (appended to out); NC_EDATA for a bad name or type. */
int nc_media_meta_enc(nc_buf *out, const nc_media_meta *m)
	__attribute__((warn_unused_result));
/* Decode exactly p[0..n); NC_EDATA unless it is one well-formed header. */
int nc_media_meta_dec(nc_media_meta *m, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));

/* Padmé (Nikitin et al., PETS 2019): L rounded up so that at most
 * O(log log L) low bits vary; at most 12% more. padme(0) = 0. */
uint64_t nc_media_padme(uint64_t len);
/* Ciphertext bytes for a plaintext (content + padding + header) of p. */
uint64_t nc_media_ctsize(uint64_t p);

/* The link's hash of a whole ciphertext ct[0..n) in memory (what the
 * encryptor computes as it goes; for tests and tools). */
void nc_media_hash(uint8_t out[32], const uint8_t *ct, size_t n);

/* Output of the encryptor and decryptor: 0 to go on, else an nc_err that
 * the call returns. */
typedef int (*nc_media_sink)(void *ctx, const uint8_t *p, size_t n);

typedef struct {
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_generichash_state h;
	uint8_t *buf;          /* 1 + NC_MEDIA_CTCHUNK (sodium_malloc) */
	size_t fill;           /* plaintext bytes waiting in buf + 1 */
	uint64_t size;         /* content bytes pushed */
	uint64_t ctlen;        /* ciphertext bytes produced */
	int err;               /* the sink's last error */
	nc_media_sink out;
	void *ctx;
} nc_media_enc;

/* Emits the stream header. */
int nc_media_enc_init(nc_media_enc *e, const uint8_t key[32],
    nc_media_sink out, void *ctx) __attribute__((warn_unused_result));
int nc_media_enc_push(nc_media_enc *e, const void *p, size_t n)
	__attribute__((warn_unused_result));
/* Where the next plaintext may be written in place (*room bytes), and
 * how much was: spares a copy to a caller that reads a file. */
uint8_t *nc_media_enc_space(nc_media_enc *e, size_t *room);
int nc_media_enc_commit(nc_media_enc *e, size_t n)
	__attribute__((warn_unused_result));
/* Pads, appends the header (m->size is set from what was pushed) and the
 * final tag; the ciphertext's hash into hash. */
int nc_media_enc_final(nc_media_enc *e, nc_media_meta *m, uint8_t hash[32])
	__attribute__((warn_unused_result));
/* The final chunk of what was pushed, nothing added (nc_media_enc_final
 * ends with it; tests make hostile files with it). */
int nc_media_enc_close(nc_media_enc *e, uint8_t hash[32])
	__attribute__((warn_unused_result));
void nc_media_enc_free(nc_media_enc *e);

typedef struct {
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_generichash_state h;
	uint8_t key[32];
	uint8_t *ct;           /* one ciphertext chunk being gathered */
	size_t ctfill;
	uint8_t *pt;           /* NC_MEDIA_META_MAX held back + one chunk */
	size_t held;           /* plaintext held back (the header may be in it) */
	uint8_t hdr[NC_MEDIA_HDRBYTES];
	size_t hdrfill;
	int started, final;
	uint64_t ctin;         /* ciphertext bytes fed */
	uint64_t ptout;        /* plaintext bytes emitted */
	uint64_t nzend;        /* emitted bytes up to the last non-zero one */
	nc_media_sink out;
	void *ctx;
} nc_media_dec;

/* The decryptor emits content and padding (all the plaintext but the
 * header); nc_media_dec_end then says how much of it is content. Nothing
 * emitted may be used before nc_media_dec_end returns 0. */
int nc_media_dec_init(nc_media_dec *d, const uint8_t key[32],
    nc_media_sink out, void *ctx) __attribute__((warn_unused_result));
/* NC_ESECURITY for a chunk that does not authenticate or bytes after the
 * final chunk. */
int nc_media_dec_feed(nc_media_dec *d, const uint8_t *p, size_t n)
	__attribute__((warn_unused_result));
/* At the end of the ciphertext: NC_ESECURITY unless the final chunk came,
 * the ciphertext's hash is hash, the header is well formed, the padding
 * is zeros of exactly padme's length. m: the header. */
int nc_media_dec_end(nc_media_dec *d, const uint8_t hash[32], nc_media_meta *m)
	__attribute__((warn_unused_result));
void nc_media_dec_free(nc_media_dec *d);

/* A link: URL "/v1/blobs/" 64-hex-id "#k=" 64-hex-key "&h=" 64-hex-hash
 * "&n=" ciphertext-bytes; the URL http:// or https://, without query,
 * fragment, spaces or control characters. The fragment never leaves the
 * client. */
typedef struct {
	char url[NC_MEDIA_URL_MAX + 1];   /* the blob's URL, no fragment */
	char base[NC_MEDIA_URL_MAX + 1];  /* the relay: url minus /v1/blobs/id */
	uint8_t id[32], key[32], hash[32];
	uint64_t ctsize;
} nc_media_link;

int nc_media_link_parse(nc_media_link *l, const char *s)
	__attribute__((warn_unused_result));
/* From base, id, key, hash, ctsize: fills url and writes the link. */
int nc_media_link_make(nc_media_link *l, char *out, size_t max)
	__attribute__((warn_unused_result));

/* The attachment payload: the body of a message with files (payload
 * type 5, NC_PL_FILES; protocol.md 2.11):
 *   u8 1, u8 n (1..NC_MEDIA_ATTACH_MAX),
 *   n x { str link, str name, str type, u64 size },
 *   bytes text (UTF-8, 0..NC_MEDIA_TEXT_MAX bytes)
 * name, type and size repeat the file's header so a reader can show
 * them before fetching; the header fetched is what counts. */
#define NC_MEDIA_ATTACH_MAX 32
#define NC_MEDIA_TEXT_MAX   65536
typedef struct {
	char link[NC_MEDIA_LINK_MAX + 1];
	char name[NC_MEDIA_NAME_MAX + 1];
	char type[NC_MEDIA_TYPE_MAX + 1];
	uint64_t size;
} nc_media_attach;

int nc_media_attach_enc(nc_buf *out, const nc_media_attach *a, size_t n,
    const uint8_t *text, size_t textlen) __attribute__((warn_unused_result));
/* a: room for NC_MEDIA_ATTACH_MAX; every link must parse, the text be
 * UTF-8. *text points into p ("" when empty). */
int nc_media_attach_dec(nc_media_attach *a, size_t *n, const uint8_t **text,
    size_t *textlen, const uint8_t *p, size_t len)
	__attribute__((warn_unused_result));
/* 1 if p is an attachment payload as stored (a message with files in a
 * history that travels: a link, a backup). */
int nc_media_attach_ok(const uint8_t *p, size_t len);

#endif
