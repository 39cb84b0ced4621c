/*
 * newstag.h - public C API of libnewstag.
 *
 * newstag tags Vietnamese political news by topic. A model (a directory
 * holding a manifest, a feature list and a FANN network) is loaded once and
 * is immutable afterwards; classification runs through a per-caller context
 * that holds all scratch memory, so several threads can classify with one
 * model at once, each with its own context.
 *
 * Errors: every function that can fail takes a `newstag_error *` (which may
 * be NULL) and fills in a code and a message. The library never prints and
 * never exits.
 *
 * Ownership: objects returned by *_new / *_load / *_open functions belong to
 * the caller and are released with the matching *_free function. Strings
 * returned as `const char *` belong to the object they came from.
 */
#ifndef NEWSTAG_H
#define NEWSTAG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NEWSTAG_VERSION "0.1.0"
#define NEWSTAG_MODEL_FORMAT "newstag-model"
#define NEWSTAG_MODEL_FORMAT_VERSION 2   /* 2: features.spelling (i/y) */
#define NEWSTAG_MAX_LABELS 64
#define NEWSTAG_LABEL_MAX 48

/* ---- errors ---------------------------------------------------------- */

typedef enum {
    NEWSTAG_OK = 0,
    NEWSTAG_ERR_NOMEM,      /* out of memory */
    NEWSTAG_ERR_IO,         /* a file could not be read or written */
    NEWSTAG_ERR_MODEL,      /* a model is damaged, inconsistent or unsupported */
    NEWSTAG_ERR_VERSION,    /* a model has a newer format version */
    NEWSTAG_ERR_INPUT,      /* bad input data (JSON, labels, ...) */
    NEWSTAG_ERR_ARGUMENT,   /* a bad argument from the caller */
    NEWSTAG_ERR_TRAIN       /* training could not proceed */
} newstag_code;

typedef struct newstag_error {
    newstag_code code;
    char text[512];
} newstag_error;

/* ---- text normalization ------------------------------------------------ */

/* Statistics about one normalization run. */
typedef struct newstag_text_stats {
    size_t invalid_utf8;   /* malformed byte sequences replaced by U+FFFD */
    size_t syllables;      /* syllable tokens produced */
    size_t bytes_used;     /* input bytes considered (after the cap) */
    int truncated;         /* non-zero when input exceeded the byte cap */
} newstag_text_stats;

/*
 * Normalize text the way the feature extractor sees it and return it as a
 * newly allocated NUL-terminated UTF-8 string (caller frees with free()):
 * HTML tags removed and entities decoded, invalid UTF-8 replaced, case
 * folded, Vietnamese tone marks placed canonically, the i/y spelling
 * variants met (a lone final y after consonants written i: tỷ -> tỉ), NFC,
 * syllables joined by single spaces and segments (sentences, clauses)
 * separated by " | ". (A model trained before the i/y rule reads text with
 * its y kept: see "spelling" in `newstag info`.)
 * `strip_accents` non-zero removes all diacritics (and maps đ to d).
 */
char *newstag_normalize(const char *text, size_t len, int strip_accents,
                        newstag_text_stats *stats, newstag_error *err);

/* ---- models -------------------------------------------------------------- */

typedef struct newstag_model newstag_model;

/* Load and verify a model directory. Returns NULL and fills err on failure. */
newstag_model *newstag_model_load(const char *dir, newstag_error *err);
void newstag_model_free(newstag_model *model);

size_t newstag_model_num_labels(const newstag_model *model);
const char *newstag_model_label(const newstag_model *model, size_t i);
double newstag_model_threshold(const newstag_model *model, size_t i);
/* Index of a label by name, or -1. */
int newstag_model_label_index(const newstag_model *model, const char *name);
/* The manifest as a compact JSON string (owned by the model). */
const char *newstag_model_manifest_json(const newstag_model *model);
/* The directory the model was loaded from. */
const char *newstag_model_path(const newstag_model *model);

/*
 * Find the model to use: `explicit_path` when not NULL, else $NEWSTAG_MODEL,
 * else the installed default model, else model/default in the source tree
 * next to the running executable. Writes the path into out.
 * Returns 0 on success, -1 when none exists.
 */
int newstag_model_locate(const char *explicit_path, char *out, size_t outlen);

/* ---- classification ------------------------------------------------------ */

/* Per-caller scratch state. One context per thread. */
typedef struct newstag_ctx newstag_ctx;

newstag_ctx *newstag_ctx_new(const newstag_model *model, newstag_error *err);
void newstag_ctx_free(newstag_ctx *ctx);

/*
 * Score one text. `scores` receives one value in [0,1] per label, in model
 * label order (newstag_model_num_labels entries). Returns 0, or -1 on error.
 * Text longer than the context's byte cap (newstag_ctx_set_max_bytes,
 * default NEWSTAG_DEFAULT_MAX_BYTES) is cut at a character boundary.
 */
#define NEWSTAG_DEFAULT_MAX_BYTES (256u * 1024u)
int newstag_classify(newstag_ctx *ctx, const char *text, size_t len,
                     float *scores, newstag_text_stats *stats,
                     newstag_error *err);
void newstag_ctx_set_max_bytes(newstag_ctx *ctx, size_t max_bytes);

/*
 * The network input for a text, written densely into `out`, which must hold
 * `n` floats with n equal to the model's number of features. For tools and
 * tests that feed libfann directly. Returns 0, or -1 when n does not match.
 */
int newstag_model_input(const newstag_model *model, const char *text,
                        size_t len, float *out, size_t n);

/* ---- labeled data, training and evaluation ---------------------------- */

typedef struct newstag_dataset newstag_dataset;

newstag_dataset *newstag_dataset_new(void);
void newstag_dataset_free(newstag_dataset *ds);
/*
 * Read labeled items from a file: JSON Lines {"id","title","text","labels"}
 * or fastText lines "__label__a __label__b text". Lines of both kinds may be
 * mixed. Returns 0, or -1 with err set (naming file and line).
 */
int newstag_dataset_read_file(newstag_dataset *ds, const char *path,
                              newstag_error *err);
/* Add one item; `labels` is an array of n label names. */
int newstag_dataset_add(newstag_dataset *ds, const char *text,
                        const char *const *labels, size_t n,
                        newstag_error *err);
size_t newstag_dataset_size(const newstag_dataset *ds);
const char *newstag_dataset_text(const newstag_dataset *ds, size_t i);
/* The label names found in the data, in order of first appearance. */
size_t newstag_dataset_num_labels(const newstag_dataset *ds);
const char *newstag_dataset_label(const newstag_dataset *ds, size_t l);
/* Non-zero when item i carries the label `name`. */
int newstag_dataset_has_label(const newstag_dataset *ds, size_t i,
                              const char *name);
/* SHA-256 (hex) over the items in order. */
void newstag_dataset_checksum(const newstag_dataset *ds, char hex[65]);

typedef void (*newstag_progress_fn)(void *user, unsigned epoch,
                                    double train_mse, double dev_micro_f1);
/* Something the user should know about a training run (a label with too
 * few samples, why --init could not be used, ...): one line of text. */
typedef void (*newstag_notice_fn)(void *user, const char *text);

typedef struct newstag_train_options {
    unsigned seed;           /* deterministic for a given seed */
    unsigned epochs;         /* maximum epochs */
    unsigned hidden;         /* hidden neurons */
    unsigned max_features;   /* vocabulary size */
    unsigned hash_buckets;   /* > 0: feature hashing into this many inputs */
    unsigned min_df;         /* minimum document frequency of a feature */
    unsigned ngram_max;      /* 1..3 */
    int accents;             /* NEWSTAG_ACCENTS_* */
    int augment;             /* add accent-free copies of training items */
    int oov_norm;            /* unknown n-grams weaken the vector */
    float target_margin;     /* train towards margin and 1-margin, not 0/1 */
    int binary_tf;           /* weight presence (1) instead of 1 + ln tf */
    int no_idf;              /* do not multiply by idf */
    int balance;             /* NEWSTAG_BALANCE_*: rare labels' items repeated */
    const char *init_model;  /* continue from this model when compatible */
    newstag_progress_fn progress;  /* may be NULL */
    void *progress_user;
    newstag_notice_fn notice;      /* may be NULL */
    void *notice_user;
    int shortcut;            /* 1 (default): the outputs also see every input
                              * directly (libfann shortcut network); 0: plain
                              * layered network */
    unsigned window;         /* texts longer than this many syllables are
                              * also scored in windows of that length, and
                              * each label takes the highest score (default
                              * 250; 0: whole texts only) */
    float weight_decay;      /* L2 weight decay per training row (0: none) */
    float accent_free_share; /* with augment, 0 (default): an accent-free
                              * copy of every item is added; s in (0, 1):
                              * instead, that share of the items (drawn from
                              * the seed) is trained on its accent-free form
                              * only and the rest as written, so there are
                              * half the rows and an epoch costs half */
    unsigned average_epochs; /* the model written holds the mean weights of
                              * the best epoch and the N-1 before it (0 or 1:
                              * the best epoch's own weights) */
} newstag_train_options;

/* Class imbalance: with OVERSAMPLE, the training items of a label with
 * fewer positives than the median label are repeated (up to 8 times) so
 * that every label is seen about as often. */
enum { NEWSTAG_BALANCE_NONE = 0, NEWSTAG_BALANCE_OVERSAMPLE = 1 };

/* A label with fewer training items than this gets a warning (notice). */
#define NEWSTAG_MIN_LABEL_SAMPLES 20

enum { NEWSTAG_ACCENTS_KEEP = 0, NEWSTAG_ACCENTS_STRIP = 1,
       NEWSTAG_ACCENTS_BOTH = 2 };

void newstag_train_options_init(newstag_train_options *opt);

/*
 * Train a model on `train`, choose the epoch and tune per-label thresholds on
 * `dev` (when NULL, a deterministic 15% of `train` is held out), and write it
 * atomically to `out_dir`: a crash never leaves a half-written model there.
 *
 * With opt->init_model, training continues from that model's network, its
 * vocabulary and labels kept, when the data's labels are all labels of it;
 * the parent's weights themselves compete as "epoch 0", so dev F1 never gets
 * worse than the parent's. Otherwise a notice says why and training starts
 * from scratch. The manifest records the lineage (parent checksums).
 */
int newstag_train(const newstag_dataset *train, const newstag_dataset *dev,
                  const newstag_train_options *opt, const char *out_dir,
                  newstag_error *err);

/* Per-label confusion counts and derived metrics. */
typedef struct newstag_label_metrics {
    char label[NEWSTAG_LABEL_MAX];
    size_t tp, fp, fn, tn;
    double precision, recall, f1;
    size_t support;
} newstag_label_metrics;

typedef struct newstag_eval_result {
    size_t num_labels;
    size_t items;
    size_t unknown_labels;   /* gold labels the model does not know */
    newstag_label_metrics per_label[NEWSTAG_MAX_LABELS];
    double micro_precision, micro_recall, micro_f1, macro_f1;
} newstag_eval_result;

/* Evaluate a model on labeled data; threshold < 0 means the model's own. */
int newstag_evaluate(const newstag_model *model, const newstag_dataset *ds,
                     double threshold, newstag_eval_result *out,
                     newstag_error *err);

#ifdef __cplusplus
}
#endif
#endif /* NEWSTAG_H */
