/*
 * tune.c - `newstag eval --tune-thresholds OUT_DIR [--min-precision P]`.
 *
 * For each label, the threshold (0.01 .. 0.99, or the model's own) that
 * maximizes F1 on the given data, or with a minimum precision the one with
 * the highest recall whose precision reaches it (when none does, the most
 * precise one, and a note on stderr). Ties keep the threshold nearest the
 * model's own, so a threshold that is already best stays as it was. The
 * copy of the model is written atomically and its manifest records what was
 * done ("thresholds_tuned").
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "tune.h"
#include "../model/internal.h"

#define TUNE_STEPS 100          /* candidates k / 100 for k = 1 .. 99 */
#define SAME 1e-12              /* metric values this close are equal */

/* What was chosen for one label. */
typedef struct tuned_label {
    double before, after;       /* thresholds */
    cli_counts at_before, at_after;
    int reached;                /* the minimum precision was reached */
} tuned_label;

/* Candidate order: -1 when a is better than b, 1 when worse, 0 when equal
 * on the criterion (the caller then prefers the one nearest the model's). */
static int compare_f1(const cli_counts *a, const cli_counts *b)
{
    double fa = cli_f1(a), fb = cli_f1(b);

    return fa > fb + SAME ? -1 : fa < fb - SAME ? 1 : 0;
}

static int compare_min_precision(const cli_counts *a, const cli_counts *b, double p)
{
    int ra = cli_precision(a) >= p - SAME, rb = cli_precision(b) >= p - SAME;
    double ka, kb;

    if (ra != rb)
        return ra ? -1 : 1;
    ka = ra ? cli_recall(a) : cli_precision(a);    /* reached: recall; else precision */
    kb = ra ? cli_recall(b) : cli_precision(b);
    if (ka > kb + SAME || ka < kb - SAME)
        return ka > kb ? -1 : 1;
    ka = ra ? cli_f1(a) : cli_recall(a);
    kb = ra ? cli_f1(b) : cli_recall(b);
    return ka > kb + SAME ? -1 : ka < kb - SAME ? 1 : 0;
}

static void choose_threshold(const cli_scores *s, size_t l, double min_precision,
                             tuned_label *t)
{
    cli_counts best;
    double best_t = t->before;
    int k;

    best = t->at_before = cli_count_at(s, l, t->before);
    for (k = 1; k < TUNE_STEPS; k++) {
        double cand = (double)k / TUNE_STEPS;
        cli_counts c = cli_count_at(s, l, cand);
        int order = min_precision < 0 ? compare_f1(&c, &best)
                                      : compare_min_precision(&c, &best, min_precision);
        if (order < 0 || (order == 0 && fabs(cand - t->before) < fabs(best_t - t->before))) {
            best = c;
            best_t = cand;
        }
    }
    t->after = best_t;
    t->at_after = best;
    t->reached = min_precision < 0 || cli_precision(&best) >= min_precision - SAME;
}

static double micro_f1(const tuned_label *t, size_t n, int after)
{
    cli_counts sum = {0, 0, 0, 0};
    size_t l;

    for (l = 0; l < n; l++) {
        const cli_counts *c = after ? &t[l].at_after : &t[l].at_before;
        sum.tp += c->tp, sum.fp += c->fp, sum.fn += c->fn;
    }
    return cli_f1(&sum);
}

/* ---- the manifest note ---------------------------------------------------- */

static void utc_now(char *out, size_t len)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t now = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *label_note(const tuned_label *t)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:b}", "previous", t->before,
                     "threshold", t->after, "f1_before", cli_f1(&t->at_before),
                     "f1", cli_f1(&t->at_after), "precision", cli_precision(&t->at_after),
                     "recall", cli_recall(&t->at_after),
                     "support", (json_int_t)(t->at_after.tp + t->at_after.fn),
                     "reached_min_precision", t->reached);
}

static json_t *tuning_note(const cli_tune_request *req, const tuned_label *t)
{
    json_t *source = json_loads(newstag_model_manifest_json(req->model), 0, NULL);
    const char *sum = json_string_value(json_object_get(source, "checksum"));
    json_t *per = json_object(), *note = NULL;
    char data_sum[65], date[32];
    size_t l;

    newstag_dataset_checksum(req->ds, data_sum);
    utc_now(date, sizeof date);
    for (l = 0; per && l < req->scores->labels; l++)
        if (json_object_set_new(per, newstag_model_label(req->model, l), label_note(&t[l])))
            goto out;
    note = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:f, s:O}", "date", date,
                     "data_sha256", data_sum, "data_items", (json_int_t)req->scores->items,
                     "source_manifest_sha256", sum ? sum : "",
                     "criterion", req->min_precision < 0 ? "max-f1"
                                                         : "max-recall-at-min-precision",
                     "min_precision", req->min_precision < 0 ? json_null()
                                                             : json_real(req->min_precision),
                     "step", 1.0 / TUNE_STEPS, "per_label", per);
out:
    json_decref(per);
    json_decref(source);
    return note;
}

/* ---- writing and reporting ------------------------------------------------- */

static int same_directory(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];

    return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

static int write_copy(const cli_tune_request *req, const tuned_label *t)
{
    double thr[NEWSTAG_MAX_LABELS];
    json_t *note = tuning_note(req, t);
    newstag_model *check;
    newstag_error err;
    size_t l;
    int rc;

    if (!note) {
        cli_error("out of memory");
        return EX_OSERR;
    }
    for (l = 0; l < req->scores->labels; l++)
        thr[l] = t[l].after;
    rc = nt_model_copy_with_thresholds(newstag_model_path(req->model), thr,
                                       req->scores->labels, note, req->out_dir, &err);
    json_decref(note);
    if (rc < 0) {
        cli_error("cannot write the tuned model: %s", err.text);
        return cli_exit_code(&err);
    }
    if (!(check = newstag_model_load(req->out_dir, &err))) {
        cli_error("the tuned model %s does not load: %s", req->out_dir, err.text);
        return EX_SOFTWARE;
    }
    newstag_model_free(check);
    return 0;
}

static void print_tuning(const cli_tune_request *req, const tuned_label *t)
{
    size_t l, L = req->scores->labels;

    printf("%-16s %7s %7s %9s %9s %9s %9s %8s\n", "label", "old", "new", "F1 old",
           "F1 new", "precision", "recall", "support");
    for (l = 0; l < L; l++)
        printf("%-16s %7.4g %7.4g %9.4f %9.4f %9.4f %9.4f %8zu\n",
               newstag_model_label(req->model, l), t[l].before, t[l].after,
               cli_f1(&t[l].at_before), cli_f1(&t[l].at_after),
               cli_precision(&t[l].at_after), cli_recall(&t[l].at_after),
               t[l].at_after.tp + t[l].at_after.fn);
    printf("\nitems %zu   micro F1 %.4f -> %.4f   wrote %s\n", req->scores->items,
           micro_f1(t, L, 0), micro_f1(t, L, 1), req->out_dir);
}

int cli_tune_thresholds(const cli_tune_request *req)
{
    tuned_label t[NEWSTAG_MAX_LABELS];
    size_t l;
    int code;

    if (same_directory(newstag_model_path(req->model), req->out_dir)) {
        cli_error("--tune-thresholds writes a copy: give a directory other than the "
                  "model itself");
        return EX_USAGE;
    }
    for (l = 0; l < req->scores->labels; l++) {
        t[l].before = newstag_model_threshold(req->model, l);
        choose_threshold(req->scores, l, req->min_precision, &t[l]);
        if (!t[l].reached)
            cli_error("note: %s: no threshold reaches precision %.4g on this data; "
                      "using %.4g, the most precise (%.4f)",
                      newstag_model_label(req->model, l), req->min_precision, t[l].after,
                      cli_precision(&t[l].at_after));
    }
    if ((code = write_copy(req, t)) != 0)
        return code;
    print_tuning(req, t);
    return 0;
}
