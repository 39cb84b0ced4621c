/*
 * scores.h - a model's scores for every item of a labeled data set, kept in
 * memory so that the eval report and threshold tuning can count true and
 * false positives at any threshold without classifying again.
 */
#ifndef NEWSTAG_CLI_SCORES_H
#define NEWSTAG_CLI_SCORES_H

#include <stddef.h>
#include <stdint.h>

#include "newstag.h"

typedef struct cli_scores {
    size_t items, labels;    /* labels: the model's, in model order */
    float *score;            /* items x labels, row-major */
    uint64_t *gold;          /* per item: bit l set when it has model label l */
} cli_scores;

typedef struct cli_counts {
    size_t tp, fp, fn, tn;
} cli_counts;

/* Classify every item of ds with model. Returns 0, or -1 with err set. */
int cli_scores_compute(const newstag_model *model, const newstag_dataset *ds,
                       cli_scores *out, newstag_error *err);
void cli_scores_free(cli_scores *s);

float cli_score(const cli_scores *s, size_t item, size_t label);
int cli_is_gold(const cli_scores *s, size_t item, size_t label);

/* Confusion counts of one label when items scoring >= threshold are
 * predicted (the rule newstag_evaluate uses). */
cli_counts cli_count_at(const cli_scores *s, size_t label, double threshold);
/* The same metrics as newstag_evaluate: 0 when the ratio is undefined. */
double cli_precision(const cli_counts *c);
double cli_recall(const cli_counts *c);
double cli_f1(const cli_counts *c);

#endif
