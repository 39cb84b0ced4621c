/*
 * evaluate.c - measuring a model against labeled data: per-label confusion
 * counts, precision, recall and F1, micro and macro averages, and the
 * per-label threshold search the trainer uses on its dev split.
 *
 * Thresholds: a label's threshold starts at 0.5 (the decision point of an
 * output trained towards 0 and 1) and moves towards the F1-best threshold
 * on dev only as far as the evidence for it goes. Among the dev items the
 * two thresholds decide differently, the F1-best one gets `fixed` right
 * and `broken` wrong; the sign test's z = (fixed - broken) /
 * sqrt(fixed + broken) sets the move: z/3 of the way, all of it from z = 3.
 * On a dev split every model scores 0.99 on, the F1-best threshold is set
 * by one or two items: once it fell to 0.05 for urban_order (one item),
 * and micro-F1 on held-out feed items fell from 0.982 (at 0.5) to 0.967.
 * The move is gradual so that two nearly equal models get nearly equal
 * thresholds. (The epoch is still chosen with F1-best thresholds.)
 */
#include <math.h>
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

/* The F1-best threshold over 0.05 .. 0.95; the one nearest 0.5 among equals. */
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
        if (f1 > best_f1 + 1e-12 ||
            (f1 > best_f1 - 1e-12 && abs(k - 50) < abs((int)(best_t * 100 + 0.5) - 50))) {
            best_f1 = f1;
            best_t = t;
        }
    }
    return best_t;
}

double nt_chosen_threshold(const float *scores, const uint64_t *gold, size_t n,
                           size_t num_labels, size_t label)
{
    double t = nt_best_threshold(scores, gold, n, num_labels, label);
    size_t i, fixed = 0, broken = 0;

    /* Dev items decided differently at t and at 0.5: those t gets right
     * (fixed) and those it gets wrong (broken). */
    for (i = 0; i < n; i++) {
        int want = (gold[i] >> label) & 1;
        float s = scores[i * num_labels + label];
        int at_t = s >= t, at_half = s >= 0.5f;
        if (at_t != at_half)
            at_t == want ? fixed++ : broken++;
    }
    /* Move from 0.5 towards t as far as the evidence goes: the sign test's
     * z-score over 3, all the way from three standard errors on. */
    if (fixed > broken) {
        double z = (double)(fixed - broken) / sqrt((double)(fixed + broken));
        return 0.5 + (t - 0.5) * (z >= 3.0 ? 1.0 : z / 3.0);
    }
    return 0.5;
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
