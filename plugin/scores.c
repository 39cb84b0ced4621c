/*
 * scores.c - every item's scores and gold labels in memory, and confusion
 * counts at a chosen threshold (for `newstag eval --report` and
 * `--tune-thresholds`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scores.h"

int cli_scores_compute(const newstag_model *model, const newstag_dataset *ds,
                       cli_scores *out, newstag_error *err)
{
    size_t n = newstag_dataset_size(ds), L = newstag_model_num_labels(model);
    size_t i, l;
    newstag_ctx *ctx;

    memset(out, 0, sizeof *out);
    out->items = n;
    out->labels = L;
    out->score = calloc(n ? n * L : 1, sizeof *out->score);
    out->gold = calloc(n ? n : 1, sizeof *out->gold);
    if (!out->score || !out->gold) {
        cli_scores_free(out);
        if (err) {
            err->code = NEWSTAG_ERR_NOMEM;
            snprintf(err->text, sizeof err->text, "out of memory");
        }
        return -1;
    }
    if (!(ctx = newstag_ctx_new(model, err))) {
        cli_scores_free(out);
        return -1;
    }
    for (i = 0; i < n; i++) {
        const char *text = newstag_dataset_text(ds, i);
        if (newstag_classify(ctx, text, strlen(text), out->score + i * L, NULL, err) < 0) {
            newstag_ctx_free(ctx);
            cli_scores_free(out);
            return -1;
        }
        for (l = 0; l < L; l++)
            if (newstag_dataset_has_label(ds, i, newstag_model_label(model, l)))
                out->gold[i] |= 1ULL << l;
    }
    newstag_ctx_free(ctx);
    return 0;
}

void cli_scores_free(cli_scores *s)
{
    free(s->score);
    free(s->gold);
    s->score = NULL;
    s->gold = NULL;
}

float cli_score(const cli_scores *s, size_t item, size_t label)
{
    return s->score[item * s->labels + label];
}

int cli_is_gold(const cli_scores *s, size_t item, size_t label)
{
    return (int)((s->gold[item] >> label) & 1);
}

cli_counts cli_count_at(const cli_scores *s, size_t label, double threshold)
{
    cli_counts c = {0, 0, 0, 0};
    size_t i;

    for (i = 0; i < s->items; i++) {
        int want = cli_is_gold(s, i, label);
        int got = cli_score(s, i, label) >= threshold;
        c.tp += want && got;
        c.fp += !want && got;
        c.fn += want && !got;
        c.tn += !want && !got;
    }
    return c;
}

double cli_precision(const cli_counts *c)
{
    return c->tp + c->fp ? (double)c->tp / (double)(c->tp + c->fp) : 0.0;
}

double cli_recall(const cli_counts *c)
{
    return c->tp + c->fn ? (double)c->tp / (double)(c->tp + c->fn) : 0.0;
}

double cli_f1(const cli_counts *c)
{
    return c->tp ? 2.0 * c->tp / (2.0 * c->tp + c->fp + c->fn) : 0.0;
}
