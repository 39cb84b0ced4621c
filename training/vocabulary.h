/*
 * vocabulary.h - building the input features of a model from training
 * data (internal to the trainer). See vocabulary.c.
 */
#ifndef NEWSTAG_VOCABULARY_H
#define NEWSTAG_VOCABULARY_H

#include "dataset.h"

/* The max_features most frequent n-grams (in at least opt->min_df items):
 * fills vocab (idf included) and *gram_texts (vocab->size strings, caller
 * frees each and the array). Returns 0, or -1 with err set. */
int nt_build_vocab(const nt_feature_config *fc, const newstag_train_options *opt,
                   const newstag_dataset *train, nt_vocab *vocab,
                   char ***gram_texts, newstag_error *err);

/* Feature hashing into opt->hash_buckets inputs, idf per bucket; the texts
 * are "#k". Same contract as nt_build_vocab. */
int nt_build_hashed(const nt_feature_config *fc, const newstag_train_options *opt,
                    const newstag_dataset *train, nt_vocab *vocab,
                    char ***gram_texts, newstag_error *err);

/* qsort comparison of uint64_t values. */
int nt_cmp_u64(const void *a, const void *b);

#endif
