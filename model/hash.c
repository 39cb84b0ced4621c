/*
 * hash.c - hashing: a fast 64-bit hash for n-gram identities, and SHA-256
 * (from nettle) for the checksums that protect model files and record
 * which corpus a model was trained on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <nettle/sha2.h>

#include "internal.h"

/* FNV-1a with a final avalanche (from splitmix64), good for short keys. */
uint64_t nt_hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

static void digest_hex(struct sha256_ctx *ctx, char hex[65])
{
    uint8_t d[SHA256_DIGEST_SIZE];
    int i;

    sha256_digest(ctx, sizeof d, d);
    for (i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

void nt_sha256_hex(const void *data, size_t len, char hex[65])
{
    struct sha256_ctx ctx;

    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    digest_hex(&ctx, hex);
}

int nt_sha256_file(const char *path, char hex[65], size_t *bytes,
                   newstag_error *err)
{
    struct sha256_ctx ctx;
    unsigned char buf[65536];
    size_t n, total = 0;
    FILE *f = fopen(path, "rb");

    if (!f)
        return nt_fail(err, NEWSTAG_ERR_IO, "%s: %s", path, strerror(errno));
    sha256_init(&ctx);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        sha256_update(&ctx, n, buf);
        total += n;
    }
    if (ferror(f)) {
        fclose(f);
        return nt_fail(err, NEWSTAG_ERR_IO, "%s: read error", path);
    }
    fclose(f);
    digest_hex(&ctx, hex);
    if (bytes)
        *bytes = total;
    return 0;
}
