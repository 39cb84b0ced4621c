/*
 * test_report.c - `newstag eval --report` (the HTML report: its sections,
 * its numbers against `eval --json`, how it renders in headless Chromium,
 * atomic writing), `newstag eval --tune-thresholds` (checked against the
 * test's own threshold sweep), and a custom 6-label model trained, used by
 * classify and mail, and reported on, end to end.
 */
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>

#include "testutil.h"

#include "newstag.h"

#define CHROMIUM "/usr/bin/chromium"
#define SAME 1e-12

static char cli[256];
static char *tmp;

static int setup(void **state)
{
    (void)state;
    return tu_cli_setup(cli, sizeof cli, &tmp);
}

static int teardown(void **state)
{
    (void)state;
    return tu_tmp_teardown(&tmp);
}

/* ---- helpers ---------------------------------------------------------------- */

static char *run_ok(const char *cmd)
{
    char *out, *err;
    int rc = tu_run(cmd, NULL, &out, NULL, &err);

    if (rc != 0)
        fail_msg("exit %d from: %s\n%s", rc, cmd, err ? err : "");
    free(err);
    return out;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    const char *p = hay;

    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

static int exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* Entries in a directory whose name starts with prefix. */
static size_t entries_starting(const char *dir, const char *prefix)
{
    char cmd[2048], *out;
    size_t n;

    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -c '^%s' || true", dir, prefix);
    out = run_ok(cmd);
    n = strtoul(out, NULL, 10);
    free(out);
    return n;
}

static json_t *eval_json(const char *model, const char *data)
{
    char cmd[2048], *out;
    json_t *j;

    snprintf(cmd, sizeof cmd, "%s eval --json -m %s %s", cli, model, data);
    out = run_ok(cmd);
    j = json_loads(out, 0, NULL);
    assert_non_null(j);
    free(out);
    return j;
}

static int valid_utf8(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(len - i), &cp);
        if (n < 1)
            return 0;
        i += (size_t)n;
    }
    return 1;
}

/* The number in the report's per-label table: row of `label`, cell `cls`. */
static double table_number(const char *html, const char *label, const char *cls)
{
    char row[128], cell[64];
    const char *p, *end;

    snprintf(row, sizeof row, "<tr data-label=\"%s\">", label);
    snprintf(cell, sizeof cell, "class=\"%s\">", cls);
    p = strstr(html, row);
    assert_non_null(p);
    end = strstr(p, "</tr>");
    p = strstr(p, cell);
    assert_non_null(p);
    assert_true(p < end);
    return strtod(p + strlen(cell), NULL);
}

static double kpi_number(const char *html, const char *id)
{
    char key[64];
    const char *p;

    snprintf(key, sizeof key, "<b id=\"%s\">", id);
    p = strstr(html, key);
    assert_non_null(p);
    return strtod(p + strlen(key), NULL);
}

/* Every label's precision, recall, F1 and support, and micro and macro F1,
 * as the report shows them, equal `eval --json` on the same data. */
static void assert_report_agrees(const char *html, const newstag_model *m, json_t *ev)
{
    static const char *const METRICS[] = {"precision", "recall", "f1"};
    size_t l, k;

    for (l = 0; l < newstag_model_num_labels(m); l++) {
        const char *name = newstag_model_label(m, l);
        json_t *per = json_object_get(json_object_get(ev, "labels"), name);
        assert_non_null(per);
        for (k = 0; k < 3; k++) {
            double want = json_number_value(json_object_get(per, METRICS[k]));
            double got = table_number(html, name, METRICS[k]);
            if (fabs(want - got) > 6e-5)
                fail_msg("%s %s: report %.4f, eval --json %.6f", name, METRICS[k], got, want);
        }
        assert_int_equal((size_t)table_number(html, name, "support"),
                         (size_t)json_integer_value(json_object_get(per, "support")));
    }
    assert_true(fabs(kpi_number(html, "micro-f1") -
                     json_number_value(json_object_get(ev, "micro_f1"))) < 6e-5);
    assert_true(fabs(kpi_number(html, "macro-f1") -
                     json_number_value(json_object_get(ev, "macro_f1"))) < 6e-5);
}

/* The report's structure for model m: one sweep chart per label (each with
 * three lines and a threshold marker), the bars, the matrix, the table of
 * misclassified items; valid UTF-8; no script and nothing loaded. */
static void assert_report_shape(char *html, size_t len, const newstag_model *m)
{
    char *matrix, *matrix_end;
    static const char *const FORBIDDEN[] = {"<script", "<img", "<link", "<iframe", "<object",
                                            "<embed", " src=\"", " href=\"", "url(",
                                            "@import", "http://", "https://"};
    size_t l, L = newstag_model_num_labels(m), k;
    char key[256];

    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_true(valid_utf8(html, len));
    assert_int_equal(strlen(html), len);             /* no NUL bytes */
    for (k = 0; k < sizeof FORBIDDEN / sizeof FORBIDDEN[0]; k++)
        if (strstr(html, FORBIDDEN[k]))
            fail_msg("the report contains \"%s\"", FORBIDDEN[k]);
    assert_int_equal(count_of(html, "<figure class=\"sweep\""), L);
    assert_int_equal(count_of(html, "<svg class=\"chart sweep\""), L);
    assert_int_equal(count_of(html, "<path class=\"line "), 3 * L);
    assert_int_equal(count_of(html, "<svg class=\"chart bars\""), 1);
    assert_int_equal(count_of(html, "<table class=\"matrix\">"), 1);
    assert_int_equal(count_of(html, "<table class=\"worst\">"), 1);
    assert_int_equal(count_of(html, "<svg "), L + 1);
    for (l = 0; l < L; l++) {
        snprintf(key, sizeof key, "<figure class=\"sweep\" data-label=\"%s\">",
                 newstag_model_label(m, l));
        assert_int_equal(count_of(html, key), 1);
        snprintf(key, sizeof key, ">threshold %.4g</text>", newstag_model_threshold(m, l));
        assert_non_null(strstr(html, key));
    }
    /* the matrix: a row and a column per label, plus "(none)" for each */
    matrix = strstr(html, "<table class=\"matrix\">");
    matrix_end = strstr(matrix, "</table>");
    assert_non_null(matrix_end);
    *matrix_end = '\0';
    assert_int_equal(count_of(matrix, "(none)"), 2);
    assert_int_equal(count_of(matrix, "<tr>"), L + 2);
    assert_int_equal(count_of(matrix, "<td class=\"diag"), L + 1);
    *matrix_end = '<';
}

static char *make_report(const char *model, const char *data, const char *name,
                         size_t *len)
{
    char cmd[2048], path[256], *out, *html;

    snprintf(path, sizeof path, "%s/%s", tmp, name);
    snprintf(cmd, sizeof cmd, "%s eval -m %s --report %s %s", cli, model, path, data);
    out = run_ok(cmd);
    assert_non_null(strstr(out, "micro P"));         /* the table still prints */
    free(out);
    html = tu_read_file(path, len);
    assert_non_null(html);
    return html;
}

/* ---- the report of the shipped model ------------------------------------------- */

static void test_report_contents(void **state)
{
    newstag_error err;
    newstag_model *m = newstag_model_load(tu_model(), &err);
    json_t *ev = eval_json(tu_model(), "tests/data/small.jsonl");
    size_t len;
    char *html = make_report(tu_model(), "tests/data/small.jsonl", "small.html", &len);

    (void)state;
    assert_non_null(m);
    assert_report_shape(html, len, m);
    assert_report_agrees(html, m, ev);
    assert_non_null(strstr(html, newstag_model_path(m)));
    assert_non_null(strstr(html, "tests/data/small.jsonl (320 items)"));
    assert_non_null(strstr(html, "<dd id=\"items\">320</dd>"));
    json_decref(ev);
    free(html);
    newstag_model_free(m);
}

/* Item text is escaped and made valid UTF-8. The items carry the model's
 * first label but are about nothing, so they are false negatives and
 * their titles are shown among the worst items. */
static void test_report_escapes_item_text(void **state)
{
    char path[256], data[256];
    newstag_error err;
    newstag_model *m = newstag_model_load(tu_model(), &err);
    size_t len;
    char *html;
    int n;

    (void)state;
    assert_non_null(m);
    n = snprintf(data, sizeof data,
                 "__label__%s <script>alert(1)</script> & \"quoted\" 'x' \xff\xfe broken\n"
                 "__label__%s <img src=x onerror=alert(2)> \x01 end\n",
                 newstag_model_label(m, 0), newstag_model_label(m, 0));
    snprintf(path, sizeof path, "%s/hostile.txt", tmp);
    tu_write_file(path, data, (size_t)n);
    html = make_report(tu_model(), path, "hostile.html", &len);
    assert_report_shape(html, len, m);
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; "
                                 "&quot;quoted&quot; &#39;x&#39; \xef\xbf\xbd\xef\xbf\xbd"));
    assert_non_null(strstr(html, "&lt;img src=x onerror=alert(2)&gt; \xef\xbf\xbd end"));
    assert_int_equal(count_of(html, "<tr class=\"fn\">"), 2);
    free(html);
    newstag_model_free(m);
}

/* ---- rendering in headless Chromium -------------------------------------------- */

static const char PROBE[] =
    "<pre id=\"probe\"></pre><script>(function () {\n"
    "  var d = document.documentElement, out = {cw: d.clientWidth, sw: d.scrollWidth,\n"
    "    sh: d.scrollHeight, svgs: [], outside: 0};\n"
    "  document.querySelectorAll('svg').forEach(function (s) {\n"
    "    var r = s.getBoundingClientRect();\n"
    "    out.svgs.push([r.left + scrollX, r.top + scrollY, r.width, r.height]);\n"
    "    s.querySelectorAll('text').forEach(function (t) {\n"
    "      var q = t.getBoundingClientRect();\n"
    "      if (q.width <= 0 || q.left < r.left - 1 || q.right > r.right + 1 ||\n"
    "          q.top < r.top - 1 || q.bottom > r.bottom + 1) out.outside++;\n"
    "    });\n"
    "  });\n"
    "  var m = document.querySelector('table.matrix').getBoundingClientRect();\n"
    "  out.matrix = [m.width, m.height];\n"
    "  document.getElementById('probe').textContent = JSON.stringify(out);\n"
    "})();</script>\n";

static void chromium_command(char *cmd, size_t len, const char *args, const char *url)
{
    snprintf(cmd, len, "HOME=%s/chrome-home timeout 60 " CHROMIUM " --headless "
             "--no-sandbox --disable-gpu --hide-scrollbars --user-data-dir=%s/chrome-profile "
             "--window-size=1200,3000 %s file://%s", tmp, tmp, args, url);
}

static json_t *probe_layout(const char *html)
{
    char page[256], cmd[2048], *with_probe, *dom, *start, *end;
    json_t *layout;

    snprintf(page, sizeof page, "%s/probe.html", tmp);
    assert_non_null(strstr(html, "</body>"));
    with_probe = tu_replace(html, "</body>", PROBE);
    tu_write_file(page, with_probe, strlen(with_probe));
    free(with_probe);
    chromium_command(cmd, sizeof cmd, "--dump-dom", page);
    dom = run_ok(cmd);
    start = strstr(dom, "<pre id=\"probe\">");
    assert_non_null(start);
    start += strlen("<pre id=\"probe\">");
    end = strstr(start, "</pre>");
    assert_non_null(end);
    *end = '\0';
    layout = json_loads(start, 0, NULL);
    if (!layout)
        fail_msg("probe output is not JSON: %s", start);
    free(dom);
    return layout;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Sum of the IDAT chunk lengths (compressed pixels) of a PNG, after checking
 * its signature and that IHDR says width x height. */
static size_t png_pixel_bytes(const unsigned char *png, size_t len, uint32_t width,
                              uint32_t height)
{
    size_t pos = 8, idat = 0;

    assert_true(len > 33);
    assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(png + 12, "IHDR", 4);
    assert_int_equal(be32(png + 16), width);
    assert_int_equal(be32(png + 20), height);
    while (pos + 12 <= len) {
        uint32_t n = be32(png + pos);
        if (memcmp(png + pos + 4, "IDAT", 4) == 0)
            idat += n;
        pos += 12 + (size_t)n;
    }
    return idat;
}

static void test_report_renders_in_chromium(void **state)
{
    char cmd[2048], arg[300], report[256], shot[256], *out, *png;
    newstag_error err;
    newstag_model *m = newstag_model_load(tu_model(), &err);
    size_t len, i, n_png;
    char *html = make_report(tu_model(), "tests/data/small.jsonl", "render.html", &len);
    json_t *layout, *svgs;
    double page_w, page_h;

    (void)state;
    assert_non_null(m);
    if (access(CHROMIUM, X_OK) != 0)
        fail_msg(CHROMIUM " is missing: run scripts/install-deps");
    layout = probe_layout(html);
    svgs = json_object_get(layout, "svgs");
    page_w = json_number_value(json_object_get(layout, "cw"));
    page_h = json_number_value(json_object_get(layout, "sh"));
    assert_true(page_w > 1000);
    assert_true(json_number_value(json_object_get(layout, "sw")) <= page_w);  /* no overflow */
    assert_int_equal(json_array_size(svgs), newstag_model_num_labels(m) + 1);
    for (i = 0; i < json_array_size(svgs); i++) {
        json_t *b = json_array_get(svgs, i);
        double x = json_number_value(json_array_get(b, 0)), y = json_number_value(json_array_get(b, 1));
        double w = json_number_value(json_array_get(b, 2)), h = json_number_value(json_array_get(b, 3));
        if (!(w > 100 && h > 100 && x >= 0 && y >= 0 && x + w <= page_w && y + h <= page_h))
            fail_msg("chart %zu at %.0f,%.0f size %.0fx%.0f, page %.0fx%.0f", i, x, y, w, h,
                     page_w, page_h);
    }
    assert_int_equal(json_integer_value(json_object_get(layout, "outside")), 0);
    assert_true(json_number_value(json_array_get(json_object_get(layout, "matrix"), 0)) > 100);
    json_decref(layout);

    snprintf(report, sizeof report, "%s/render.html", tmp);
    snprintf(shot, sizeof shot, "%s/render.png", tmp);
    snprintf(arg, sizeof arg, "--screenshot=%s", shot);
    chromium_command(cmd, sizeof cmd, arg, report);
    out = run_ok(cmd);
    free(out);
    png = tu_read_file(shot, &n_png);
    assert_non_null(png);
    /* a blank 1200x3000 page compresses to a few kilobytes */
    assert_true(png_pixel_bytes((unsigned char *)png, n_png, 1200, 3000) > 40000);
    free(png);
    free(html);
    newstag_model_free(m);
}

/* ---- writing the report ------------------------------------------------------- */

static void test_report_write_errors(void **state)
{
    char cmd[2048], path[300], dir[256], *out, *err, *kept;
    int rc;

    (void)state;
    snprintf(cmd, sizeof cmd, "%s eval -m %s --report %s/no/such/dir/r.html "
             "tests/data/small.jsonl", cli, tu_model(), tmp);
    rc = tu_run(cmd, NULL, &out, NULL, &err);
    assert_int_equal(rc, 73);                              /* EX_CANTCREAT */
    assert_non_null(strstr(err, "cannot create report"));
    assert_non_null(strstr(out, "micro P"));
    free(out), free(err);

    /* a write that fails half way (file size limit): an error, and the old
     * report is left as it was, with no temporary file next to it */
    snprintf(dir, sizeof dir, "%s/limited", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/r.html", dir);
    tu_write_file(path, "old report", 10);
    snprintf(cmd, sizeof cmd, "trap '' XFSZ; ulimit -f 16; %s eval -m %s --report %s "
             "tests/data/small.jsonl", cli, tu_model(), path);
    rc = tu_run(cmd, NULL, NULL, NULL, &err);
    assert_int_equal(rc, 74);                              /* EX_IOERR */
    assert_non_null(strstr(err, "cannot write report"));
    assert_non_null(strstr(err, "File too large"));
    kept = tu_read_file(path, NULL);
    assert_string_equal(kept, "old report");
    assert_int_equal(entries_starting(dir, "r.html.tmp"), 0);
    free(err), free(kept);
}

/* ---- threshold tuning --------------------------------------------------------- */

/* The test's own scores of a model on a data file. */
typedef struct scored {
    newstag_model *model;
    newstag_dataset *ds;
    float *score;
    size_t n, L;
} scored;

static void score_data(scored *s, const char *model, const char *data)
{
    newstag_error err;
    newstag_ctx *ctx;
    size_t i;

    assert_non_null(s->model = newstag_model_load(model, &err));
    assert_non_null(s->ds = newstag_dataset_new());
    assert_int_equal(newstag_dataset_read_file(s->ds, data, &err), 0);
    s->n = newstag_dataset_size(s->ds);
    s->L = newstag_model_num_labels(s->model);
    assert_non_null(s->score = malloc(s->n * s->L * sizeof *s->score));
    assert_non_null(ctx = newstag_ctx_new(s->model, &err));
    for (i = 0; i < s->n; i++) {
        const char *t = newstag_dataset_text(s->ds, i);
        assert_int_equal(newstag_classify(ctx, t, strlen(t), s->score + i * s->L, NULL, &err), 0);
    }
    newstag_ctx_free(ctx);
}

static void scored_free(scored *s)
{
    free(s->score);
    newstag_dataset_free(s->ds);
    newstag_model_free(s->model);
}

/* precision, recall, F1 of label l at threshold t (0 where undefined) */
static void prf_at(const scored *s, size_t l, double t, double out[3])
{
    size_t i, tp = 0, fp = 0, fn = 0;

    for (i = 0; i < s->n; i++) {
        int gold = newstag_dataset_has_label(s->ds, i, newstag_model_label(s->model, l));
        int got = s->score[i * s->L + l] >= t;
        tp += gold && got, fp += !gold && got, fn += gold && !got;
    }
    out[0] = tp + fp ? (double)tp / (double)(tp + fp) : 0;
    out[1] = tp + fn ? (double)tp / (double)(tp + fn) : 0;
    out[2] = tp ? 2.0 * tp / (2.0 * tp + fp + fn) : 0;
}

static json_t *manifest_of(const char *model)
{
    char cmd[2048], *out;
    json_t *j;

    snprintf(cmd, sizeof cmd, "%s info --json -m %s", cli, model);
    out = run_ok(cmd);
    assert_non_null(j = json_loads(out, 0, NULL));
    free(out);
    return j;
}

static void test_tune_thresholds_for_f1(void **state)
{
    const char *data = "training/corpus/dev_feed.jsonl";
    char out_dir[256], cmd[2048], *out, hex[65];
    json_t *man, *note, *before, *after;
    newstag_error err;
    newstag_model *tuned;
    scored s;
    size_t l;
    int k;

    (void)state;
    snprintf(out_dir, sizeof out_dir, "%s/tuned", tmp);
    snprintf(cmd, sizeof cmd, "%s eval -m %s --tune-thresholds %s %s", cli, tu_model(),
             out_dir, data);
    out = run_ok(cmd);
    snprintf(cmd, sizeof cmd, "%s info -m %s", cli, out_dir);
    free(run_ok(cmd));                       /* the copy loads and verifies */
    assert_non_null(tuned = newstag_model_load(out_dir, &err));
    score_data(&s, tu_model(), data);
    for (l = 0; l < s.L; l++) {
        double old_t = newstag_model_threshold(s.model, l), new_t, best = -1, m[3], line_old, line_new;
        const char *name = newstag_model_label(s.model, l), *row;
        assert_string_equal(newstag_model_label(tuned, l), name);
        new_t = newstag_model_threshold(tuned, l);
        for (k = 1; k < 100; k++) {
            prf_at(&s, l, k / 100.0, m);
            best = m[2] > best ? m[2] : best;
        }
        prf_at(&s, l, old_t, m);
        best = m[2] > best ? m[2] : best;
        if (m[2] < best - SAME)
            assert_true(new_t != old_t);      /* the F1-best differs: it moved */
        else
            assert_true(new_t == old_t);      /* already best: kept */
        prf_at(&s, l, new_t, m);
        assert_true(fabs(m[2] - best) < SAME);
        /* the printed line: label, old, new threshold */
        row = strstr(out, name);
        assert_non_null(row);
        assert_int_equal(sscanf(row + strlen(name), "%lf %lf", &line_old, &line_new), 2);
        assert_true(fabs(line_old - old_t) < 1e-3 && fabs(line_new - new_t) < 1e-3);
    }
    /* the manifest says what was done */
    man = manifest_of(out_dir);
    note = json_object_get(man, "thresholds_tuned");
    newstag_dataset_checksum(s.ds, hex);
    assert_string_equal(json_string_value(json_object_get(note, "data_sha256")), hex);
    before = manifest_of(tu_model());
    assert_string_equal(json_string_value(json_object_get(note, "source_manifest_sha256")),
                        json_string_value(json_object_get(before, "checksum")));
    assert_true(json_is_null(json_object_get(note, "min_precision")));
    assert_string_not_equal(json_string_value(json_object_get(man, "checksum")),
                            json_string_value(json_object_get(before, "checksum")));
    json_decref(man), json_decref(before);
    /* the copy does at least as well on the data */
    before = eval_json(tu_model(), data);
    after = eval_json(out_dir, data);
    assert_true(json_number_value(json_object_get(after, "micro_f1")) >=
                json_number_value(json_object_get(before, "micro_f1")) - 1e-9);
    json_decref(before), json_decref(after);
    scored_free(&s);
    newstag_model_free(tuned);
    free(out);
}

static void test_tune_thresholds_min_precision(void **state)
{
    const char *data = "training/corpus/dev_hard.jsonl";
    char out_dir[256], cmd[2048], *out, *err_text, note[128];
    json_t *ev, *man;
    scored s;
    size_t l;
    int k;

    (void)state;
    snprintf(out_dir, sizeof out_dir, "%s/precise", tmp);
    snprintf(cmd, sizeof cmd, "%s eval -m %s --tune-thresholds %s --min-precision 0.99 %s",
             cli, tu_model(), out_dir, data);
    assert_int_equal(tu_run(cmd, NULL, &out, NULL, &err_text), 0);
    ev = eval_json(out_dir, data);
    score_data(&s, tu_model(), data);
    for (l = 0; l < s.L; l++) {
        const char *name = newstag_model_label(s.model, l);
        json_t *per = json_object_get(json_object_get(ev, "labels"), name);
        double m[3], best_recall = -1, cand;
        for (k = 0; k < 100; k++) {          /* the model's own, then 0.01 .. 0.99 */
            cand = k ? k / 100.0 : newstag_model_threshold(s.model, l);
            prf_at(&s, l, cand, m);
            if (m[0] >= 0.99 && m[1] > best_recall)
                best_recall = m[1];
        }
        snprintf(note, sizeof note, "note: %s: no threshold reaches precision 0.99", name);
        if (best_recall >= 0) {            /* reachable: reached, with the best recall */
            assert_true(json_number_value(json_object_get(per, "precision")) >= 0.99);
            assert_true(fabs(json_number_value(json_object_get(per, "recall")) - best_recall) < 1e-6);
            assert_null(strstr(err_text, note));
        } else {
            assert_non_null(strstr(err_text, note));
        }
    }
    man = manifest_of(out_dir);
    assert_true(fabs(json_number_value(json_object_get(
        json_object_get(man, "thresholds_tuned"), "min_precision")) - 0.99) < 1e-12);
    json_decref(man);
    json_decref(ev);
    scored_free(&s);
    free(out), free(err_text);
}

static void assert_tune_fails(const char *model, const char *out_dir, int want_rc,
                              const char *want_text)
{
    char cmd[2048], *err;

    snprintf(cmd, sizeof cmd, "%s eval -m %s --tune-thresholds %s tests/data/small.jsonl",
             cli, model, out_dir);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, &err), want_rc);
    if (!strstr(err, want_text))
        fail_msg("stderr \"%s\" does not say \"%s\"", err, want_text);
    free(err);
}

static void test_tune_thresholds_refuses_bad_source(void **state)
{
    char model[256], out_dir[256], cmd[2048], *before, *after;

    (void)state;
    snprintf(out_dir, sizeof out_dir, "%s/out", tmp);
    snprintf(model, sizeof model, "%s/missing-model", tmp);
    assert_tune_fails(model, out_dir, 78, "cannot load model");
    assert_false(exists(out_dir));

    snprintf(model, sizeof model, "%s/damaged", tmp);
    snprintf(cmd, sizeof cmd, "cp -r %s %s && printf X | dd of=%s/network.net bs=1 "
             "seek=4000 conv=notrunc 2>/dev/null && ! cmp -s %s/network.net %s/network.net",
             tu_model(), model, model, tu_model(), model);
    free(run_ok(cmd));
    assert_tune_fails(model, out_dir, 78, "damaged");
    assert_false(exists(out_dir));

    snprintf(model, sizeof model, "%s/edited", tmp);
    snprintf(cmd, sizeof cmd, "cp -r %s %s && sed -i 's/\"thresholds\": {/\"thresholds\": "
             "{\"edited\": 0.5, /' %s/manifest.json && ! cmp -s %s/manifest.json "
             "%s/manifest.json", tu_model(), model, model, tu_model(), model);
    free(run_ok(cmd));
    assert_tune_fails(model, out_dir, 78, "manifest checksum does not match");
    assert_false(exists(out_dir));
    assert_int_equal(entries_starting(tmp, "out.tmp"), 0);

    /* the model itself is never the output */
    snprintf(model, sizeof model, "%s/self", tmp);
    snprintf(cmd, sizeof cmd, "cp -r %s %s", tu_model(), model);
    free(run_ok(cmd));
    snprintf(cmd, sizeof cmd, "%s/manifest.json", model);
    before = tu_read_file(cmd, NULL);
    assert_tune_fails(model, model, 64, "other than the model itself");
    after = tu_read_file(cmd, NULL);
    assert_string_equal(before, after);
    free(before), free(after);

    /* options that do not go together */
    snprintf(cmd, sizeof cmd, "%s eval -m %s --min-precision 0.9 tests/data/small.jsonl",
             cli, tu_model());
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, NULL), 64);
    snprintf(cmd, sizeof cmd, "%s eval -m %s --tune-thresholds %s --min-precision 1.5 "
             "tests/data/small.jsonl", cli, tu_model(), out_dir);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, NULL), 64);
    assert_false(exists(out_dir));
}

/* ---- a custom model with six labels ---------------------------------------------- */

static const char *const SPORTS_WORDS[] = {
    "bóng đá", "cầu thủ", "v-league", "hlv", "sea games", "vô địch", "huy chương", "hcv",
    "olympic", "premier league", "world cup", "thể thao", "giải đấu", "aff cup", "tay vợt",
    "vđv", "đội tuyển", "champions league", "bàn thắng", "ghi bàn"};
static const char *const WEATHER_WORDS[] = {
    "thời tiết", "nắng nóng", "không khí lạnh", "áp thấp", "mưa lớn", "mưa to", "bão", "rét",
    "giông", "lũ quét", "mưa lũ", "băng giá", "nhiệt độ"};

static int mentions(const char *folded, const char *const *words, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strstr(folded, words[i]))
            return 1;
    return 0;
}

typedef struct six_data {
    size_t unlabeled_left;      /* items without labels still to keep */
    size_t labeled_seen;        /* of the files without keyword rules */
    size_t sports, weather;
} six_data;

/* Title keywords add "sports" and "weather" (keywords = 1), or not. */
static void add_keyword_labels(json_t *item, six_data *d)
{
    json_t *labels = json_object_get(item, "labels");
    utf8proc_uint8_t *folded = NULL;

    assert_true(utf8proc_map((const utf8proc_uint8_t *)json_string_value(
                                 json_object_get(item, "title")), 0, &folded,
                             UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                 UTF8PROC_CASEFOLD) >= 0);
    if (mentions((char *)folded, SPORTS_WORDS, sizeof SPORTS_WORDS / sizeof *SPORTS_WORDS)) {
        json_array_append_new(labels, json_string("sports"));
        d->sports++;
    }
    if (mentions((char *)folded, WEATHER_WORDS, sizeof WEATHER_WORDS / sizeof *WEATHER_WORDS)) {
        json_array_append_new(labels, json_string("weather"));
        d->weather++;
    }
    free(folded);
}

/* Copy some items of one corpus file. With keyword rules (other_*,
 * feed_mix*): every labeled item, and unlabeled ones while the allowance
 * lasts. Without: every third labeled item, to keep training short. */
static void add_six_label_items(FILE *out, const char *path, int keywords, six_data *d)
{
    FILE *in = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;

    assert_non_null(in);
    while (getline(&line, &cap, in) > 0) {
        json_t *item = json_loads(line, 0, NULL);
        int keep;
        assert_non_null(item);
        if (keywords)
            add_keyword_labels(item, d);
        if (json_array_size(json_object_get(item, "labels")) > 0)
            keep = keywords || d->labeled_seen++ % 3 == 0;
        else if ((keep = keywords && d->unlabeled_left > 0))
            d->unlabeled_left--;
        if (keep) {
            assert_int_equal(json_dumpf(item, out, JSON_COMPACT), 0);
            fputc('\n', out);
        }
        json_decref(item);
    }
    free(line);
    fclose(in);
}

static void add_files(FILE *out, const char *ls_command, int keywords, six_data *d)
{
    char *files = run_ok(ls_command), *name;

    for (name = strtok(files, "\n"); name; name = strtok(NULL, "\n"))
        add_six_label_items(out, name, keywords, d);
    free(files);
}

/* The corpus with two more labels: sports and weather. */
static void write_six_label_data(const char *path)
{
    FILE *out = fopen(path, "wb");
    six_data d = {800, 0, 0, 0};

    assert_non_null(out);
    add_files(out, "ls training/corpus/other_*.jsonl training/corpus/feed_mix*.jsonl", 1, &d);
    add_files(out, "ls training/corpus/*.jsonl | grep -v -e /other_ -e /feed_mix -e /dev", 0,
              &d);
    assert_int_equal(fclose(out), 0);
    assert_true(d.sports >= 50 && d.weather >= 50);
}

static int has_label(json_t *line, const char *name)
{
    json_t *labels = json_object_get(json_object_get(line, "topics"), "labels");
    size_t i;

    for (i = 0; i < json_array_size(labels); i++)
        if (strcmp(json_string_value(json_array_get(labels, i)), name) == 0)
            return 1;
    return 0;
}

static const char SPORTS_MAIL[] =
    "From: desk@example.vn\n"
    "Subject: =?UTF-8?B?VHV54buDbiBWaeG7h3QgTmFtIHbDtCDEkeG7i2NoIEFGRiBDdXAgc2F1IHRy4bqtbiBjaHVuZyBr4bq/dA==?=\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
    "HLV Kim Sang-sik và các cầu thủ đội tuyển bóng đá Việt Nam ăn mừng chức vô địch, "
    "tiền đạo ghi hai bàn thắng trên sân Mỹ Đình.\n";

static const char NEW_LABEL_ITEMS[] =
    "{\"id\":\"s\",\"title\":\"Đội tuyển bóng đá Việt Nam vô địch, HLV và cầu thủ nhận "
    "huy chương\"}\n"
    "{\"id\":\"w\",\"title\":\"Nắng nóng gay gắt, nhiệt độ lên 40 độ C; dự báo thời tiết "
    "có mưa giông\"}\n";

static void test_six_label_model_end_to_end(void **state)
{
    char data[256], model[256], cmd[2048], path[256], *out, *html;
    json_t *man, *labels, *line, *ev;
    newstag_error err;
    newstag_model *m;
    size_t len;

    (void)state;
    snprintf(data, sizeof data, "%s/six.jsonl", tmp);
    snprintf(model, sizeof model, "%s/six-model", tmp);
    write_six_label_data(data);
    snprintf(cmd, sizeof cmd, "%s train -o %s --epochs 20 --hidden 16 --features 2000 %s",
             cli, model, data);
    free(run_ok(cmd));

    /* info lists six labels */
    man = manifest_of(model);
    labels = json_object_get(man, "labels");
    assert_int_equal(json_array_size(labels), 6);
    assert_string_equal(json_string_value(json_array_get(labels, 4)), "sports");
    assert_string_equal(json_string_value(json_array_get(labels, 5)), "weather");
    json_decref(man);
    snprintf(cmd, sizeof cmd, "%s info -m %s", cli, model);
    out = run_ok(cmd);
    assert_non_null(strstr(out, "sports"));
    assert_non_null(strstr(out, "weather"));
    free(out);

    /* classify gives the new labels, with six scores */
    snprintf(path, sizeof path, "%s/new-labels.jsonl", tmp);
    tu_write_file(path, NEW_LABEL_ITEMS, sizeof NEW_LABEL_ITEMS - 1);
    snprintf(cmd, sizeof cmd, "%s classify -m %s < %s", cli, model, path);
    out = run_ok(cmd);
    line = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null(line);
    assert_int_equal(json_object_size(json_object_get(json_object_get(line, "topics"),
                                                      "scores")), 6);
    assert_true(has_label(line, "sports"));
    json_decref(line);
    line = json_loads(strchr(out, '\n') + 1, 0, NULL);
    assert_non_null(line);
    assert_true(has_label(line, "weather"));
    json_decref(line);
    free(out);

    /* mail puts the new label in its header */
    snprintf(path, sizeof path, "%s/sports.eml", tmp);
    tu_write_file(path, SPORTS_MAIL, sizeof SPORTS_MAIL - 1);
    snprintf(cmd, sizeof cmd, "%s mail -m %s < %s", cli, model, path);
    out = run_ok(cmd);
    assert_non_null(strstr(out, "\nX-Newstag-Topics: sports\n"));
    assert_non_null(strstr(out, "; sports="));
    assert_non_null(strstr(out, "; weather="));
    free(out);

    /* the report has six sweep charts and agrees with eval */
    assert_non_null(m = newstag_model_load(model, &err));
    html = make_report(model, data, "six.html", &len);
    assert_report_shape(html, len, m);
    ev = eval_json(model, data);
    assert_report_agrees(html, m, ev);
    assert_non_null(strstr(html, "data-label=\"sports\""));
    assert_non_null(strstr(html, "data-label=\"weather\""));
    json_decref(ev);
    free(html);
    newstag_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_contents),
        cmocka_unit_test(test_report_escapes_item_text),
        cmocka_unit_test(test_report_renders_in_chromium),
        cmocka_unit_test(test_report_write_errors),
        cmocka_unit_test(test_tune_thresholds_for_f1),
        cmocka_unit_test(test_tune_thresholds_min_precision),
        cmocka_unit_test(test_tune_thresholds_refuses_bad_source),
        cmocka_unit_test(test_six_label_model_end_to_end),
    };
    return cmocka_run_group_tests_name("report", tests, setup, teardown);
}
