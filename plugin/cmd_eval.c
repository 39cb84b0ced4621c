/*
 * cmd_eval.c - `newstag eval`: per-label precision, recall, F1, support and
 * confusion counts of a model on labeled files, as a table or JSON; with
 * --report also an HTML report, and with --tune-thresholds a copy of the
 * model with thresholds chosen on the files.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "report.h"
#include "tune.h"

static void help(void)
{
    printf(
"usage: newstag eval [-m MODEL] [--json] [--threshold X] [--report FILE] FILE...\n"
"       newstag eval --tune-thresholds OUT_DIR [--min-precision P] [-m MODEL]\n"
"                    [--report FILE] FILE...\n\n"
"Scores labeled items (JSON Lines or fastText lines) and prints, per label,\n"
"precision, recall, F1, support and TP/FP/FN/TN, then micro and macro F1.\n\n"
"  -m, --model DIR          model directory\n"
"  --json                   print one JSON object instead of a table\n"
"  --threshold X            one threshold for every label (default: the model's)\n"
"  --report FILE            also write an HTML report to FILE: per-label bars,\n"
"                           a threshold sweep chart per label, gold against\n"
"                           predicted labels, the worst misclassified items\n"
"                           (one self-contained file: inline CSS and SVG, no\n"
"                           script)\n"
"  --tune-thresholds DIR    instead of the table, choose each label's threshold\n"
"                           on FILE... (the F1-best one, 0.01 to 0.99) and write\n"
"                           a copy of the model with them to DIR; prints the old\n"
"                           and new threshold and F1 per label. The model itself\n"
"                           is never changed.\n"
"  --min-precision P        with --tune-thresholds: the threshold with the best\n"
"                           recall whose precision is at least P (if none is,\n"
"                           the most precise one, with a note on stderr)\n");
}

static void print_table(const newstag_eval_result *r)
{
    size_t l;

    printf("%-16s %9s %9s %9s %8s %6s %6s %6s %6s\n", "label", "precision",
           "recall", "f1", "support", "tp", "fp", "fn", "tn");
    for (l = 0; l < r->num_labels; l++) {
        const newstag_label_metrics *m = &r->per_label[l];
        printf("%-16s %9.4f %9.4f %9.4f %8zu %6zu %6zu %6zu %6zu\n", m->label,
               m->precision, m->recall, m->f1, m->support, m->tp, m->fp, m->fn, m->tn);
    }
    printf("\nitems %zu   micro P %.4f  R %.4f  F1 %.4f   macro F1 %.4f\n", r->items,
           r->micro_precision, r->micro_recall, r->micro_f1, r->macro_f1);
    if (r->unknown_labels)
        printf("note: %zu gold labels are not labels of this model\n", r->unknown_labels);
}

static int print_json(const newstag_eval_result *r)
{
    json_t *per = json_object(), *root;
    size_t l;
    char *s;

    for (l = 0; l < r->num_labels; l++) {
        const newstag_label_metrics *m = &r->per_label[l];
        json_object_set_new(per, m->label, json_pack(
            "{s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I}", "precision", m->precision,
            "recall", m->recall, "f1", m->f1, "support", (json_int_t)m->support,
            "tp", (json_int_t)m->tp, "fp", (json_int_t)m->fp, "fn", (json_int_t)m->fn,
            "tn", (json_int_t)m->tn));
    }
    root = json_pack("{s:I, s:o, s:f, s:f, s:f, s:f, s:I}", "items", (json_int_t)r->items,
                     "labels", per, "micro_precision", r->micro_precision,
                     "micro_recall", r->micro_recall, "micro_f1", r->micro_f1,
                     "macro_f1", r->macro_f1, "unknown_labels",
                     (json_int_t)r->unknown_labels);
    s = root ? json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(root);
    if (!s)
        return -1;
    puts(s);
    free(s);
    return 0;
}

typedef struct eval_options {
    const char *model_path;
    const char *report_path;     /* --report */
    const char *tune_dir;        /* --tune-thresholds */
    double threshold;            /* < 0: the model's own */
    double min_precision;        /* < 0: tune for F1 */
    int as_json;
} eval_options;

static int parse_fraction(const char *s, const char *option, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (*end || !*s || !(v >= 0 && v <= 1)) {
        cli_error("%s takes a number between 0 and 1", option);
        return -1;
    }
    *out = v;
    return 0;
}

/* Returns 0 to go on, -1 when --help was printed, or EX_USAGE. */
static int parse_options(int argc, char **argv, eval_options *o)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"json", no_argument, 0, 'j'},
        {"threshold", required_argument, 0, 't'}, {"report", required_argument, 0, 'r'},
        {"tune-thresholds", required_argument, 0, 'T'},
        {"min-precision", required_argument, 0, 'P'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;

    memset(o, 0, sizeof *o);
    o->threshold = o->min_precision = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o->model_path = optarg; break;
        case 'j': o->as_json = 1; break;
        case 't':
            if (cli_parse_threshold(optarg, &o->threshold) < 0)
                return EX_USAGE;
            break;
        case 'r': o->report_path = optarg; break;
        case 'T': o->tune_dir = optarg; break;
        case 'P':
            if (parse_fraction(optarg, "--min-precision", &o->min_precision) < 0)
                return EX_USAGE;
            break;
        case 'h': help(); return -1;
        default: return EX_USAGE;
        }
    }
    if (o->min_precision >= 0 && !o->tune_dir) {
        cli_error("--min-precision goes with --tune-thresholds");
        return EX_USAGE;
    }
    if (o->tune_dir && (o->threshold >= 0 || o->as_json)) {
        cli_error("--tune-thresholds takes neither --threshold nor --json");
        return EX_USAGE;
    }
    if ((o->report_path && !*o->report_path) || (o->tune_dir && !*o->tune_dir)) {
        cli_error("--report and --tune-thresholds need a path");
        return EX_USAGE;
    }
    if (optind >= argc) {
        cli_error("eval needs at least one labeled file (see --help)");
        return EX_USAGE;
    }
    return 0;
}

/* Read the files into ds; file_end[k] gets the item count after file k. */
static int read_data(newstag_dataset *ds, char **files, size_t n, size_t *file_end)
{
    newstag_error err;
    size_t k;

    for (k = 0; k < n; k++) {
        if (newstag_dataset_read_file(ds, files[k], &err) < 0) {
            cli_error("%s", err.text);
            return err.code == NEWSTAG_ERR_IO ? EX_NOINPUT : EX_DATAERR;
        }
        file_end[k] = newstag_dataset_size(ds);
    }
    return 0;
}

/* The table or JSON of newstag_evaluate. */
static int print_evaluation(const newstag_model *model, const newstag_dataset *ds,
                            const eval_options *o)
{
    newstag_eval_result res;
    newstag_error err;

    if (newstag_evaluate(model, ds, o->threshold, &res, &err) < 0) {
        cli_error("%s", err.text);
        return cli_exit_code(&err);
    }
    if (!o->as_json) {
        print_table(&res);
        return 0;
    }
    if (print_json(&res) < 0) {
        cli_error("out of memory");
        return EX_OSERR;
    }
    return 0;
}

/* --report and --tune-thresholds, from every item's scores. */
static int report_and_tune(const newstag_model *model, const newstag_dataset *ds,
                           const eval_options *o, char **files, size_t nfiles,
                           const size_t *file_end)
{
    double thr[NEWSTAG_MAX_LABELS];
    cli_scores scores;
    newstag_error err;
    size_t l;
    int code = 0;

    if (cli_scores_compute(model, ds, &scores, &err) < 0) {
        cli_error("%s", err.text);
        return cli_exit_code(&err);
    }
    if (o->tune_dir) {
        cli_tune_request req = {model, ds, &scores, o->tune_dir, o->min_precision};
        code = cli_tune_thresholds(&req);
    }
    if (code == 0 && o->report_path) {
        cli_report_input in = {model, ds, &scores, thr, o->threshold, files, file_end,
                               nfiles};
        for (l = 0; l < scores.labels; l++)
            thr[l] = o->threshold >= 0 ? o->threshold : newstag_model_threshold(model, l);
        code = cli_write_report(o->report_path, &in);
    }
    cli_scores_free(&scores);
    return code;
}

int cmd_eval(int argc, char **argv)
{
    eval_options o;
    newstag_model *model;
    newstag_dataset *ds;
    size_t nfiles, *file_end;
    int code = parse_options(argc, argv, &o);

    if (code != 0)
        return code < 0 ? 0 : code;
    nfiles = (size_t)(argc - optind);
    if (!(model = cli_load_model(o.model_path, &code)))
        return code;
    ds = newstag_dataset_new();
    file_end = calloc(nfiles, sizeof *file_end);
    if (!ds || !file_end) {
        cli_error("out of memory");
        code = EX_OSERR;
    }
    if (code == 0)
        code = read_data(ds, argv + optind, nfiles, file_end);
    if (code == 0 && !o.tune_dir)
        code = print_evaluation(model, ds, &o);
    if (code == 0 && (o.report_path || o.tune_dir))
        code = report_and_tune(model, ds, &o, argv + optind, nfiles, file_end);
    if (code == 0)
        code = cli_flush_stdout();
    free(file_end);
    if (ds)
        newstag_dataset_free(ds);
    newstag_model_free(model);
    return code;
}
