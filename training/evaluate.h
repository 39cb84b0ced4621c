/*
 * evaluate.h - metric helpers shared by the trainer and the evaluator
 * (internal to libnewstag).
 */
#ifndef NEWSTAG_EVALUATE_H
#define NEWSTAG_EVALUATE_H

#include <stdio.h>

#include "dataset.h"

/* scores: n x num_labels, row-major; gold: one label bit mask per item. */
void nt_metrics(const float *scores, const uint64_t *gold, size_t n,
                size_t num_labels, const double *thresholds,
                char (*names)[NEWSTAG_LABEL_MAX], newstag_eval_result *out);
/* The F1-best threshold for one label, searched over 0.05 .. 0.95. */
double nt_best_threshold(const float *scores, const uint64_t *gold, size_t n,
                         size_t num_labels, size_t label);
/* The threshold a model gets: from 0.5 towards the F1-best one as far as
 * the evidence for it goes (see evaluate.c). */
double nt_chosen_threshold(const float *scores, const uint64_t *gold, size_t n,
                           size_t num_labels, size_t label);

#endif
