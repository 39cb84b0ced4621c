/*
 * cmd_eval.c - `newstag eval`: per-label precision, recall, F1, support and
 * confusion counts of a model on labeled files, as a table or JSON.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static void help(void)
{
    printf(
"usage: newstag eval [-m MODEL] [--json] [--threshold X] FILE...\n\n"
"Scores labeled items (JSON Lines or fastText lines) and prints, per label,\n"
"precision, recall, F1, support and TP/FP/FN/TN, then micro and macro F1.\n\n"
"  -m, --model DIR   model directory\n"
"  --json            print one JSON object instead of a table\n"
"  --threshold X     one threshold for every label (default: the model's)\n");
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

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"json", no_argument, 0, 'j'},
        {"threshold", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *model_path = NULL;
    int c, as_json = 0, code = 0, i;
    double threshold = -1;
    newstag_model *model;
    newstag_dataset *ds;
    newstag_eval_result res;
    newstag_error err;

    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'j': as_json = 1; break;
        case 't':
            if (cli_parse_threshold(optarg, &threshold) < 0)
                return EX_USAGE;
            break;
        case 'h': help(); return 0;
        default: return EX_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("eval needs at least one labeled file (see --help)");
        return EX_USAGE;
    }
    if (!(model = cli_load_model(model_path, &code)))
        return code;
    if (!(ds = newstag_dataset_new())) {
        newstag_model_free(model);
        return EX_OSERR;
    }
    for (i = optind; i < argc && code == 0; i++)
        if (newstag_dataset_read_file(ds, argv[i], &err) < 0) {
            cli_error("%s", err.text);
            code = err.code == NEWSTAG_ERR_IO ? EX_NOINPUT : EX_DATAERR;
        }
    if (code == 0 && newstag_evaluate(model, ds, threshold, &res, &err) < 0) {
        cli_error("%s", err.text);
        code = cli_exit_code(&err);
    }
    if (code == 0) {
        if (as_json)
            code = print_json(&res) < 0 ? EX_OSERR : 0;
        else
            print_table(&res);
        if (code == 0)
            code = cli_flush_stdout();
    }
    newstag_dataset_free(ds);
    newstag_model_free(model);
    return code;
}
