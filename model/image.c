/*
 * image.c - network.bin, a binary image of a model's weights and
 * vocabulary that is mapped into memory instead of parsed.
 *
 * The FANN .net file and features.tsv stay the source of truth. The image
 * is derived from them: its header records the SHA-256 the manifest gives
 * for each, and the size and modification time each file had, and a SHA-256
 * of the image body protects the image itself. A process that finds a
 * matching image maps it (read-only, so every process shares the same
 * pages) and skips parsing text; otherwise the model is read from its text
 * files as usual and a fresh image is written next to them when the
 * directory is writable (a temporary file renamed into place).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "internal.h"

#define IMAGE_NAME "network.bin"
#define IMAGE_MAGIC "NTIMAGE3"
#define ALIGN 64
#define NUM_ARRAYS 8                     /* off_w1 .. off_w3 */

typedef struct file_stamp {
    uint64_t size;
    int64_t mtime_sec, mtime_nsec;
    char sha256[65];
    char pad[7];
} file_stamp;

typedef struct image_header {
    char magic[8];
    uint32_t header_size, endian;        /* endian: 0x01020304 */
    uint64_t file_size;
    file_stamp network, features;        /* the sources it was made from */
    uint32_t inputs, hidden, outputs, ngram_max;
    float steep_hidden, steep_output, oov_idf;
    uint32_t binary_tf, shortcut;        /* shortcut: w3 is present */
    uint64_t vocab_slots, vocab_size, hash_buckets;
    uint64_t off_w1, off_b1, off_w2, off_b2, off_keys, off_vals, off_idf, off_w3;
    uint8_t body_sha256[32];             /* of bytes [header_size, file_size) */
} image_header;

static int stamp_of(const char *dir, const char *name, file_stamp *s)
{
    char path[4096];
    struct stat st;

    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
        stat(path, &st) != 0)
        return -1;
    s->size = (uint64_t)st.st_size;
    s->mtime_sec = (int64_t)st.st_mtim.tv_sec;
    s->mtime_nsec = (int64_t)st.st_mtim.tv_nsec;
    return 0;
}

static size_t align_up(size_t n)
{
    return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

/* ---- writing ------------------------------------------------------------ */

int nt_image_write(const char *dir, const struct newstag_model *m,
                   const char *net_sha, const char *feat_sha)
{
    const nt_weights *w = &m->weights;
    const nt_vocab *v = &m->vocab;
    size_t slots = v->hash_buckets ? 0 : v->mask + 1;
    size_t sizes[NUM_ARRAYS] = {
        (size_t)w->inputs * w->hidden * sizeof(float), w->hidden * sizeof(float),
        (size_t)w->hidden * w->outputs * sizeof(float), w->outputs * sizeof(float),
        slots * sizeof(uint64_t), slots * sizeof(uint32_t), v->size * sizeof(float),
        w->w3 ? (size_t)w->inputs * w->outputs * sizeof(float) : 0};
    const void *src[NUM_ARRAYS] = {w->w1, w->b1, w->w2, w->b2, v->keys, v->vals,
                                   v->idf, w->w3};
    uint64_t *offs;
    image_header h;
    size_t total = align_up(sizeof h), i;
    char *buf, tmp[4096], final[4096];
    struct sha256_ctx ctx;
    int fd, rc = -1;

    memset(&h, 0, sizeof h);
    offs = &h.off_w1;
    for (i = 0; i < NUM_ARRAYS; i++) {
        offs[i] = total;
        total = align_up(total + sizes[i]);
    }
    if (!(buf = calloc(1, total)))
        return -1;
    memcpy(h.magic, IMAGE_MAGIC, 8);
    h.header_size = (uint32_t)align_up(sizeof h);
    h.endian = 0x01020304;
    h.file_size = total;
    if (stamp_of(dir, "network.net", &h.network) < 0 ||
        stamp_of(dir, "features.tsv", &h.features) < 0) {
        free(buf);
        return -1;
    }
    snprintf(h.network.sha256, sizeof h.network.sha256, "%s", net_sha);
    snprintf(h.features.sha256, sizeof h.features.sha256, "%s", feat_sha);
    h.inputs = w->inputs, h.hidden = w->hidden, h.outputs = w->outputs;
    h.ngram_max = m->features.ngram_max;
    h.steep_hidden = w->steep_hidden, h.steep_output = w->steep_output;
    h.oov_idf = v->oov_idf;
    h.binary_tf = (uint32_t)v->binary_tf;
    h.shortcut = w->w3 != NULL;
    h.vocab_slots = slots, h.vocab_size = v->size, h.hash_buckets = v->hash_buckets;
    for (i = 0; i < NUM_ARRAYS; i++)
        if (sizes[i])
            memcpy(buf + offs[i], src[i], sizes[i]);
    sha256_init(&ctx);
    sha256_update(&ctx, total - h.header_size, (const uint8_t *)buf + h.header_size);
    sha256_digest(&ctx, sizeof h.body_sha256, h.body_sha256);
    memcpy(buf, &h, sizeof h);
    snprintf(final, sizeof final, "%s/%s", dir, IMAGE_NAME);
    if (snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, IMAGE_NAME) < (int)sizeof tmp &&
        (fd = mkstemp(tmp)) >= 0) {
        size_t done = 0;
        while (done < total) {
            ssize_t n = write(fd, buf + done, total - done);
            if (n <= 0)
                break;
            done += (size_t)n;
        }
        if (done == total && fchmod(fd, 0644) == 0 && close(fd) == 0 &&
            rename(tmp, final) == 0)
            rc = 0;
        else
            unlink(tmp);
        if (rc != 0 && done != total)
            close(fd);
    }
    free(buf);
    return rc;
}

/* ---- mapping ----------------------------------------------------------- */

static int stamp_matches(const char *dir, const char *name, const file_stamp *s,
                         const char *want_sha)
{
    file_stamp now;

    return stamp_of(dir, name, &now) == 0 && now.size == s->size &&
           now.mtime_sec == s->mtime_sec && now.mtime_nsec == s->mtime_nsec &&
           memchr(s->sha256, '\0', sizeof s->sha256) && strcmp(s->sha256, want_sha) == 0;
}

static int header_sane(const image_header *h, size_t len)
{
    const uint64_t *offs = &h->off_w1;
    uint64_t need[NUM_ARRAYS];
    int i;

    if (len < sizeof *h || memcmp(h->magic, IMAGE_MAGIC, 8) != 0 ||
        h->endian != 0x01020304 || h->file_size != len || h->header_size < sizeof *h ||
        h->header_size > len || h->inputs == 0 || h->hidden == 0 || h->outputs == 0 ||
        h->outputs > NEWSTAG_MAX_LABELS || h->hidden > 4096 || h->inputs > 10000000 ||
        h->vocab_size != h->inputs || h->vocab_slots > (1ULL << 32) ||
        (h->vocab_slots & (h->vocab_slots - 1)) != 0 ||
        (h->hash_buckets ? h->vocab_slots != 0 : h->vocab_slots < 2 * h->vocab_size))
        return 0;
    need[0] = (uint64_t)h->inputs * h->hidden * 4;
    need[1] = (uint64_t)h->hidden * 4;
    need[2] = (uint64_t)h->hidden * h->outputs * 4;
    need[3] = (uint64_t)h->outputs * 4;
    need[4] = h->vocab_slots * 8;
    need[5] = h->vocab_slots * 4;
    need[6] = h->vocab_size * 4;
    need[7] = h->shortcut ? (uint64_t)h->inputs * h->outputs * 4 : 0;
    if (h->shortcut > 1)
        return 0;
    for (i = 0; i < NUM_ARRAYS; i++)
        if (offs[i] % ALIGN || offs[i] < h->header_size || offs[i] > len ||
            need[i] > len - offs[i])
            return 0;
    return 1;
}

/*
 * Map dir/network.bin when it was made from exactly the files the manifest
 * lists (net_sha, feat_sha) and they have not changed since. Returns 1 and
 * fills m (weights, vocabulary, mapping), or 0 when there is no usable image.
 */
int nt_image_map(const char *dir, struct newstag_model *m, const char *net_sha,
                 const char *feat_sha)
{
    char path[4096];
    struct stat st;
    const image_header *h;
    uint8_t digest[32];
    struct sha256_ctx ctx;
    void *map;
    int fd;

    if (snprintf(path, sizeof path, "%s/%s", dir, IMAGE_NAME) >= (int)sizeof path ||
        (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof *h) {
        close(fd);
        return 0;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return 0;
    h = map;
    if (!header_sane(h, (size_t)st.st_size) ||
        !stamp_matches(dir, "network.net", &h->network, net_sha) ||
        !stamp_matches(dir, "features.tsv", &h->features, feat_sha) ||
        h->vocab_size != m->vocab.size || h->outputs != m->num_labels ||
        h->ngram_max != m->features.ngram_max)
        goto stale;
    sha256_init(&ctx);
    sha256_update(&ctx, h->file_size - h->header_size, (const uint8_t *)map + h->header_size);
    sha256_digest(&ctx, sizeof digest, digest);
    if (memcmp(digest, h->body_sha256, sizeof digest) != 0)
        goto stale;
    m->map = map;
    m->map_len = (size_t)st.st_size;
    m->weights.inputs = h->inputs, m->weights.hidden = h->hidden;
    m->weights.outputs = h->outputs;
    m->weights.steep_hidden = h->steep_hidden, m->weights.steep_output = h->steep_output;
    m->weights.w1 = (float *)((char *)map + h->off_w1);
    m->weights.b1 = (float *)((char *)map + h->off_b1);
    m->weights.w2 = (float *)((char *)map + h->off_w2);
    m->weights.b2 = (float *)((char *)map + h->off_b2);
    m->weights.w3 = h->shortcut ? (float *)((char *)map + h->off_w3) : NULL;
    m->vocab.keys = h->vocab_slots ? (uint64_t *)((char *)map + h->off_keys) : NULL;
    m->vocab.vals = h->vocab_slots ? (uint32_t *)((char *)map + h->off_vals) : NULL;
    m->vocab.mask = h->vocab_slots ? h->vocab_slots - 1 : 0;
    m->vocab.idf = (float *)((char *)map + h->off_idf);
    m->vocab.oov_idf = h->oov_idf;
    m->vocab.hash_buckets = h->hash_buckets;
    m->vocab.binary_tf = (int)h->binary_tf;
    return 1;
stale:
    munmap(map, (size_t)st.st_size);
    return 0;
}

void nt_image_unmap(struct newstag_model *m)
{
    if (m->map)
        munmap(m->map, m->map_len);
    m->map = NULL;
}
