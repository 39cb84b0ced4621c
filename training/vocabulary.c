/*
 * vocabulary.c - the trainer's choice of input features: every n-gram seen
 * in at least min_df training items, the max_features most frequent kept
 * (ties broken by hash, so the choice is deterministic), each with
 * idf = ln((1 + N) / (1 + df)) + 1; or, with feature hashing, one input per
 * hash bucket. Also keeps each feature's n-gram text for features.tsv.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vocabulary.h"

typedef struct df_entry {
    uint64_t h;
    uint32_t df;
} df_entry;

typedef struct df_table {
    df_entry *e;
    size_t mask, n;
} df_table;

static int df_grow(df_table *t)
{
    size_t cap = t->mask ? (t->mask + 1) * 2 : 1 << 16, i;
    df_entry *e = calloc(cap, sizeof *e);

    if (!e)
        return -1;
    for (i = 0; t->mask && i <= t->mask; i++)
        if (t->e[i].h) {
            size_t j = (size_t)t->e[i].h & (cap - 1);
            while (e[j].h)
                j = (j + 1) & (cap - 1);
            e[j] = t->e[i];
        }
    free(t->e);
    t->e = e;
    t->mask = cap - 1;
    return 0;
}

static int df_add(df_table *t, uint64_t h)
{
    size_t j;

    if ((t->n + 1) * 2 > t->mask + 1 && df_grow(t) < 0)
        return -1;
    j = (size_t)h & t->mask;
    while (t->e[j].h && t->e[j].h != h)
        j = (j + 1) & t->mask;
    if (!t->e[j].h) {
        t->e[j].h = h;
        t->n++;
    }
    t->e[j].df++;
    return 0;
}

int nt_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_df_desc(const void *a, const void *b)
{
    const df_entry *x = a, *y = b;

    if (x->df != y->df)
        return x->df > y->df ? -1 : 1;
    return x->h < y->h ? -1 : x->h > y->h;
}

/* Unique n-gram hashes of a text, into g (sorted). */
static int unique_grams(const nt_feature_config *fc, const char *text,
                        nt_grams *g)
{
    size_t i, m = 0;

    nt_grams_reset(g);
    if (nt_extract_grams(fc, text, strlen(text), 0, g, NULL) < 0)
        return -1;
    qsort(g->h, g->n, sizeof *g->h, nt_cmp_u64);
    for (i = 0; i < g->n; i++)
        if (m == 0 || g->h[i] != g->h[m - 1])
            g->h[m++] = g->h[i];
    g->n = m;
    return 0;
}

typedef struct texts_ctx {
    const nt_vocab *vocab;
    char **texts;
    int oom;
} texts_ctx;

static void remember_text(void *user, uint64_t h, const char *text, size_t len)
{
    texts_ctx *c = user;
    long k = nt_vocab_find(c->vocab, h);

    if (k >= 0 && !c->texts[k] && !(c->texts[k] = strndup(text, len)))
        c->oom = 1;
}

/* Feature hashing: every n-gram maps to hash % buckets; idf per bucket. */
int nt_build_hashed(const nt_feature_config *fc, const newstag_train_options *opt,
                    const newstag_dataset *train, nt_vocab *vocab,
                    char ***gram_texts, newstag_error *err)
{
    size_t B = opt->hash_buckets, i, k, N = train->n;
    uint32_t *df = calloc(B, sizeof *df);
    nt_grams g = {0};
    char name[32];

    if (!df || nt_vocab_init_hashed(vocab, B) < 0 ||
        !((*gram_texts) = calloc(B, sizeof *(*gram_texts)))) {
        free(df);
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
    }
    for (i = 0; i < N; i++) {
        size_t last = (size_t)-1;
        if (unique_grams(fc, train->items[i].text, &g) < 0)
            break;
        for (k = 0; k < g.n; k++)
            g.h[k] %= B;
        qsort(g.h, g.n, sizeof *g.h, nt_cmp_u64);
        for (k = 0; k < g.n; k++)
            if (g.h[k] != last)
                df[last = g.h[k]]++;
    }
    nt_grams_free(&g);
    for (k = 0; k < B; k++) {
        vocab->idf[k] = opt->no_idf ? 1.0f : (float)(log((1.0 + N) / (1.0 + df[k])) + 1.0);
        snprintf(name, sizeof name, "#%zu", k);
        if (!((*gram_texts)[k] = strdup(name))) {
            free(df);
            return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
        }
    }
    vocab->binary_tf = opt->binary_tf;   /* every n-gram has an input */
    free(df);
    return i == N ? 0 : nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
}

/* The n-grams of at least min_df training items, most frequent first. */
static int rank_ngrams(const nt_feature_config *fc, const newstag_train_options *opt,
                       const newstag_dataset *train, df_entry **ranked, size_t *n,
                       newstag_error *err)
{
    df_table df = {0};
    nt_grams g = {0};
    size_t i, k, kept = 0;

    for (i = 0; i < train->n; i++) {
        if (unique_grams(fc, train->items[i].text, &g) < 0)
            goto oom;
        for (k = 0; k < g.n; k++)
            if (df_add(&df, g.h[k]) < 0)
                goto oom;
    }
    nt_grams_free(&g);
    for (i = 0; df.mask && i <= df.mask; i++)
        if (df.e[i].h && df.e[i].df >= opt->min_df)
            df.e[kept++] = df.e[i];
    qsort(df.e, kept, sizeof *df.e, cmp_df_desc);
    *ranked = df.e;
    *n = kept;
    return 0;
oom:
    free(df.e);
    nt_grams_free(&g);
    return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory building the vocabulary");
}

static float idf_of(const newstag_train_options *opt, size_t N, double df)
{
    return opt->no_idf ? 1.0f : (float)(log((1.0 + N) / (1.0 + df)) + 1.0);
}

/* The readable n-gram of every feature, for the features file. */
static int collect_texts(const nt_feature_config *fc, const newstag_dataset *train,
                         const nt_vocab *vocab, char **texts, newstag_error *err)
{
    texts_ctx tc;
    size_t i;

    tc.vocab = vocab, tc.texts = texts, tc.oom = 0;
    for (i = 0; i < train->n && !tc.oom; i++)
        nt_extract_gram_texts(fc, train->items[i].text,
                              strlen(train->items[i].text), remember_text, &tc);
    for (i = 0; i < vocab->size; i++)
        if (!texts[i])
            tc.oom = 1;
    return tc.oom ? nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory") : 0;
}

int nt_build_vocab(const nt_feature_config *fc, const newstag_train_options *opt,
                   const newstag_dataset *train, nt_vocab *vocab,
                   char ***gram_texts, newstag_error *err)
{
    df_entry *ranked = NULL;
    size_t i, kept = 0, N = train->n;

    if (rank_ngrams(fc, opt, train, &ranked, &kept, err) < 0)
        return -1;
    if (kept > opt->max_features)
        kept = opt->max_features;
    if (kept == 0) {
        free(ranked);
        return nt_fail(err, NEWSTAG_ERR_TRAIN,
                       "no n-gram occurs in %u or more training items; add data",
                       opt->min_df);
    }
    if (nt_vocab_init(vocab, kept) < 0) {
        free(ranked);
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory building the vocabulary");
    }
    for (i = 0; i < kept; i++)
        nt_vocab_add(vocab, ranked[i].h, idf_of(opt, N, ranked[i].df));
    /* An unknown n-gram weighs like the rarest n-gram kept, not like the
     * rarest admissible (min_df): the vocabulary is nearly always cut at
     * max_features, far above min_df (docs/features.md, "OOV weight"). */
    if (opt->oov_norm)
        vocab->oov_idf = idf_of(opt, N, ranked[kept - 1].df);
    vocab->binary_tf = opt->binary_tf;
    free(ranked);
    /* readable n-grams for the features file */
    if (!(*gram_texts = calloc(kept, sizeof **gram_texts)))
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
    return collect_texts(fc, train, vocab, *gram_texts, err);
}

