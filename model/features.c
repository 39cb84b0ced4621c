/*
 * features.c - from canonical syllables to a sparse feature vector.
 *
 * Each syllable, and each run of 2..ngram_max syllables inside one segment,
 * is an n-gram. An n-gram's identity is a 64-bit hash of its syllables and
 * its namespace: 'k' for syllables as written (canonical, with diacritics)
 * and 's' for their diacritic-free twins. The vocabulary chosen at training
 * time maps n-gram hashes to network inputs; unknown n-grams are ignored.
 * Values are (1 + log tf) * idf, and the vector is L2-normalized; unknown
 * n-grams take part in the norm with weight oov_idf each (see nt_vectorize).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NGRAM_MAX 3
#define TOKEN_BYTES 256

static uint64_t token_hash(const char *s, size_t n, char ns)
{
    return nt_hash64(s, n, (uint64_t)(unsigned char)ns * 0x9e3779b97f4a7c15ULL);
}

static uint64_t combine(uint64_t a, uint64_t b)
{
    return nt_hash64(&b, sizeof b, a);
}

/* One namespace's recent tokens, for building n-grams. */
typedef struct ring {
    uint64_t h[NGRAM_MAX];
    char text[NGRAM_MAX][TOKEN_BYTES];
    size_t len[NGRAM_MAX];
    int count;                  /* tokens seen in this segment (capped) */
} ring;

typedef void (*emit_fn)(void *user, uint64_t h, const ring *r, int n,
                        char ns);

typedef struct walker {
    const nt_feature_config *cfg;
    ring keep, strip;
    emit_fn emit;
    void *user;
    int want_text;              /* keep token texts (vocabulary building) */
} walker;

static void ring_push(walker *w, ring *r, const char *tok, size_t len,
                      char ns)
{
    int n, k, max = (int)w->cfg->ngram_max;
    uint64_t h;

    if (len >= TOKEN_BYTES)
        len = TOKEN_BYTES - 1;
    memmove(r->h + 1, r->h, sizeof r->h[0] * (NGRAM_MAX - 1));
    r->h[0] = token_hash(tok, len, ns);
    if (w->want_text) {
        memmove(r->len + 1, r->len, sizeof r->len[0] * (NGRAM_MAX - 1));
        memmove(r->text[1], r->text[0], sizeof r->text[0] * (NGRAM_MAX - 1));
        memcpy(r->text[0], tok, len);
        r->text[0][len] = '\0';
        r->len[0] = len;
    }
    if (r->count < NGRAM_MAX)
        r->count++;
    /* ring slot 0 is the newest token; an n-gram is slots n-1 .. 0 */
    for (n = 1; n <= max && n <= r->count; n++) {
        h = r->h[n - 1];
        for (k = n - 2; k >= 0; k--)
            h = combine(h, r->h[k]);
        w->emit(w->user, h ? h : 1, r, n, ns);
    }
}

static void on_token(void *user, const char *keep, size_t keep_len,
                     const char *strip, size_t strip_len)
{
    walker *w = user;
    int accents = w->cfg->accents;

    if (!keep) {
        w->keep.count = 0;
        w->strip.count = 0;
        return;
    }
    if (accents == NEWSTAG_ACCENTS_KEEP || accents == NEWSTAG_ACCENTS_BOTH)
        ring_push(w, &w->keep, keep, keep_len, 'k');
    if (accents == NEWSTAG_ACCENTS_STRIP || accents == NEWSTAG_ACCENTS_BOTH)
        ring_push(w, &w->strip, strip, strip_len, 's');
}

static void walk(const nt_feature_config *cfg, const char *text, size_t len,
                 size_t max_bytes, emit_fn emit, void *user, int want_text,
                 newstag_text_stats *stats)
{
    walker w;

    w.keep.count = w.strip.count = 0;
    w.want_text = want_text;
    w.cfg = cfg;
    w.emit = emit;
    w.user = user;
    nt_tokenize(text, len, max_bytes, cfg->accents != NEWSTAG_ACCENTS_KEEP,
                cfg->unify_iy,
                on_token, &w, stats);
}

/* ---- n-gram hashes ------------------------------------------------------ */

void nt_grams_reset(nt_grams *g)
{
    g->n = 0;
    g->oom = 0;
}

void nt_grams_free(nt_grams *g)
{
    free(g->h);
    free(g->id);
    memset(g, 0, sizeof *g);
}

static void emit_hash(void *user, uint64_t h, const ring *r, int n, char ns)
{
    nt_grams *g = user;

    (void)r, (void)n, (void)ns;
    if (g->oom)
        return;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        uint64_t *p = realloc(g->h, cap * sizeof *p);
        if (!p) {
            g->oom = 1;
            return;
        }
        g->h = p;
        g->cap = cap;
    }
    g->h[g->n++] = h;
}

int nt_extract_grams(const nt_feature_config *cfg, const char *text,
                     size_t len, size_t max_bytes, nt_grams *g,
                     newstag_text_stats *stats)
{
    walk(cfg, text, len, max_bytes, emit_hash, g, 0, stats);
    return g->oom ? -1 : 0;
}

/* ---- n-gram texts (for the vocabulary file) ----------------------------- */

typedef struct text_emit {
    nt_gram_text_fn fn;
    void *user;
} text_emit;

static void emit_text(void *user, uint64_t h, const ring *r, int n, char ns)
{
    text_emit *te = user;
    char buf[2 + NGRAM_MAX * TOKEN_BYTES];
    size_t len = 0;
    int k;

    buf[len++] = ns;
    buf[len++] = ':';
    for (k = n - 1; k >= 0; k--) {
        memcpy(buf + len, r->text[k], r->len[k]);
        len += r->len[k];
        if (k > 0)
            buf[len++] = ' ';
    }
    te->fn(te->user, h, buf, len);
}

void nt_extract_gram_texts(const nt_feature_config *cfg, const char *text,
                           size_t len, nt_gram_text_fn fn, void *user)
{
    text_emit te = {fn, user};

    walk(cfg, text, len, 0, emit_text, &te, 1, NULL);
}

/* Hash of an n-gram written as "k:ngân sách" (the vocabulary file form). */
uint64_t nt_gram_hash_text(const char *gram, size_t len)
{
    const char *p, *end = gram + len, *sp;
    uint64_t h = 0;
    char ns;
    int first = 1;

    if (len < 3 || gram[1] != ':')
        return 0;
    ns = gram[0];
    for (p = gram + 2; p < end; p = sp + 1) {
        uint64_t th;
        sp = memchr(p, ' ', (size_t)(end - p));
        if (!sp)
            sp = end;
        th = token_hash(p, (size_t)(sp - p), ns);
        h = first ? th : combine(h, th);
        first = 0;
    }
    return h ? h : 1;
}

/* ---- vocabulary ---------------------------------------------------------- */

int nt_vocab_init(nt_vocab *v, size_t expected)
{
    size_t cap = 16;

    memset(v, 0, sizeof *v);
    while (cap < expected * 2 + 1)
        cap <<= 1;
    v->keys = calloc(cap, sizeof *v->keys);
    v->vals = calloc(cap, sizeof *v->vals);
    v->idf = calloc(expected ? expected : 1, sizeof *v->idf);
    if (!v->keys || !v->vals || !v->idf) {
        nt_vocab_free(v);
        return -1;
    }
    v->mask = cap - 1;
    return 0;
}

void nt_vocab_free(nt_vocab *v)
{
    free(v->keys);
    free(v->vals);
    free(v->idf);
    memset(v, 0, sizeof *v);
}

/* Adds h (must fit: nt_vocab_init sized it). Returns its index or -1. */
int nt_vocab_add(nt_vocab *v, uint64_t h, float idf)
{
    size_t i = (size_t)h & v->mask;

    if (!v->keys || v->size * 2 + 1 > v->mask + 1)
        return -1;
    while (v->keys[i]) {
        if (v->keys[i] == h)
            return -1;                   /* duplicate */
        i = (i + 1) & v->mask;
    }
    v->keys[i] = h;
    v->vals[i] = (uint32_t)v->size;
    v->idf[v->size] = idf;
    return (int)v->size++;
}

int nt_vocab_init_hashed(nt_vocab *v, size_t buckets)
{
    memset(v, 0, sizeof *v);
    v->idf = calloc(buckets ? buckets : 1, sizeof *v->idf);
    if (!v->idf)
        return -1;
    v->hash_buckets = v->size = buckets;
    return 0;
}

long nt_vocab_find(const nt_vocab *v, uint64_t h)
{
    size_t i = (size_t)h & v->mask;

    if (v->hash_buckets)
        return (long)(h % v->hash_buckets);
    while (v->keys[i]) {
        if (v->keys[i] == h)
            return (long)v->vals[i];
        i = (i + 1) & v->mask;
    }
    return -1;
}

/* ---- vectorizing ---------------------------------------------------------- */

static int sparse_reserve(nt_sparse *s, size_t n)
{
    uint32_t *idx;
    float *val;

    if (n <= s->cap)
        return 0;
    idx = realloc(s->idx, n * sizeof *idx);
    if (!idx)
        return -1;
    s->idx = idx;
    val = realloc(s->val, n * sizeof *val);
    if (!val)
        return -1;
    s->val = val;
    s->cap = n;
    return 0;
}

void nt_sparse_free(nt_sparse *s)
{
    free(s->idx);
    free(s->val);
    free(s->acc);
    memset(s, 0, sizeof *s);
}

int nt_grams_lookup(const nt_vocab *v, nt_grams *g)
{
    size_t i;

    if (g->id_cap < g->n) {
        int32_t *id = realloc(g->id, g->n * sizeof *id);
        if (!id)
            return -1;
        g->id = id;
        g->id_cap = g->n;
    }
    for (i = 0; i < g->n; i++)
        g->id[i] = (int32_t)nt_vocab_find(v, g->h[i]);
    return 0;
}

int nt_vectorize(const nt_vocab *v, nt_grams *g, nt_sparse *out)
{
    if (nt_grams_lookup(v, g) < 0)
        return -1;
    return nt_vectorize_range(v, g, 0, g->n, out);
}

/*
 * Count each known n-gram of [from, to) in s->acc (one slot per input, all
 * zero between calls), list the inputs in order of first occurrence, then
 * weight and normalize. No sorting: the order is fixed by the text, so
 * equal texts give equal vectors.
 */
int nt_vectorize_range(const nt_vocab *v, const nt_grams *g, size_t from,
                       size_t to, nt_sparse *out)
{
    size_t i, m = 0, unknown = 0;
    double norm = 0;

    out->n = 0;
    if (sparse_reserve(out, to > from ? to - from : 1) < 0)
        return -1;
    if (out->acc_size != v->size) {
        free(out->acc);
        out->acc = calloc(v->size ? v->size : 1, sizeof *out->acc);
        out->acc_size = out->acc ? v->size : 0;
        if (!out->acc)
            return -1;
    }
    for (i = from; i < to; i++) {
        long k = g->id[i];
        if (k < 0) {
            unknown++;
        } else {
            if (out->acc[k] == 0)
                out->idx[m++] = (uint32_t)k;
            out->acc[k] += 1;
        }
    }
    for (i = 0; i < m; i++) {
        uint32_t k = out->idx[i];
        float w = (v->binary_tf ? 1.0f : 1.0f + logf(out->acc[k])) * v->idf[k];
        out->acc[k] = 0;
        out->val[i] = w;
        norm += (double)w * w;
    }
    out->n = m;
    /* Unknown n-grams count in the norm: text the model knows little of
     * gets a weak vector instead of an inflated one. */
    norm += (double)unknown * v->oov_idf * v->oov_idf;
    if (norm > 0) {
        float inv = (float)(1.0 / sqrt(norm));
        for (i = 0; i < out->n; i++)
            out->val[i] *= inv;
    }
    return 0;
}

int nt_sparse_copy(nt_sparse *dst, const nt_sparse *src)
{
    memset(dst, 0, sizeof *dst);
    if (sparse_reserve(dst, src->n ? src->n : 1) < 0) {
        nt_sparse_free(dst);
        return -1;
    }
    memcpy(dst->idx, src->idx, src->n * sizeof *dst->idx);
    memcpy(dst->val, src->val, src->n * sizeof *dst->val);
    dst->n = src->n;
    return 0;
}
