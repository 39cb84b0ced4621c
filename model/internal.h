/*
 * internal.h - declarations shared by the files of libnewstag.
 * Nothing here is part of the public API.
 */
#ifndef NEWSTAG_INTERNAL_H
#define NEWSTAG_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "newstag.h"

#if defined(__GNUC__)
#define NT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NT_PRINTF(a, b)
#endif

/* errors.c */
int nt_fail(newstag_error *err, newstag_code code, const char *fmt, ...)
    NT_PRINTF(3, 4);
void nt_clear(newstag_error *err);

/* ---- normalize.c: text -> canonical syllable tokens ------------------- */

/*
 * Called once per token. `keep` is the canonical (case-folded, NFC,
 * canonical tone placement; with `unify_iy`, a lone final y after consonants
 * written as i) syllable, `strip` the same without diacritics
 * (only when stripping was requested, else NULL). A segment boundary
 * (sentence or clause break) is signalled with keep == NULL.
 */
typedef void (*nt_token_fn)(void *user, const char *keep, size_t keep_len,
                            const char *strip, size_t strip_len);

void nt_tokenize(const char *text, size_t len, size_t max_bytes,
                 int want_strip, int unify_iy, nt_token_fn fn, void *user,
                 newstag_text_stats *stats);

/* newstag_normalize with choices: unify_iy as a model's features.spelling
 * says (newstag_normalize: 1), and reference != 0 asks utf8proc for every
 * character instead of using the build-time tables (tests). */
char *nt_normalize_impl(const char *text, size_t len, int strip_accents,
                        int unify_iy, newstag_text_stats *stats,
                        newstag_error *err, int reference);

/* ---- hash.c ---------------------------------------------------------- */
uint64_t nt_hash64(const void *data, size_t len, uint64_t seed);
void nt_sha256_hex(const void *data, size_t len, char hex[65]);
int nt_sha256_file(const char *path, char hex[65], size_t *bytes,
                   newstag_error *err);

/* ---- features.c: tokens -> sparse weighted n-gram vector ------------- */

typedef struct nt_feature_config {
    unsigned ngram_max;  /* 1..3 */
    int accents;         /* NEWSTAG_ACCENTS_* */
    unsigned window;     /* syllables per window of a long text; 0: none */
    int unify_iy;        /* tỷ and tỉ give one feature (manifest "spelling") */
} nt_feature_config;

/* A sparse vector: unique indices (in order of first occurrence) with
 * values, plus the counting scratch nt_vectorize needs. */
typedef struct nt_sparse {
    uint32_t *idx;
    float *val;
    size_t n, cap;
    float *acc;          /* one zeroed slot per input */
    size_t acc_size;
} nt_sparse;

/* Raw n-gram hashes of one text (before vocabulary lookup). */
typedef struct nt_grams {
    uint64_t *h;
    size_t n, cap;
    int oom;
    int32_t *id;         /* after nt_grams_lookup: input index, or -1 */
    size_t id_cap;
} nt_grams;

void nt_grams_reset(nt_grams *g);
void nt_grams_free(nt_grams *g);
/* Extract n-gram hashes of text into g (appends). Returns -1 on OOM. */
int nt_extract_grams(const nt_feature_config *cfg, const char *text,
                     size_t len, size_t max_bytes, nt_grams *g,
                     newstag_text_stats *stats);
/* Human-readable n-grams (for the vocabulary file); calls fn per n-gram. */
typedef void (*nt_gram_text_fn)(void *user, uint64_t h, const char *text,
                                size_t len);
void nt_extract_gram_texts(const nt_feature_config *cfg, const char *text,
                           size_t len, nt_gram_text_fn fn, void *user);
uint64_t nt_gram_hash_text(const char *gram, size_t len);

/* Vocabulary: n-gram hash -> input index, plus per-input idf weight. */
typedef struct nt_vocab {
    uint64_t *keys;    /* open addressing table, 0 = empty */
    uint32_t *vals;
    size_t mask;
    size_t size;       /* number of features */
    float *idf;        /* size entries */
    float oov_idf;     /* weight of an unknown n-gram in the norm (0: none) */
    size_t hash_buckets; /* > 0: feature hashing, input = hash % buckets */
    int binary_tf;     /* term frequency counts once (presence), not 1+log tf */
} nt_vocab;

/* Feature hashing instead of a vocabulary: `buckets` inputs, idf per bucket. */
int nt_vocab_init_hashed(nt_vocab *v, size_t buckets);

int nt_vocab_init(nt_vocab *v, size_t expected);
void nt_vocab_free(nt_vocab *v);
int nt_vocab_add(nt_vocab *v, uint64_t h, float idf);  /* returns index or -1 */
long nt_vocab_find(const nt_vocab *v, uint64_t h);

/* Map grams to a weighted, L2-normalized sparse vector. */
int nt_vectorize(const nt_vocab *v, nt_grams *g, nt_sparse *out);
/* The same in two steps, for vectors of parts of a text: look every gram
 * up once, then vectorize the grams [from, to). */
int nt_grams_lookup(const nt_vocab *v, nt_grams *g);
int nt_vectorize_range(const nt_vocab *v, const nt_grams *g, size_t from,
                       size_t to, nt_sparse *out);
/* A copy of src's indices and values (no counting scratch). */
int nt_sparse_copy(nt_sparse *dst, const nt_sparse *src);
void nt_sparse_free(nt_sparse *s);

/* ---- network.c: FANN network and sparse inference -------------------- */

/* Weights of a 3-layer FANN network, laid out for sparse evaluation. */
typedef struct nt_weights {
    unsigned inputs, hidden, outputs;
    float *w1;        /* inputs x hidden, row per input */
    float *b1;        /* hidden */
    float *w2;        /* hidden x outputs, row per hidden neuron */
    float *b2;        /* outputs */
    float *w3;        /* inputs x outputs, row per input: a shortcut
                       * network's direct connections; NULL if layered */
    float steep_hidden, steep_output;
} nt_weights;

struct fann;
int nt_weights_from_fann(struct fann *ann, nt_weights *w, newstag_error *err);
void nt_weights_free(nt_weights *w);
/* scratch must hold w->hidden floats. */
void nt_forward_sparse(const nt_weights *w, const nt_sparse *x,
                       float *scratch, float *out);

/* Locale-proof FANN file I/O (libfann formats numbers with the C locale). */
struct fann *nt_fann_load(const char *path, newstag_error *err);
int nt_fann_save(struct fann *ann, const char *path, newstag_error *err);
/* Neurons in the hidden layer of a 3-layer network (bias not counted). */
unsigned nt_fann_hidden(struct fann *ann);

/* ---- windows.c: the windows of a long text ---------------------------- */

/* A text longer than `window` syllables is also scored in windows of that
 * many syllables, each starting half a window after the one before, the
 * last one ending at the text's end. */
typedef struct nt_windows {
    size_t count;        /* windows (0: the text is short) */
    size_t len, step;    /* in grams */
    size_t grams;
} nt_windows;

void nt_windows_plan(nt_windows *w, size_t grams, size_t syllables,
                     unsigned window);
void nt_window_range(const nt_windows *w, size_t i, size_t *from, size_t *to);
/* Scores of a text from its grams (as nt_extract_grams left them) and its
 * syllable count: the whole text's, each raised to its best window's.
 * vec and hidden (net->hidden floats) are scratch. Returns -1 on OOM. */
int nt_score_text(const nt_feature_config *fc, const nt_vocab *v,
                  const nt_weights *net, nt_grams *g, size_t syllables,
                  nt_sparse *vec, float *hidden, float *scores);

/* ---- model.c ----------------------------------------------------------- */

struct newstag_model {
    char *path;
    char *manifest_json;
    size_t num_labels;
    char labels[NEWSTAG_MAX_LABELS][NEWSTAG_LABEL_MAX];
    double thresholds[NEWSTAG_MAX_LABELS];
    nt_feature_config features;
    nt_vocab vocab;
    nt_weights weights;
    void *map;          /* network.bin mapping; weights and vocab point in it */
    size_t map_len;
};

/* image.c: the mapped binary image of weights and vocabulary */
int nt_image_write(const char *dir, const struct newstag_model *m,
                   const char *net_sha, const char *feat_sha);
int nt_image_map(const char *dir, struct newstag_model *m, const char *net_sha,
                 const char *feat_sha);
void nt_image_unmap(struct newstag_model *m);

int nt_valid_label(const char *name);

/* dataset.c: the text of a JSON news item, from `fields` (NULL: title,
 * summary, description, text, content, body), joined by newlines. The
 * argument is a json_t object. Caller frees. */
struct json_t;
char *nt_item_text(struct json_t *obj, const char *const *fields,
                   size_t nfields);

/* ---- modelfile.c: reading and writing model directories --------------- */

/* What the trainer hands to the writer. */
typedef struct nt_model_out {
    size_t num_labels;
    char (*labels)[NEWSTAG_LABEL_MAX];
    const double *thresholds;
    const nt_feature_config *features;
    const nt_vocab *vocab;
    char **gram_texts;       /* vocab->size readable n-grams */
    struct fann *ann;
    void *training_info;     /* json_t* object, borrowed */
    int idf_off;             /* the idf values are all 1 */
} nt_model_out;

int nt_model_write(const char *dir, const nt_model_out *m, newstag_error *err);
int nt_model_read(const char *dir, struct newstag_model *m,
                  newstag_error *err);
/* A verified model read back for continued training (`train --init`):
 * a writable vocabulary with the n-gram texts, and the FANN network. */
typedef struct nt_parent {
    size_t num_labels;
    char labels[NEWSTAG_MAX_LABELS][NEWSTAG_LABEL_MAX];
    nt_feature_config features;
    nt_vocab vocab;
    size_t num_features;
    char **gram_texts;
    int idf_off;
    struct fann *ann;
    char checksum[65];       /* the manifest's own SHA-256 */
    void *manifest;          /* json_t*, owned */
} nt_parent;

int nt_parent_read(const char *dir, nt_parent *p, newstag_error *err);
void nt_parent_free(nt_parent *p);

/* Replace dst with the freshly written directory src, atomically. */
int nt_dir_swap_into_place(const char *src, const char *dst,
                           newstag_error *err);
/* Write a copy of the verified model `src` to `dst` (atomically, like
 * nt_model_write) with new thresholds (n, one per label, in (0,1)) and
 * `note` (a json_t*, borrowed; may be NULL) as its "thresholds_tuned"
 * member; the manifest's checksum is recomputed. */
int nt_model_copy_with_thresholds(const char *src, const double *thresholds,
                                  size_t n, struct json_t *note,
                                  const char *dst, newstag_error *err);

#endif /* NEWSTAG_INTERNAL_H */
