/*
 * evaluate.c - measuring a model against labeled data: per-label confusion
 * counts, precision, recall and F1, micro and macro averages, and the
 * per-label threshold search the trainer uses on its dev split.
 */
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"

static double f1_of(size_t tp, size_t fp, size_t fn)
{
    return tp ? 2.0 * tp / (2.0 * tp + fp + fn) : 0.0;
}

void nt_metrics(const float *scores, const uint64_t *gold, size_t n,
                size_t num_labels, const double *thresholds,
                char (*names)[NEWSTAG_LABEL_MAX], newstag_eval_result *out)
{
    size_t i, l, tp = 0, fp = 0, fn = 0;
    double macro = 0;

    memset(out, 0, sizeof *out);
    out->num_labels = num_labels;
    out->items = n;
    for (l = 0; l < num_labels; l++) {
        newstag_label_metrics *m = &out->per_label[l];
        snprintf(m->label, sizeof m->label, "%s", names[l]);
        for (i = 0; i < n; i++) {
            int want = (gold[i] >> l) & 1;
            int got = scores[i * num_labels + l] >= thresholds[l];
            m->tp += want && got;
            m->fp += !want && got;
            m->fn += want && !got;
            m->tn += !want && !got;
        }
        m->support = m->tp + m->fn;
        m->precision = m->tp + m->fp ? (double)m->tp / (m->tp + m->fp) : 0;
        m->recall = m->support ? (double)m->tp / m->support : 0;
        m->f1 = f1_of(m->tp, m->fp, m->fn);
        macro += m->f1;
        tp += m->tp, fp += m->fp, fn += m->fn;
    }
    out->micro_precision = tp + fp ? (double)tp / (tp + fp) : 0;
    out->micro_recall = tp + fn ? (double)tp / (tp + fn) : 0;
    out->micro_f1 = f1_of(tp, fp, fn);
    out->macro_f1 = num_labels ? macro / num_labels : 0;
}

double nt_best_threshold(const float *scores, const uint64_t *gold, size_t n,
                         size_t num_labels, size_t label)
{
    double best_t = 0.5, best_f1 = -1;
    int k;

    for (k = 5; k <= 95; k++) {
        double t = k / 100.0, f1;
        size_t i, tp = 0, fp = 0, fn = 0;
        for (i = 0; i < n; i++) {
            int want = (gold[i] >> label) & 1;
            int got = scores[i * num_labels + label] >= t;
            tp += want && got, fp += !want && got, fn += want && !got;
        }
        f1 = f1_of(tp, fp, fn);
        /* prefer the threshold nearest 0.5 among equals: less tuned to noise */
        if (f1 > best_f1 + 1e-12 ||
            (f1 > best_f1 - 1e-12 && abs(k - 50) < abs((int)(best_t * 100 + 0.5) - 50))) {
            best_f1 = f1;
            best_t = t;
        }
    }
    return best_t;
}

int newstag_evaluate(const newstag_model *model, const newstag_dataset *ds,
                     double threshold, newstag_eval_result *out,
                     newstag_error *err)
{
    size_t L = newstag_model_num_labels(model), i, l;
    int map[NEWSTAG_MAX_LABELS];
    double thr[NEWSTAG_MAX_LABELS];
    float *scores = malloc((ds->n ? ds->n : 1) * L * sizeof *scores);
    uint64_t *gold = malloc((ds->n ? ds->n : 1) * sizeof *gold);
    newstag_ctx *ctx = newstag_ctx_new(model, err);
    size_t unknown = 0;

    nt_clear(err);
    if (!scores || !gold || !ctx) {
        free(scores), free(gold), newstag_ctx_free(ctx);
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
    }
    for (l = 0; l < ds->num_labels; l++)
        map[l] = newstag_model_label_index(model, ds->labels[l]);
    for (i = 0; i < ds->n; i++) {
        gold[i] = 0;
        for (l = 0; l < ds->num_labels; l++)
            if (ds->items[i].labels & (1ULL << l)) {
                if (map[l] >= 0)
                    gold[i] |= 1ULL << map[l];
                else
                    unknown++;
            }
        if (newstag_classify(ctx, ds->items[i].text, strlen(ds->items[i].text),
                             scores + i * L, NULL, err) < 0) {
            free(scores), free(gold), newstag_ctx_free(ctx);
            return -1;
        }
    }
    for (l = 0; l < L; l++)
        thr[l] = threshold >= 0 ? threshold : model->thresholds[l];
    nt_metrics(scores, gold, ds->n, L, thr, (char (*)[NEWSTAG_LABEL_MAX])model->labels,
               out);
    out->unknown_labels = unknown;
    free(scores), free(gold), newstag_ctx_free(ctx);
    return 0;
}
