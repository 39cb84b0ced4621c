/*
 * cmd_compare.c - `newstag compare`: two models (OLD, NEW) on the same
 * labeled items. Shows per label precision, recall and F1 of both and the
 * deltas, micro and macro F1 over the labels both models have, and a
 * verdict that accounts for noise: a paired bootstrap over items of the
 * micro-F1 difference (fixed seed) decides, McNemar's exact test on
 * per-item exact-match correctness is reported beside it.
 * Exit status: 0 when NEW is not significantly worse, 1 when it is.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "scores.h"

#define CMP_RESAMPLES 1000
#define CMP_SEED 1u
#define CMP_LEVEL 0.95
#define CMP_WORSE 1                      /* exit status: NEW is significantly worse */

enum { VERDICT_WORSE = -1, VERDICT_NONE = 0, VERDICT_BETTER = 1 };

/* One model's answers on the items. */
typedef struct cmp_side {
    newstag_model *model;
    char checksum[65];
    uint64_t *pred;                      /* item i: bit l = model label l given */
    uint64_t *gold;                      /* item i: bit l = item has model label l */
    newstag_label_metrics per_label[NEWSTAG_MAX_LABELS];
    double micro_f1, macro_f1;           /* over all its own labels, as eval */
} cmp_side;

/* A label of either model; -1 where a model lacks it. */
typedef struct cmp_label {
    const char *name;
    int old_index, new_index;
} cmp_label;

/* Per-item confusion counts over the shared labels, for resampling. */
typedef struct cmp_item {
    uint8_t tp[2], fp[2], fn[2];         /* [0] OLD, [1] NEW */
} cmp_item;

typedef struct cmp_report {
    size_t items, unknown_gold;          /* gold labels neither model has */
    size_t num_labels, num_shared;
    cmp_label labels[2 * NEWSTAG_MAX_LABELS];
    double micro[2], macro[2];           /* over the shared labels */
    double boot_low, boot_high;
    size_t old_only_right, new_only_right;
    double mcnemar_p;
    int verdict;
} cmp_report;

static void help(void)
{
    printf(
"usage: newstag compare -m OLD -m NEW [--json] FILE...\n\n"
"Runs two models on the same labeled items (JSON Lines or fastText lines)\n"
"and prints, per label, precision, recall and F1 of OLD and NEW and the\n"
"deltas (NEW - OLD), then micro and macro F1 over the labels both models\n"
"have. A label only one model has is shown as such and left out of the\n"
"averages and the test.\n\n"
"The verdict accounts for noise: a paired bootstrap over items (%d\n"
"resamples, seed %u) gives the 95%% interval of the micro-F1 difference;\n"
"an interval above 0 means \"NEW is better\", below 0 \"NEW is worse\",\n"
"else \"no significant difference\". McNemar's exact test on which items\n"
"each model gets exactly right is shown beside it.\n\n"
"  -m, --model DIR   OLD the first time, NEW the second (both required)\n"
"  --json            print one JSON object instead of a table\n\n"
"Exit status: 0 when NEW is not significantly worse than OLD, 1 when it\n"
"is; 64 usage, 65 bad data, 66 missing file, 78 missing or damaged model.\n",
           CMP_RESAMPLES, CMP_SEED);
}

/* ---- scoring -------------------------------------------------------------- */

static void model_checksum(const newstag_model *m, char out[65])
{
    json_t *root = json_loads(newstag_model_manifest_json(m), 0, NULL);
    const char *sum = json_string_value(json_object_get(root, "checksum"));

    snprintf(out, 65, "%s", sum ? sum : "unknown");
    json_decref(root);
}

static double f1_of(size_t tp, size_t fp, size_t fn)
{
    return tp ? 2.0 * tp / (2.0 * tp + fp + fn) : 0.0;
}

/* Per-label figures and own micro/macro F1, computed as `newstag eval` does. */
static void side_metrics(cmp_side *s, size_t n)
{
    size_t L = newstag_model_num_labels(s->model), i, l, tp = 0, fp = 0, fn = 0;
    double macro = 0;

    for (l = 0; l < L; l++) {
        newstag_label_metrics *m = &s->per_label[l];
        memset(m, 0, sizeof *m);
        snprintf(m->label, sizeof m->label, "%s", newstag_model_label(s->model, l));
        for (i = 0; i < n; i++) {
            int want = (s->gold[i] >> l) & 1, got = (s->pred[i] >> l) & 1;
            m->tp += want && got, m->fp += !want && got;
            m->fn += want && !got, m->tn += !want && !got;
        }
        m->support = m->tp + m->fn;
        m->precision = m->tp + m->fp ? (double)m->tp / (m->tp + m->fp) : 0;
        m->recall = m->support ? (double)m->tp / m->support : 0;
        m->f1 = f1_of(m->tp, m->fp, m->fn);
        macro += m->f1;
        tp += m->tp, fp += m->fp, fn += m->fn;
    }
    s->micro_f1 = f1_of(tp, fp, fn);
    s->macro_f1 = L ? macro / L : 0;
}

/* OLD's labels in order, then NEW's labels OLD lacks. */
static void collect_labels(cmp_report *r, const cmp_side *old, const cmp_side *new)
{
    size_t l, nold = newstag_model_num_labels(old->model);
    size_t nnew = newstag_model_num_labels(new->model);

    r->num_labels = r->num_shared = 0;
    for (l = 0; l < nold; l++) {
        cmp_label *c = &r->labels[r->num_labels++];
        c->name = newstag_model_label(old->model, l);
        c->old_index = (int)l;
        c->new_index = newstag_model_label_index(new->model, c->name);
        r->num_shared += c->new_index >= 0;
    }
    for (l = 0; l < nnew; l++)
        if (newstag_model_label_index(old->model, newstag_model_label(new->model, l)) < 0) {
            cmp_label *c = &r->labels[r->num_labels++];
            c->name = newstag_model_label(new->model, l);
            c->old_index = -1;
            c->new_index = (int)l;
        }
}

/* Gold labels of the data that neither model has (item-label pairs). */
static size_t count_unknown_gold(const newstag_dataset *ds, const cmp_report *r)
{
    size_t i, d, k, unknown = 0;

    for (d = 0; d < newstag_dataset_num_labels(ds); d++) {
        const char *name = newstag_dataset_label(ds, d);
        for (k = 0; k < r->num_labels; k++)
            if (strcmp(r->labels[k].name, name) == 0)
                break;
        if (k < r->num_labels)
            continue;
        for (i = 0; i < newstag_dataset_size(ds); i++)
            unknown += newstag_dataset_has_label(ds, i, name) != 0;
    }
    return unknown;
}

/* Per-item counts over the shared labels; the exact-match disagreements. */
static void item_counts(cmp_report *r, const cmp_side *side[2], cmp_item *items)
{
    size_t i, k;
    int s;

    r->old_only_right = r->new_only_right = 0;
    for (i = 0; i < r->items; i++) {
        int right[2] = {1, 1};
        memset(&items[i], 0, sizeof items[i]);
        for (k = 0; k < r->num_labels; k++) {
            const cmp_label *c = &r->labels[k];
            if (c->old_index < 0 || c->new_index < 0)
                continue;
            for (s = 0; s < 2; s++) {
                int l = s ? c->new_index : c->old_index;
                int want = (side[s]->gold[i] >> l) & 1, got = (side[s]->pred[i] >> l) & 1;
                items[i].tp[s] += want && got;
                items[i].fp[s] += !want && got;
                items[i].fn[s] += want && !got;
                right[s] &= want == got;
            }
        }
        r->old_only_right += right[0] && !right[1];
        r->new_only_right += !right[0] && right[1];
    }
}

/* Micro and macro F1 of both models over the shared labels. */
static void shared_averages(cmp_report *r, const cmp_side *side[2], const cmp_item *items)
{
    size_t i, k, tp[2] = {0, 0}, fp[2] = {0, 0}, fn[2] = {0, 0};
    int s;

    for (i = 0; i < r->items; i++)
        for (s = 0; s < 2; s++)
            tp[s] += items[i].tp[s], fp[s] += items[i].fp[s], fn[s] += items[i].fn[s];
    for (s = 0; s < 2; s++) {
        r->micro[s] = f1_of(tp[s], fp[s], fn[s]);
        r->macro[s] = 0;
        for (k = 0; k < r->num_labels; k++)
            if (r->labels[k].old_index >= 0 && r->labels[k].new_index >= 0)
                r->macro[s] += side[s]->per_label[s ? r->labels[k].new_index
                                                    : r->labels[k].old_index].f1;
        r->macro[s] /= (double)r->num_shared;
    }
}

/* ---- significance ----------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The central CMP_LEVEL interval of NEW - OLD micro F1 over resampled items. */
static int bootstrap(cmp_report *r, const cmp_item *items)
{
    double *diff = malloc(CMP_RESAMPLES * sizeof *diff);
    uint64_t state = CMP_SEED;
    size_t b, j, cut = (size_t)(CMP_RESAMPLES * (1 - CMP_LEVEL) / 2);

    if (!diff)
        return -1;
    for (b = 0; b < CMP_RESAMPLES; b++) {
        size_t tp[2] = {0, 0}, fp[2] = {0, 0}, fn[2] = {0, 0};
        int s;
        for (j = 0; j < r->items; j++) {
            const cmp_item *it = &items[splitmix64(&state) % r->items];
            for (s = 0; s < 2; s++)
                tp[s] += it->tp[s], fp[s] += it->fp[s], fn[s] += it->fn[s];
        }
        diff[b] = f1_of(tp[1], fp[1], fn[1]) - f1_of(tp[0], fp[0], fn[0]);
    }
    qsort(diff, CMP_RESAMPLES, sizeof *diff, cmp_double);
    r->boot_low = diff[cut];
    r->boot_high = diff[CMP_RESAMPLES - 1 - cut];
    free(diff);
    return 0;
}

/* Two-sided exact McNemar test: binomial(b + c, 1/2) tail at min(b, c). */
static double mcnemar_exact(size_t b, size_t c)
{
    size_t n = b + c, k, lo = b < c ? b : c;
    double tail = 0;

    if (n == 0)
        return 1.0;
    for (k = 0; k <= lo; k++)
        tail += exp(lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) -
                    n * log(2.0));
    return tail * 2 < 1 ? tail * 2 : 1.0;
}

static const char *verdict_text(int v)
{
    return v == VERDICT_BETTER ? "NEW is better"
         : v == VERDICT_WORSE ? "NEW is worse" : "no significant difference";
}

/* ---- output --------------------------------------------------------------- */

static void print_side_cells(const cmp_side *s, int index)
{
    if (index < 0)
        printf(" %7s %7s %7s", "-", "-", "-");
    else
        printf(" %7.4f %7.4f %7.4f", s->per_label[index].precision,
               s->per_label[index].recall, s->per_label[index].f1);
}

static void print_label_row(const cmp_label *c, const cmp_side *old, const cmp_side *new)
{
    printf("%-16s", c->name);
    print_side_cells(old, c->old_index);
    printf(" ");
    print_side_cells(new, c->new_index);
    if (c->old_index < 0 || c->new_index < 0) {
        printf("   only in %s\n", c->old_index < 0 ? "NEW" : "OLD");
        return;
    }
    const newstag_label_metrics *o = &old->per_label[c->old_index];
    const newstag_label_metrics *n = &new->per_label[c->new_index];
    printf("  %+8.4f %+8.4f %+8.4f\n", n->precision - o->precision,
           n->recall - o->recall, n->f1 - o->f1);
}

static void print_unshared(const cmp_report *r, int new_side)
{
    size_t k, shown = 0;

    for (k = 0; k < r->num_labels; k++)
        if ((new_side ? r->labels[k].old_index : r->labels[k].new_index) < 0) {
            if (!shown++)
                printf("labels only in %s (not compared):", new_side ? "NEW" : "OLD");
            printf(" %s", r->labels[k].name);
        }
    if (shown)
        printf("\n");
}

static void print_table(const cmp_report *r, const cmp_side *old, const cmp_side *new)
{
    size_t k;

    printf("OLD %s (sha256 %.12s)\nNEW %s (sha256 %.12s)\nitems %zu\n\n",
           newstag_model_path(old->model), old->checksum,
           newstag_model_path(new->model), new->checksum, r->items);
    printf("%-16s %7s %7s %7s  %7s %7s %7s  %8s %8s %8s\n", "label", "old P", "old R",
           "old F1", "new P", "new R", "new F1", "delta P", "delta R", "delta F1");
    for (k = 0; k < r->num_labels; k++)
        print_label_row(&r->labels[k], old, new);
    printf("\n");
    print_unshared(r, 0);
    print_unshared(r, 1);
    if (r->num_shared < r->num_labels)
        printf("own labels: OLD micro F1 %.4f macro F1 %.4f; NEW micro F1 %.4f "
               "macro F1 %.4f\n", old->micro_f1, old->macro_f1, new->micro_f1,
               new->macro_f1);
    if (r->unknown_gold)
        printf("note: %zu gold labels are labels of neither model\n", r->unknown_gold);
    printf("micro F1  old %.4f  new %.4f  delta %+.4f   (%zu shared labels)\n",
           r->micro[0], r->micro[1], r->micro[1] - r->micro[0], r->num_shared);
    printf("macro F1  old %.4f  new %.4f  delta %+.4f\n", r->macro[0], r->macro[1],
           r->macro[1] - r->macro[0]);
    printf("paired bootstrap (%d resamples, seed %u): micro F1 delta, 95%% interval "
           "[%+.4f, %+.4f]\n", CMP_RESAMPLES, CMP_SEED, r->boot_low, r->boot_high);
    printf("McNemar (items exactly right): only OLD %zu, only NEW %zu, p = %.4g\n",
           r->old_only_right, r->new_only_right, r->mcnemar_p);
    printf("verdict: %s\n", verdict_text(r->verdict));
}

static json_t *label_figures(const cmp_side *s, int index)
{
    const newstag_label_metrics *m = &s->per_label[index];

    return json_pack("{s:f, s:f, s:f, s:I}", "precision", m->precision, "recall",
                     m->recall, "f1", m->f1, "support", (json_int_t)m->support);
}

static json_t *label_json(const cmp_label *c, const cmp_side *old, const cmp_side *new)
{
    json_t *o = json_object();
    const newstag_label_metrics *a, *b;

    if (!o)
        return NULL;
    json_object_set_new(o, "old", c->old_index < 0 ? json_null()
                                                   : label_figures(old, c->old_index));
    json_object_set_new(o, "new", c->new_index < 0 ? json_null()
                                                   : label_figures(new, c->new_index));
    if (c->old_index < 0 || c->new_index < 0) {
        json_object_set_new(o, "delta", json_null());
        return o;
    }
    a = &old->per_label[c->old_index];
    b = &new->per_label[c->new_index];
    json_object_set_new(o, "delta", json_pack("{s:f, s:f, s:f}", "precision",
                        b->precision - a->precision, "recall", b->recall - a->recall,
                        "f1", b->f1 - a->f1));
    return o;
}

static json_t *pair_json(double old, double new)
{
    return json_pack("{s:f, s:f, s:f}", "old", old, "new", new, "delta", new - old);
}

static json_t *model_json(const cmp_side *s)
{
    return json_pack("{s:s, s:s, s:f, s:f}", "path", newstag_model_path(s->model),
                     "checksum", s->checksum, "micro_f1", s->micro_f1,
                     "macro_f1", s->macro_f1);
}

static int print_json(const cmp_report *r, const cmp_side *old, const cmp_side *new)
{
    json_t *labels = json_object(), *shared = json_array(), *only[2] = {json_array(),
                                                                       json_array()};
    json_t *root;
    size_t k;
    char *s;

    for (k = 0; k < r->num_labels; k++) {
        const cmp_label *c = &r->labels[k];
        json_object_set_new(labels, c->name, label_json(c, old, new));
        json_array_append_new(c->old_index < 0 ? only[1] : c->new_index < 0 ? only[0]
                                                                           : shared,
                              json_string(c->name));
    }
    root = json_pack("{s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "old", model_json(old), "new", model_json(new),
                     "items", (json_int_t)r->items,
                     "unknown_labels", (json_int_t)r->unknown_gold,
                     "shared_labels", shared, "only_old", only[0], "only_new", only[1],
                     "labels", labels, "micro_f1", pair_json(r->micro[0], r->micro[1]),
                     "macro_f1", pair_json(r->macro[0], r->macro[1]));
    if (root) {
        json_object_set_new(root, "bootstrap", json_pack(
            "{s:i, s:i, s:f, s:f, s:f}", "resamples", CMP_RESAMPLES, "seed", (int)CMP_SEED,
            "level", CMP_LEVEL, "micro_f1_delta_low", r->boot_low,
            "micro_f1_delta_high", r->boot_high));
        json_object_set_new(root, "mcnemar", json_pack(
            "{s:I, s:I, s:f}", "only_old_right", (json_int_t)r->old_only_right,
            "only_new_right", (json_int_t)r->new_only_right, "p_value", r->mcnemar_p));
        json_object_set_new(root, "verdict", json_string(verdict_text(r->verdict)));
    }
    s = root ? json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(root);
    if (!s)
        return -1;
    puts(s);
    free(s);
    return 0;
}

/* ---- the command ------------------------------------------------------------ */

static int read_data(newstag_dataset *ds, char **files, int n)
{
    newstag_error err;
    int i;

    for (i = 0; i < n; i++)
        if (newstag_dataset_read_file(ds, files[i], &err) < 0) {
            cli_error("%s", err.text);
            return err.code == NEWSTAG_ERR_IO ? EX_NOINPUT : EX_DATAERR;
        }
    if (newstag_dataset_size(ds) == 0) {
        cli_error("no labeled items to compare on");
        return EX_DATAERR;
    }
    return 0;
}

static int prepare_side(cmp_side *s, const newstag_dataset *ds)
{
    size_t n = newstag_dataset_size(ds);
    newstag_error err;

    cli_scores sc;
    size_t i, l;

    model_checksum(s->model, s->checksum);
    if (cli_scores_compute(s->model, ds, &sc, &err) < 0) {
        cli_error("%s: %s", newstag_model_path(s->model), err.text);
        return cli_exit_code(&err);
    }
    s->gold = sc.gold;                   /* kept; the scores become predictions */
    if (!(s->pred = calloc(n ? n : 1, sizeof *s->pred))) {
        free(sc.score);
        cli_error("out of memory");
        return EX_OSERR;
    }
    for (i = 0; i < n; i++)
        for (l = 0; l < sc.labels; l++)
            if (cli_score(&sc, i, l) >= newstag_model_threshold(s->model, l))
                s->pred[i] |= 1ULL << l;
    free(sc.score);
    side_metrics(s, n);
    return 0;
}

/* Everything after scoring: averages, tests, the verdict. */
static int build_report(cmp_report *r, const cmp_side *old, const cmp_side *new,
                        const newstag_dataset *ds)
{
    const cmp_side *side[2] = {old, new};
    cmp_item *items;

    r->items = newstag_dataset_size(ds);
    collect_labels(r, old, new);
    if (r->num_shared == 0) {
        cli_error("the two models share no label; there is nothing to compare");
        return EX_DATAERR;
    }
    r->unknown_gold = count_unknown_gold(ds, r);
    if (!(items = malloc(r->items * sizeof *items))) {
        cli_error("out of memory");
        return EX_OSERR;
    }
    item_counts(r, side, items);
    shared_averages(r, side, items);
    if (bootstrap(r, items) < 0) {
        free(items);
        cli_error("out of memory");
        return EX_OSERR;
    }
    free(items);
    r->mcnemar_p = mcnemar_exact(r->old_only_right, r->new_only_right);
    r->verdict = r->boot_low > 0 ? VERDICT_BETTER
               : r->boot_high < 0 ? VERDICT_WORSE : VERDICT_NONE;
    return 0;
}

static int compare(cmp_side *old, cmp_side *new, char **files, int nfiles, int as_json)
{
    newstag_dataset *ds = newstag_dataset_new();
    cmp_report *r = calloc(1, sizeof *r);
    int code;

    if (!ds || !r) {
        newstag_dataset_free(ds);
        free(r);
        cli_error("out of memory");
        return EX_OSERR;
    }
    if ((code = read_data(ds, files, nfiles)) == 0 &&
        (code = prepare_side(old, ds)) == 0 && (code = prepare_side(new, ds)) == 0 &&
        (code = build_report(r, old, new, ds)) == 0) {
        if (as_json)
            code = print_json(r, old, new) < 0 ? EX_OSERR : 0;
        else
            print_table(r, old, new);
        if (code == 0)
            code = cli_flush_stdout();
        if (code == 0 && r->verdict == VERDICT_WORSE)
            code = CMP_WORSE;
    }
    newstag_dataset_free(ds);
    free(r);
    return code;
}

static void free_side(cmp_side *s)
{
    newstag_model_free(s->model);
    free(s->pred);
    free(s->gold);
}

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *paths[2] = {NULL, NULL};
    int c, nmodels = 0, as_json = 0, code = 0;
    cmp_side old = {0}, new = {0};

    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (nmodels == 2) {
                cli_error("compare takes exactly two models: -m OLD -m NEW");
                return EX_USAGE;
            }
            paths[nmodels++] = optarg;
            break;
        case 'j': as_json = 1; break;
        case 'h': help(); return 0;
        default: return EX_USAGE;
        }
    }
    if (nmodels != 2) {
        cli_error("compare needs two models: -m OLD -m NEW (see --help)");
        return EX_USAGE;
    }
    if (optind >= argc) {
        cli_error("compare needs at least one labeled file (see --help)");
        return EX_USAGE;
    }
    if ((old.model = cli_load_model(paths[0], &code)) &&
        (new.model = cli_load_model(paths[1], &code)))
        code = compare(&old, &new, argv + optind, argc - optind, as_json);
    free_side(&old);
    free_side(&new);
    return code;
}
