/*
 * report.c - the HTML evaluation report of `newstag eval --report`.
 *
 * One file that is safe to open anywhere: inline CSS and inline SVG, no
 * script, nothing fetched (no fonts, images or links to other files), every
 * piece of data text HTML-escaped and made valid UTF-8. In order: a header
 * naming the model and the data, micro and macro F1 with a per-label table,
 * per-label precision/recall/F1 bars, a threshold sweep chart per label,
 * the gold-against-predicted matrix, and the worst misclassified items.
 * Everything uses the model's own labels, however many it has.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <utf8proc.h>

#include "cli.h"
#include "report.h"

#define SWEEP_STEPS 100         /* sweep thresholds 0, 0.01, ..., 1 */
#define WORST_ITEMS 20          /* misclassified items listed, in all */
#define TITLE_CHARS 140         /* characters of an item's title shown */

/* Per-label counts at the thresholds in use, and their averages. */
typedef struct report_metrics {
    cli_counts at[NEWSTAG_MAX_LABELS];
    cli_counts micro;
    double macro_f1;
} report_metrics;

/* The plotting area of a chart, in SVG units. */
typedef struct plot_area {
    double x, y, w, h;
} plot_area;

/* One misclassified (item, label) pair. */
typedef struct miss {
    size_t item, label;
    float score;
    int false_positive;
    double badness;             /* FP: its score; FN: 1 - its score */
} miss;

enum { METRIC_PRECISION, METRIC_RECALL, METRIC_F1 };

static const char STYLE[] =
    "*{box-sizing:border-box}\n"
    "body{font:14px/1.45 \"DejaVu Sans\",Verdana,Arial,sans-serif;color:#222;"
    "background:#fff;max-width:1160px;margin:0 auto;padding:16px 24px}\n"
    "h1{font-size:22px;margin:0 0 10px}\n"
    "h2{font-size:18px;margin:30px 0 10px;padding-bottom:4px;border-bottom:1px solid #ddd}\n"
    "h3{font-size:14px;margin:0 0 4px}\n"
    "p.note{color:#555;margin:4px 0 10px}\n"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}\n"
    "dl.meta dt{color:#666}dl.meta dd{margin:0;overflow-wrap:anywhere}\n"
    ".kpis{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0 14px}\n"
    ".kpi{border:1px solid #ddd;border-radius:6px;padding:6px 16px;min-width:130px}\n"
    ".kpi b{display:block;font-size:22px}\n"
    "table{border-collapse:collapse;font-size:13px;margin:4px 0}\n"
    "th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}\n"
    "th{background:#f4f4f4;font-weight:600}\n"
    ".t{text-align:left}\n"
    "svg{display:block;max-width:100%;height:auto;"
    "font:11px \"DejaVu Sans\",Verdana,Arial,sans-serif}\n"
    "svg .grid{stroke:#e8e8e8;stroke-width:1}svg .axis{stroke:#555;stroke-width:1}\n"
    "svg .tick{fill:#555}svg .name{fill:#222;font-size:12px}svg .val{fill:#333;font-size:10px}\n"
    "svg .sep{stroke:#bbb;stroke-dasharray:3 3}\n"
    ".bar-p{fill:#3b6fc9}.bar-r{fill:#e8871e}.bar-f{fill:#2a9d50}\n"
    ".line{fill:none;stroke-width:2}.line.p{stroke:#3b6fc9}"
    ".line.r{stroke:#e8871e;stroke-dasharray:7 3}.line.f{stroke:#2a9d50;stroke-width:2.6}\n"
    ".thr{stroke:#c0392b;stroke-width:1.5;stroke-dasharray:4 3}\n"
    ".thr-text{fill:#c0392b;font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:3px}\n"
    ".sweeps{display:grid;grid-template-columns:repeat(auto-fill,minmax(350px,1fr));gap:14px}\n"
    "figure{margin:0;border:1px solid #e3e3e3;border-radius:6px;padding:8px}\n"
    "figcaption{font-size:12px;color:#555;margin-top:4px}\n"
    ".matrix td{min-width:58px}.matrix td.dark{color:#fff}\n"
    ".matrix td.diag{outline:2px solid #2a9d50;outline-offset:-2px}\n"
    ".worst td{vertical-align:top;overflow-wrap:anywhere}\n"
    ".worst td.title{min-width:220px;max-width:330px}\n"
    ".worst td.item{min-width:80px;max-width:150px;overflow-wrap:break-word}\n"
    ".worst td.error{min-width:150px;max-width:220px}\n"
    ".worst td.labels{min-width:140px;max-width:220px}.worst small{color:#666}\n"
    ".tag{font-weight:600}.tag.fp{color:#c0392b}.tag.fn{color:#8e44ad}\n"
    ".scores{font-size:11px;color:#555;min-width:220px;max-width:300px}.scores b{color:#000}\n"
    ".scroll{overflow-x:auto;max-width:100%}\n"
    "footer{margin:30px 0 10px;color:#888;font-size:12px}\n";

/* ---- escaping and SVG helpers ------------------------------------------ */

static int is_unsafe_code_point(utf8proc_int32_t cp)
{
    return (cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp < 0xa0) ||
           (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

/* Write len bytes of s as HTML text (safe in attribute values too): markup
 * characters escaped, malformed UTF-8 and control characters replaced by
 * U+FFFD, at most max_chars characters, then an ellipsis. */
static void put_escaped(FILE *f, const char *s, size_t len, size_t max_chars)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t i = 0, chars = 0;

    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_uint8_t buf[4];
        utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);

        if (chars++ == max_chars) {
            fputs("\xe2\x80\xa6", f);                  /* U+2026 ellipsis */
            return;
        }
        if (n < 1) {
            n = 1;
            cp = 0xfffd;
        } else if (is_unsafe_code_point(cp)) {
            cp = 0xfffd;
        }
        i += (size_t)n;
        switch (cp) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fwrite(buf, 1, (size_t)utf8proc_encode_char(cp, buf), f);
        }
    }
}

static void put_str(FILE *f, const char *s)
{
    put_escaped(f, s, strlen(s), SIZE_MAX);
}

static void svg_open(FILE *f, const char *cls, int w, int h, const char *title)
{
    fprintf(f, "<svg class=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "role=\"img\"><title>", cls, w, h, w, h);
    put_str(f, title);
    fputs("</title>\n", f);
}

static void svg_line(FILE *f, double x1, double y1, double x2, double y2,
                     const char *cls)
{
    fprintf(f, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            cls, x1, y1, x2, y2);
}

static void svg_rect(FILE *f, double x, double y, double w, double h, const char *cls)
{
    fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
            cls, x, y, w, h);
}

static void svg_text(FILE *f, double x, double y, const char *anchor, const char *cls,
                     const char *text)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">", x, y,
            anchor, cls);
    put_str(f, text);
    fputs("</text>\n", f);
}

static void svg_number(FILE *f, double x, double y, const char *anchor, const char *cls,
                       const char *fmt, double v)
{
    char buf[64];

    snprintf(buf, sizeof buf, fmt, v);
    svg_text(f, x, y, anchor, cls, buf);
}

/* ---- numbers ------------------------------------------------------------- */

/* A metric of counts, or -1 where it is undefined (nothing predicted, no
 * gold items): the sweep lines leave a gap there. */
static double metric_of(const cli_counts *c, int which)
{
    switch (which) {
    case METRIC_PRECISION: return c->tp + c->fp ? cli_precision(c) : -1;
    case METRIC_RECALL: return c->tp + c->fn ? cli_recall(c) : -1;
    default: return c->tp + c->fp + c->fn ? cli_f1(c) : -1;
    }
}

static int is_predicted(const cli_report_input *in, size_t item, size_t label)
{
    return cli_score(in->scores, item, label) >= in->thresholds[label];
}

static void compute_metrics(const cli_report_input *in, report_metrics *m)
{
    size_t l, L = in->scores->labels;
    double sum = 0;

    memset(m, 0, sizeof *m);
    for (l = 0; l < L; l++) {
        m->at[l] = cli_count_at(in->scores, l, in->thresholds[l]);
        m->micro.tp += m->at[l].tp;
        m->micro.fp += m->at[l].fp;
        m->micro.fn += m->at[l].fn;
        m->micro.tn += m->at[l].tn;
        sum += cli_f1(&m->at[l]);
    }
    m->macro_f1 = L ? sum / (double)L : 0;
}

static const char *label_name(const cli_report_input *in, size_t l)
{
    return newstag_model_label(in->model, l);
}

/* ---- header and summary ---------------------------------------------- */

static void write_head(FILE *f)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>newstag evaluation report</title>\n<style>\n%s</style>\n"
               "</head>\n<body>\n", STYLE);
}

static void meta_row(FILE *f, const char *name, const char *value)
{
    fprintf(f, "<dt>%s</dt><dd>", name);
    put_str(f, value);
    fputs("</dd>\n", f);
}

static void write_data_files(FILE *f, const cli_report_input *in)
{
    size_t k, start = 0;

    fputs("<dt>data</dt><dd>", f);
    for (k = 0; k < in->nfiles; k++) {
        if (k)
            fputs("<br>", f);
        put_str(f, in->files[k]);
        fprintf(f, " (%zu items)", in->file_end[k] - start);
        start = in->file_end[k];
    }
    fputs("</dd>\n", f);
}

/* Gold labels of the data that the model does not have, with item counts. */
static void write_unknown_labels(FILE *f, const cli_report_input *in)
{
    size_t l, i, shown = 0, n = newstag_dataset_size(in->ds);

    for (l = 0; l < newstag_dataset_num_labels(in->ds); l++) {
        const char *name = newstag_dataset_label(in->ds, l);
        size_t items = 0;
        if (newstag_model_label_index(in->model, name) >= 0)
            continue;
        for (i = 0; i < n; i++)
            items += newstag_dataset_has_label(in->ds, i, name) != 0;
        fputs(shown++ ? ", " : "<dt>gold labels the model lacks</dt><dd>", f);
        put_str(f, name);
        fprintf(f, " (%zu items)", items);
    }
    if (shown)
        fputs(" &mdash; not counted</dd>\n", f);
}

static void write_header(FILE *f, const cli_report_input *in)
{
    json_t *man = json_loads(newstag_model_manifest_json(in->model), 0, NULL);
    const char *sum = json_string_value(json_object_get(man, "checksum"));
    const char *trained =
        json_string_value(json_object_get(json_object_get(man, "training"), "date"));
    const char *tuned =
        json_string_value(json_object_get(json_object_get(man, "thresholds_tuned"), "date"));
    size_t l, L = in->scores->labels;

    fputs("<header>\n<h1>newstag evaluation report</h1>\n<dl class=\"meta\">\n", f);
    meta_row(f, "model", newstag_model_path(in->model));
    if (sum)
        meta_row(f, "manifest checksum", sum);
    if (trained)
        meta_row(f, "trained", trained);
    if (tuned)
        meta_row(f, "thresholds tuned", tuned);
    fprintf(f, "<dt>labels</dt><dd>%zu: ", L);
    for (l = 0; l < L; l++) {
        put_str(f, label_name(in, l));
        fputs(l + 1 < L ? ", " : "</dd>\n", f);
    }
    write_data_files(f, in);
    fprintf(f, "<dt>items</dt><dd id=\"items\">%zu</dd>\n", in->scores->items);
    if (in->uniform_threshold >= 0)
        fprintf(f, "<dt>thresholds</dt><dd>%.4g for every label (--threshold)</dd>\n",
                in->uniform_threshold);
    else
        fputs("<dt>thresholds</dt><dd>the model's own, per label</dd>\n", f);
    write_unknown_labels(f, in);
    fprintf(f, "<dt>made by</dt><dd>newstag %s</dd>\n</dl>\n</header>\n", NEWSTAG_VERSION);
    json_decref(man);
}

static void write_kpi(FILE *f, const char *id, const char *name, double v)
{
    fprintf(f, "<div class=\"kpi\"><span>%s</span><b id=\"%s\">%.4f</b></div>\n", name, id,
            v);
}

static void write_summary(FILE *f, const cli_report_input *in, const report_metrics *m)
{
    size_t l;

    fputs("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"kpis\">\n", f);
    write_kpi(f, "micro-precision", "micro precision", cli_precision(&m->micro));
    write_kpi(f, "micro-recall", "micro recall", cli_recall(&m->micro));
    write_kpi(f, "micro-f1", "micro F1", cli_f1(&m->micro));
    write_kpi(f, "macro-f1", "macro F1", m->macro_f1);
    fputs("</div>\n<table class=\"per-label\">\n<tr><th class=\"t\">label</th>"
          "<th>threshold</th><th>precision</th><th>recall</th><th>F1</th>"
          "<th>support</th><th>TP</th><th>FP</th><th>FN</th><th>TN</th></tr>\n", f);
    for (l = 0; l < in->scores->labels; l++) {
        const cli_counts *c = &m->at[l];
        fputs("<tr data-label=\"", f);
        put_str(f, label_name(in, l));
        fputs("\"><th class=\"t\">", f);
        put_str(f, label_name(in, l));
        fprintf(f, "</th><td class=\"threshold\">%.4g</td><td class=\"precision\">%.4f</td>"
                   "<td class=\"recall\">%.4f</td><td class=\"f1\">%.4f</td>"
                   "<td class=\"support\">%zu</td><td>%zu</td><td>%zu</td><td>%zu</td>"
                   "<td>%zu</td></tr>\n", in->thresholds[l], cli_precision(c),
                cli_recall(c), cli_f1(c), c->tp + c->fn, c->tp, c->fp, c->fn, c->tn);
    }
    fputs("</table>\n</section>\n", f);
}

/* ---- precision / recall / F1 bars -------------------------------------- */

static void bar_legend(FILE *f, double x, double y)
{
    static const char *const NAMES[] = {"precision", "recall", "F1"};
    static const char *const CLASSES[] = {"bar-p", "bar-r", "bar-f"};
    int k;

    for (k = 0; k < 3; k++) {
        svg_rect(f, x + k * 100, y - 9, 12, 10, CLASSES[k]);
        svg_text(f, x + k * 100 + 17, y, "start", "name", NAMES[k]);
    }
}

/* One group of three bars; a value < 0 is left out. */
static void bar_group(FILE *f, double x, double y, double width, const double v[3])
{
    static const char *const CLASSES[] = {"bar-p", "bar-r", "bar-f"};
    int k;

    for (k = 0; k < 3; k++) {
        if (v[k] < 0)
            continue;
        svg_rect(f, x, y + k * 12, width * v[k], 10, CLASSES[k]);
        svg_number(f, x + width * v[k] + 4, y + k * 12 + 9, "start", "val", "%.4f", v[k]);
    }
}

static void chart_metric_bars(FILE *f, const cli_report_input *in, const report_metrics *m)
{
    const int row_h = 48, top = 34, bottom = 30, bar_w = 480;
    size_t l, L = in->scores->labels, rows = L + 2, longest = 14;
    int left, width, height, k;
    double bottom_y;
    char support[64];

    for (l = 0; l < L; l++)
        if (strlen(label_name(in, l)) > longest)
            longest = strlen(label_name(in, l));
    left = 24 + 7 * (int)longest;
    width = left + bar_w + 150;
    height = top + (int)rows * row_h + bottom;
    bottom_y = top + (double)rows * row_h;
    svg_open(f, "chart bars", width, height, "precision, recall and F1 per label");
    bar_legend(f, left, 16);
    for (k = 0; k <= 5; k++) {
        double x = left + bar_w * k / 5.0;
        svg_line(f, x, top - 4, x, bottom_y, "grid");
        svg_number(f, x, bottom_y + 16, "middle", "tick", "%.1f", k / 5.0);
    }
    svg_line(f, left, top - 4, left, bottom_y, "axis");
    for (l = 0; l < rows; l++) {
        double y = top + (double)l * row_h + 6, v[3];
        const char *name;
        if (l < L) {
            name = label_name(in, l);
            v[0] = cli_precision(&m->at[l]), v[1] = cli_recall(&m->at[l]);
            v[2] = cli_f1(&m->at[l]);
            snprintf(support, sizeof support, "support %zu", m->at[l].tp + m->at[l].fn);
        } else if (l == L) {
            name = "micro average";
            v[0] = cli_precision(&m->micro), v[1] = cli_recall(&m->micro);
            v[2] = cli_f1(&m->micro);
            snprintf(support, sizeof support, "support %zu", m->micro.tp + m->micro.fn);
            svg_line(f, 8, y - 6, width - 8, y - 6, "sep");
        } else {
            name = "macro average";
            v[0] = v[1] = -1, v[2] = m->macro_f1;
            support[0] = '\0';
        }
        svg_text(f, left - 8, y + 22, "end", "name", name);
        bar_group(f, left, y, bar_w, v);
        if (support[0])
            svg_text(f, left + bar_w + 62, y + 22, "start", "tick", support);
    }
    fputs("</svg>\n", f);
}

/* ---- threshold sweeps ----------------------------------------------------- */

static double plot_x(const plot_area *p, double v)
{
    return p->x + v * p->w;
}

static double plot_y(const plot_area *p, double v)
{
    return p->y + (1 - v) * p->h;
}

static void sweep_axes(FILE *f, const plot_area *p)
{
    int k;

    for (k = 0; k <= 10; k++) {
        double x = plot_x(p, k / 10.0);
        svg_line(f, x, p->y, x, p->y + p->h, "grid");
        if (k % 2 == 0)
            svg_number(f, x, p->y + p->h + 14, "middle", "tick", "%.1f", k / 10.0);
    }
    for (k = 0; k <= 4; k++) {
        double y = plot_y(p, k / 4.0);
        svg_line(f, p->x, y, p->x + p->w, y, "grid");
        svg_number(f, p->x - 5, y + 4, "end", "tick", "%g", k / 4.0);
    }
    svg_line(f, p->x, p->y + p->h, p->x + p->w, p->y + p->h, "axis");
    svg_line(f, p->x, p->y, p->x, p->y + p->h, "axis");
    svg_text(f, p->x + p->w / 2, p->y + p->h + 30, "middle", "tick", "threshold");
}

static void sweep_legend(FILE *f, double x, double y)
{
    static const char *const NAMES[] = {"precision", "recall", "F1"};
    static const char *const CLASSES[] = {"line p", "line r", "line f"};
    int k;

    for (k = 0; k < 3; k++) {
        svg_line(f, x + k * 96, y - 4, x + k * 96 + 22, y - 4, CLASSES[k]);
        svg_text(f, x + k * 96 + 27, y, "start", "name", NAMES[k]);
    }
}

/* One metric across the sweep as a path, broken where it is undefined. */
static void sweep_line(FILE *f, const plot_area *p, const cli_counts *sweep, int which,
                       const char *cls)
{
    int k, pen_up = 1;

    fprintf(f, "<path class=\"%s\" d=\"", cls);
    for (k = 0; k <= SWEEP_STEPS; k++) {
        double v = metric_of(&sweep[k], which);
        if (v < 0) {
            pen_up = 1;
            continue;
        }
        fprintf(f, "%c%.1f %.1f ", pen_up ? 'M' : 'L',
                plot_x(p, (double)k / SWEEP_STEPS), plot_y(p, v));
        pen_up = 0;
    }
    fputs("\"/>\n", f);
}

static void threshold_marker(FILE *f, const plot_area *p, double t)
{
    double x = plot_x(p, t);
    char text[48];

    snprintf(text, sizeof text, "threshold %.4g", t);
    svg_line(f, x, p->y, x, p->y + p->h, "thr");
    svg_line(f, x, p->y - 14, x, p->y, "thr");
    svg_text(f, t > 0.6 ? x - 4 : x + 4, p->y - 5, t > 0.6 ? "end" : "start", "thr-text",
             text);
}

static void sweep_caption(FILE *f, const cli_report_input *in, size_t l,
                          const cli_counts *sweep)
{
    cli_counts at = cli_count_at(in->scores, l, in->thresholds[l]);
    double best = -1;
    int k, first = 0, last = 0;

    for (k = 0; k <= SWEEP_STEPS; k++) {
        double v = cli_f1(&sweep[k]);
        if (v > best + 1e-12) {
            best = v;
            first = last = k;
        } else if (v > best - 1e-12) {
            last = k;
        }
    }
    fputs("<figcaption>", f);
    if (at.tp + at.fn == 0)
        fputs("No item of the data has this label. ", f);
    fprintf(f, "At %.4g: precision %.4f, recall %.4f, F1 %.4f (support %zu). ",
            in->thresholds[l], cli_precision(&at), cli_recall(&at), cli_f1(&at),
            at.tp + at.fn);
    if (first == last)
        fprintf(f, "Best F1 on this data %.4f at %.2f.", best, first / (double)SWEEP_STEPS);
    else
        fprintf(f, "Best F1 on this data %.4f from %.2f to %.2f.", best,
                first / (double)SWEEP_STEPS, last / (double)SWEEP_STEPS);
    fputs("</figcaption>\n", f);
}

/* sweep: scratch for SWEEP_STEPS + 1 counts. */
static void chart_sweep(FILE *f, const cli_report_input *in, size_t l, cli_counts *sweep)
{
    const plot_area p = {42, 44, 294, 158};
    char title[128];
    int k;

    for (k = 0; k <= SWEEP_STEPS; k++)
        sweep[k] = cli_count_at(in->scores, l, (double)k / SWEEP_STEPS);
    fputs("<figure class=\"sweep\" data-label=\"", f);
    put_str(f, label_name(in, l));
    fputs("\">\n<h3>", f);
    put_str(f, label_name(in, l));
    fputs("</h3>\n", f);
    snprintf(title, sizeof title, "%s: precision, recall and F1 against threshold",
             label_name(in, l));
    svg_open(f, "chart sweep", 350, 246, title);
    sweep_legend(f, p.x, 14);
    sweep_axes(f, &p);
    sweep_line(f, &p, sweep, METRIC_F1, "line f");     /* the thick one underneath */
    sweep_line(f, &p, sweep, METRIC_RECALL, "line r");
    sweep_line(f, &p, sweep, METRIC_PRECISION, "line p");
    threshold_marker(f, &p, in->thresholds[l]);
    fputs("</svg>\n", f);
    sweep_caption(f, in, l, sweep);
    fputs("</figure>\n", f);
}

static int write_sweeps(FILE *f, const cli_report_input *in)
{
    cli_counts *sweep = malloc((SWEEP_STEPS + 1) * sizeof *sweep);
    size_t l;

    if (!sweep)
        return -1;
    fputs("<section id=\"sweeps\">\n<h2>Threshold sweeps</h2>\n"
          "<p class=\"note\">Precision, recall and F1 of each label on this data if its "
          "threshold were anywhere from 0 to 1 (step 0.01); the red line is the threshold "
          "in use. Precision has a gap where nothing is predicted.</p>\n"
          "<div class=\"sweeps\">\n", f);
    for (l = 0; l < in->scores->labels; l++)
        chart_sweep(f, in, l, sweep);
    fputs("</div>\n</section>\n", f);
    free(sweep);
    return 0;
}

/* ---- gold against predicted ----------------------------------------------- */

/* Row or column index k names a label, or (k == L) "(none)". */
static void matrix_heading(FILE *f, const cli_report_input *in, size_t k, const char *tag)
{
    fprintf(f, "<%s class=\"t\">", tag);
    put_str(f, k < in->scores->labels ? label_name(in, k) : "(none)");
    fprintf(f, "</%s>", tag);
}

static void matrix_cell(FILE *f, size_t count, size_t row_items, int diagonal)
{
    double share = row_items ? (double)count / (double)row_items : 0;

    fprintf(f, "<td class=\"%s%s\" style=\"background:rgba(59,111,201,%.2f)\" "
               "title=\"%.1f%% of the row\">%zu</td>",
            diagonal ? "diag" : "", share > 0.55 ? " dark" : "", share * 0.9, share * 100,
            count);
}

/* cells: (L+1) x (L+1) counts; row_items: items per gold row. */
static void count_matrix(const cli_report_input *in, size_t *cells, size_t *row_items)
{
    size_t L = in->scores->labels, i, g, p;

    for (i = 0; i < in->scores->items; i++) {
        int any_gold = in->scores->gold[i] != 0, any_pred = 0;
        for (p = 0; p < L; p++)
            any_pred |= is_predicted(in, i, p);
        for (g = 0; g <= L; g++) {
            if (g < L ? !cli_is_gold(in->scores, i, g) : any_gold)
                continue;
            row_items[g]++;
            for (p = 0; p <= L; p++)
                if (p < L ? is_predicted(in, i, p) : !any_pred)
                    cells[g * (L + 1) + p]++;
        }
    }
}

static int write_matrix(FILE *f, const cli_report_input *in)
{
    size_t L = in->scores->labels, g, p;
    size_t *cells = calloc((L + 1) * (L + 1), sizeof *cells);
    size_t *row_items = calloc(L + 1, sizeof *row_items);

    if (!cells || !row_items) {
        free(cells), free(row_items);
        return -1;
    }
    count_matrix(in, cells, row_items);
    fputs("<section id=\"confusion\">\n<h2>Gold labels against predicted labels</h2>\n"
          "<p class=\"note\">A cell counts the items that carry the row's gold label and "
          "got the column's predicted label (an item counts once per pair, so a row can "
          "add up to more than its items). Shading is the share of the row's items; "
          "the outlined cells are agreement.</p>\n<div class=\"scroll\"><table class=\"matrix\">\n"
          "<tr><th class=\"t\">gold \\ predicted</th>", f);
    for (p = 0; p <= L; p++)
        matrix_heading(f, in, p, "th");
    fputs("<th>items</th></tr>\n", f);
    for (g = 0; g <= L; g++) {
        fputs("<tr>", f);
        matrix_heading(f, in, g, "th");
        for (p = 0; p <= L; p++)
            matrix_cell(f, cells[g * (L + 1) + p], row_items[g], g == p);
        fprintf(f, "<td>%zu</td></tr>\n", row_items[g]);
    }
    fputs("</table></div>\n</section>\n", f);
    free(cells), free(row_items);
    return 0;
}

/* ---- the worst misclassified items ------------------------------------- */

static int worse_than(const miss *a, const miss *b)
{
    if (a->badness != b->badness)
        return a->badness > b->badness;
    return a->item != b->item ? a->item < b->item : a->label < b->label;
}

/* Keep the cap worst in top[], sorted worst first. */
static void keep_worst(miss *top, size_t *n, size_t cap, const miss *m)
{
    size_t k;

    if (*n == cap && !worse_than(m, &top[cap - 1]))
        return;
    k = *n < cap ? (*n)++ : cap - 1;
    while (k > 0 && worse_than(m, &top[k - 1])) {
        top[k] = top[k - 1];
        k--;
    }
    top[k] = *m;
}

/* Half false positives, half false negatives (either fills in for the other
 * when it runs short), worst first. Returns how many are in out[]. */
static size_t pick_worst(const cli_report_input *in, miss *out)
{
    miss fp[WORST_ITEMS], fn[WORST_ITEMS];
    size_t nfp = 0, nfn = 0, i, l, take_fp, take_fn, n = 0, a = 0, b = 0;

    for (i = 0; i < in->scores->items; i++)
        for (l = 0; l < in->scores->labels; l++) {
            int gold = cli_is_gold(in->scores, i, l), got = is_predicted(in, i, l);
            miss m = {i, l, cli_score(in->scores, i, l), got, 0};
            if (gold == got)
                continue;
            m.badness = got ? m.score : 1.0 - m.score;
            keep_worst(got ? fp : fn, got ? &nfp : &nfn, WORST_ITEMS, &m);
        }
    take_fp = nfp < WORST_ITEMS / 2 ? nfp : WORST_ITEMS / 2;
    take_fn = nfn < WORST_ITEMS - take_fp ? nfn : WORST_ITEMS - take_fp;
    if (take_fp + take_fn < WORST_ITEMS)
        take_fp = nfp < WORST_ITEMS - take_fn ? nfp : WORST_ITEMS - take_fn;
    while (a < take_fp || b < take_fn)          /* merge, worst first */
        out[n++] = b >= take_fn || (a < take_fp && worse_than(&fp[a], &fn[b])) ? fp[a++]
                                                                                : fn[b++];
    return n;
}

/* The item's title: its first non-empty line. */
static void put_title(FILE *f, const char *text)
{
    const char *end;

    while (*text == '\n' || *text == ' ' || *text == '\t' || *text == '\r')
        text++;
    end = strchr(text, '\n');
    put_escaped(f, text, end ? (size_t)(end - text) : strlen(text), TITLE_CHARS);
}

static void put_label_set(FILE *f, const cli_report_input *in, size_t item, int predicted)
{
    size_t l, shown = 0;

    for (l = 0; l < in->scores->labels; l++)
        if (predicted ? is_predicted(in, item, l) : cli_is_gold(in->scores, item, l)) {
            fputs(shown++ ? ", " : "", f);
            put_str(f, label_name(in, l));
        }
    if (!shown)
        fputs("(none)", f);
}

/* A path that may wrap after its slashes. */
static void put_path(FILE *f, const char *path)
{
    const char *slash;

    while ((slash = strchr(path, '/')) != NULL) {
        put_escaped(f, path, (size_t)(slash - path) + 1, SIZE_MAX);
        fputs("<wbr>", f);
        path = slash + 1;
    }
    put_str(f, path);
}

static void put_item_position(FILE *f, const cli_report_input *in, size_t item)
{
    size_t k = 0;

    fprintf(f, "<td class=\"item\">%zu", item + 1);
    if (in->nfiles > 1) {
        while (k + 1 < in->nfiles && item >= in->file_end[k])
            k++;
        fputs("<br><small>", f);
        put_path(f, in->files[k]);
        fprintf(f, " #%zu</small>", item + 1 - (k ? in->file_end[k - 1] : 0));
    }
    fputs("</td>", f);
}

static void worst_row(FILE *f, const cli_report_input *in, const miss *m)
{
    size_t l;

    fprintf(f, "<tr class=\"%s\">", m->false_positive ? "fp" : "fn");
    put_item_position(f, in, m->item);
    fprintf(f, "<td class=\"t error\"><span class=\"tag %s\">%s</span><br>",
            m->false_positive ? "fp" : "fn",
            m->false_positive ? "false positive" : "false negative");
    put_str(f, label_name(in, m->label));
    fprintf(f, " %.4f</td><td class=\"t title\">", (double)m->score);
    put_title(f, newstag_dataset_text(in->ds, m->item));
    fputs("</td><td class=\"t labels\">", f);
    put_label_set(f, in, m->item, 0);
    fputs("</td><td class=\"t labels\">", f);
    put_label_set(f, in, m->item, 1);
    fputs("</td><td class=\"t scores\">", f);
    for (l = 0; l < in->scores->labels; l++) {
        fputs(l == m->label ? "<b>" : "", f);
        put_str(f, label_name(in, l));
        fprintf(f, "&nbsp;%.4f%s%s", (double)cli_score(in->scores, m->item, l),
                l == m->label ? "</b>" : "", l + 1 < in->scores->labels ? ", " : "");
    }
    fputs("</td></tr>\n", f);
}

static void write_worst(FILE *f, const cli_report_input *in)
{
    miss worst[WORST_ITEMS];
    size_t n = pick_worst(in, worst), k;

    fprintf(f, "<section id=\"misclassified\">\n<h2>Worst misclassified items</h2>\n"
               "<p class=\"note\">The highest-scoring false positives and the "
               "lowest-scoring false negatives, up to %d in all, worst first. Item numbers "
               "count the items of the data from 1.</p>\n<div class=\"scroll\"><table class=\"worst\">\n"
               "<tr><th>item</th><th class=\"t\">error</th><th class=\"t\">title</th>"
               "<th class=\"t\">gold</th><th class=\"t\">predicted</th>"
               "<th class=\"t\">scores</th></tr>\n", WORST_ITEMS);
    for (k = 0; k < n; k++)
        worst_row(f, in, &worst[k]);
    if (n == 0)
        fputs("<tr><td class=\"t\" colspan=\"6\">None: every label of every item was "
              "predicted right at the thresholds in use.</td></tr>\n", f);
    fputs("</table></div>\n</section>\n", f);
}

/* ---- the file --------------------------------------------------------------- */

static int write_report(FILE *f, const cli_report_input *in)
{
    report_metrics m;

    compute_metrics(in, &m);
    write_head(f);
    write_header(f, in);
    write_summary(f, in, &m);
    fputs("<section id=\"metrics\">\n<h2>Precision, recall and F1 per label</h2>\n", f);
    chart_metric_bars(f, in, &m);
    fputs("</section>\n", f);
    if (write_sweeps(f, in) < 0 || write_matrix(f, in) < 0)
        return -1;
    write_worst(f, in);
    fputs("<footer>Made by newstag eval --report. This file has no script and "
          "loads nothing.</footer>\n</body>\n</html>\n", f);
    return 0;
}

/* A temporary file next to path, readable like any file the user creates. */
static FILE *open_temp_next_to(const char *path, char *tmp, size_t tmplen)
{
    mode_t mask = umask(0);
    int fd, n = snprintf(tmp, tmplen, "%s.tmp-XXXXXX", path);
    FILE *f;

    umask(mask);
    if (n < 0 || (size_t)n >= tmplen) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    if ((fd = mkstemp(tmp)) < 0)
        return NULL;
    if (fchmod(fd, 0666 & ~mask) != 0 || !(f = fdopen(fd, "w"))) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return NULL;
    }
    return f;
}

int cli_write_report(const char *path, const cli_report_input *in)
{
    char tmp[4096];
    FILE *f = open_temp_next_to(path, tmp, sizeof tmp);
    int e;

    if (!f) {
        cli_error("cannot create report %s: %s", path, strerror(errno));
        return EX_CANTCREAT;
    }
    errno = 0;
    if (write_report(f, in) < 0) {
        fclose(f);
        unlink(tmp);
        cli_error("cannot write report %s: out of memory", path);
        return EX_OSERR;
    }
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        e = errno ? errno : EIO;
        fclose(f);
        unlink(tmp);
        cli_error("cannot write report %s: %s", path, strerror(e));
        return EX_IOERR;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        cli_error("cannot write report %s: %s", path, strerror(e));
        return EX_IOERR;
    }
    return 0;
}
