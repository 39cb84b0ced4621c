/*
 * tune.h - `newstag eval --tune-thresholds`: per-label thresholds chosen on
 * labeled data and written into a copy of the model.
 */
#ifndef NEWSTAG_CLI_TUNE_H
#define NEWSTAG_CLI_TUNE_H

#include "newstag.h"
#include "scores.h"

typedef struct cli_tune_request {
    const newstag_model *model;
    const newstag_dataset *ds;
    const cli_scores *scores;   /* of model on ds */
    const char *out_dir;
    double min_precision;       /* < 0: the F1-best threshold */
} cli_tune_request;

/* Choose the thresholds, write the copy, print old and new thresholds and
 * F1 per label. Returns 0, or prints why and returns a sysexits code. */
int cli_tune_thresholds(const cli_tune_request *req);

#endif
