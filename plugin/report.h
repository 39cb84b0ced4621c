/*
 * report.h - `newstag eval --report`: one self-contained HTML file (inline
 * CSS and SVG charts, no script, nothing fetched) that shows how a model
 * does on labeled data.
 */
#ifndef NEWSTAG_CLI_REPORT_H
#define NEWSTAG_CLI_REPORT_H

#include <stddef.h>

#include "newstag.h"
#include "scores.h"

typedef struct cli_report_input {
    const newstag_model *model;
    const newstag_dataset *ds;
    const cli_scores *scores;
    const double *thresholds;   /* the thresholds used, one per model label */
    double uniform_threshold;   /* >= 0: --threshold set this for every label */
    char *const *files;         /* the data files, in reading order */
    const size_t *file_end;     /* items read once each file was done */
    size_t nfiles;
} cli_report_input;

/* Write the report to path (a temporary file renamed into place). Returns
 * 0, or prints why on stderr and returns a sysexits code. */
int cli_write_report(const char *path, const cli_report_input *in);

#endif
