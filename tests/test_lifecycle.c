/*
 * test_lifecycle.c - the retrain-then-switch lifecycle: `newstag compare`
 * (per-label deltas against `newstag eval`, the verdict and exit status,
 * models with different labels) and `newstag install-model` (atomic
 * install, DEST.previous, rollback, refusing damaged models and foreign
 * directories, and readers that never see a broken model while models are
 * swapped under them).
 */
#include <jansson.h>
#include <sys/stat.h>

#include "testutil.h"

#define DATA "tests/data/small.jsonl"

static char cli[512];
static char *tmp;
static char weak[600], strong[600], custom[600];

static char *path_in_tmp(const char *name)
{
    char *p = malloc(strlen(tmp) + strlen(name) + 2);

    assert_non_null(p);
    sprintf(p, "%s/%s", tmp, name);
    return p;
}

/* Run a command that must succeed (exit 0) and return its stdout. */
static char *run_ok(const char *cmd)
{
    char *out, *err;
    int rc = tu_run(cmd, NULL, &out, NULL, &err);

    if (rc != 0)
        fail_msg("'%s' exited with %d: %s", cmd, rc, err ? err : "");
    free(err);
    return out;
}

static json_t *parse_json(const char *text)
{
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);

    if (!root)
        fail_msg("not JSON (%s): %s", jerr.text, text);
    return root;
}

static int train(const char *out, const char *opts, const char *data)
{
    char cmd[2048];

    snprintf(cmd, sizeof cmd, "%s train -o %s --seed 1 %s %s", cli, out, opts, data);
    return tu_run(cmd, NULL, NULL, NULL, NULL);
}

/* Three models: a weak one, a strong one, and one whose label urban_order
 * is called city_rules instead. */
static int setup(void **state)
{
    char *data, *renamed, *custom_data;

    (void)state;
    snprintf(cli, sizeof cli, "%s/newstag", tu_build_dir());
    if (access(cli, X_OK) != 0)
        return -1;
    tmp = tu_tmpdir();
    snprintf(weak, sizeof weak, "%s/weak", tmp);
    snprintf(strong, sizeof strong, "%s/strong", tmp);
    snprintf(custom, sizeof custom, "%s/custom", tmp);
    data = tu_read_file(DATA, NULL);
    if (!data)
        return -1;
    renamed = tu_replace(data, "\"urban_order\"", "\"city_rules\"");
    custom_data = path_in_tmp("custom.jsonl");
    tu_write_file(custom_data, renamed, strlen(renamed));
    free(data), free(renamed);
    if (train(weak, "--epochs 1 --hidden 2 --features 200", DATA) != 0 ||
        train(strong, "--epochs 20 --hidden 16 --features 2000", DATA) != 0 ||
        train(custom, "--epochs 20 --hidden 16 --features 2000", custom_data) != 0) {
        free(custom_data);
        return -1;
    }
    free(custom_data);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return tu_tmp_teardown(&tmp);
}

/* `compare --json`; its exit status goes to *rc. */
static json_t *compare_json(const char *old, const char *new, const char *data, int *rc)
{
    char cmd[2048], *out, *err;
    json_t *root;

    snprintf(cmd, sizeof cmd, "%s compare -m %s -m %s --json %s", cli, old, new, data);
    *rc = tu_run(cmd, NULL, &out, NULL, &err);
    if (*rc != 0 && *rc != 1)
        fail_msg("compare exited with %d: %s", *rc, err);
    root = parse_json(out);
    free(out), free(err);
    return root;
}

static json_t *eval_json(const char *model)
{
    char cmd[2048], *out;
    json_t *root;

    snprintf(cmd, sizeof cmd, "%s eval -m %s --json %s", cli, model, DATA);
    out = run_ok(cmd);
    root = parse_json(out);
    free(out);
    return root;
}

static double num(json_t *obj, const char *a, const char *b, const char *c)
{
    json_t *v = json_object_get(obj, a);

    if (b)
        v = json_object_get(v, b);
    if (c)
        v = json_object_get(v, c);
    if (!json_is_number(v))
        fail_msg("no number at %s.%s.%s", a, b ? b : "", c ? c : "");
    return json_number_value(v);
}

static const char *verdict_of(json_t *cmp)
{
    const char *v = json_string_value(json_object_get(cmp, "verdict"));

    assert_non_null(v);
    return v;
}

/* ---- compare ------------------------------------------------------------- */

static void test_compare_verdict_and_exit_status(void **state)
{
    json_t *cmp;
    int rc;
    char cmd[2048], *out;

    (void)state;
    cmp = compare_json(weak, strong, DATA, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(verdict_of(cmp), "NEW is better");
    assert_true(num(cmp, "bootstrap", "micro_f1_delta_low", NULL) > 0);
    assert_true(num(cmp, "micro_f1", "delta", NULL) > 0.3);
    assert_true(num(cmp, "mcnemar", "p_value", NULL) < 0.001);
    assert_int_equal(json_integer_value(json_object_get(cmp, "items")), 320);
    json_decref(cmp);

    cmp = compare_json(strong, weak, DATA, &rc);
    assert_int_equal(rc, 1);                 /* NEW significantly worse */
    assert_string_equal(verdict_of(cmp), "NEW is worse");
    assert_true(num(cmp, "bootstrap", "micro_f1_delta_high", NULL) < 0);
    assert_true(num(cmp, "bootstrap", "micro_f1_delta_low", NULL) <=
                num(cmp, "micro_f1", "delta", NULL));
    json_decref(cmp);

    /* the table says the same */
    snprintf(cmd, sizeof cmd, "%s compare -m %s -m %s %s", cli, weak, strong, DATA);
    out = run_ok(cmd);
    assert_non_null(strstr(out, "verdict: NEW is better\n"));
    assert_non_null(strstr(out, "95% interval [+"));
    free(out);
}

/* Per-label figures and deltas are exactly `newstag eval`'s. */
static void test_compare_deltas_match_eval(void **state)
{
    json_t *cmp, *ev_old, *ev_new, *labels, *fig;
    const char *name, *what[] = {"precision", "recall", "f1"};
    int rc;
    size_t k, seen = 0;

    (void)state;
    cmp = compare_json(weak, strong, DATA, &rc);
    ev_old = eval_json(weak);
    ev_new = eval_json(strong);
    labels = json_object_get(ev_old, "labels");
    json_object_foreach(labels, name, fig) {
        json_t *c = json_object_get(json_object_get(cmp, "labels"), name);
        assert_non_null(c);
        for (k = 0; k < 3; k++) {
            double o = num(ev_old, "labels", name, what[k]);
            double n = num(ev_new, "labels", name, what[k]);
            assert_float_equal(num(c, "old", what[k], NULL), o, 1e-6);
            assert_float_equal(num(c, "new", what[k], NULL), n, 1e-6);
            assert_float_equal(num(c, "delta", what[k], NULL), n - o, 2e-6);
        }
        assert_float_equal(num(c, "new", "support", NULL), num(ev_new, "labels", name, "support"),
                           0);
        seen++;
    }
    assert_int_equal(seen, 4);
    assert_float_equal(num(cmp, "micro_f1", "old", NULL), num(ev_old, "micro_f1", NULL, NULL),
                       1e-6);
    assert_float_equal(num(cmp, "micro_f1", "new", NULL), num(ev_new, "micro_f1", NULL, NULL),
                       1e-6);
    assert_float_equal(num(cmp, "macro_f1", "delta", NULL),
                       num(ev_new, "macro_f1", NULL, NULL) - num(ev_old, "macro_f1", NULL, NULL),
                       2e-6);
    json_decref(cmp), json_decref(ev_old), json_decref(ev_new);
}

static void test_compare_model_with_itself(void **state)
{
    json_t *cmp, *fig;
    const char *name;
    int rc;

    (void)state;
    cmp = compare_json(strong, strong, DATA, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(verdict_of(cmp), "no significant difference");
    json_object_foreach(json_object_get(cmp, "labels"), name, fig) {
        assert_true(num(fig, "delta", "precision", NULL) == 0);
        assert_true(num(fig, "delta", "recall", NULL) == 0);
        assert_true(num(fig, "delta", "f1", NULL) == 0);
    }
    assert_true(num(cmp, "micro_f1", "delta", NULL) == 0);
    assert_true(num(cmp, "macro_f1", "delta", NULL) == 0);
    assert_true(num(cmp, "bootstrap", "micro_f1_delta_low", NULL) == 0);
    assert_true(num(cmp, "bootstrap", "micro_f1_delta_high", NULL) == 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cmp, "mcnemar"),
                                                        "only_new_right")), 0);
    assert_true(num(cmp, "mcnemar", "p_value", NULL) == 1);
    json_decref(cmp);
}

/* Models with different label sets are compared on the labels they share. */
static void test_compare_different_labels(void **state)
{
    json_t *cmp, *labels;
    int rc;
    char cmd[2048], *out;

    (void)state;
    cmp = compare_json(strong, custom, DATA, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(json_array_size(json_object_get(cmp, "shared_labels")), 3);
    assert_string_equal(json_string_value(json_array_get(json_object_get(cmp, "only_old"), 0)),
                        "urban_order");
    assert_string_equal(json_string_value(json_array_get(json_object_get(cmp, "only_new"), 0)),
                        "city_rules");
    labels = json_object_get(cmp, "labels");
    assert_true(json_is_null(json_object_get(json_object_get(labels, "urban_order"), "new")));
    assert_true(json_is_null(json_object_get(json_object_get(labels, "urban_order"), "delta")));
    assert_true(json_is_null(json_object_get(json_object_get(labels, "city_rules"), "old")));
    assert_true(json_is_object(json_object_get(json_object_get(labels, "budget"), "delta")));
    /* on 3 shared labels the averages differ from the 4-label ones */
    assert_true(num(cmp, "micro_f1", "old", NULL) != num(cmp, "old", "micro_f1", NULL));
    json_decref(cmp);
    snprintf(cmd, sizeof cmd, "%s compare -m %s -m %s %s", cli, strong, custom, DATA);
    out = run_ok(cmd);
    assert_non_null(strstr(out, "only in OLD"));
    assert_non_null(strstr(out, "only in NEW"));
    assert_non_null(strstr(out, "labels only in NEW (not compared): city_rules\n"));
    free(out);
}

static void test_compare_errors(void **state)
{
    char cmd[3072], *err;
    char *bad = path_in_tmp("cmp-bad");

    (void)state;
    snprintf(cmd, sizeof cmd, "%s compare -m %s %s", cli, weak, DATA);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, NULL), 64);
    snprintf(cmd, sizeof cmd, "%s compare -m %s -m %s -m %s %s", cli, weak, weak, weak, DATA);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, NULL), 64);
    snprintf(cmd, sizeof cmd, "%s compare -m %s -m %s", cli, weak, strong);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, NULL), 64);
    snprintf(cmd, sizeof cmd, "%s compare -m %s -m %s %s/nosuch.jsonl", cli, weak, strong, tmp);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, NULL), 66);
    snprintf(cmd, sizeof cmd, "%s compare -m %s -m %s/nosuch %s", cli, weak, tmp, DATA);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, &err), 78);
    assert_non_null(strstr(err, "nosuch"));
    free(err);
    snprintf(cmd, sizeof cmd, "cp -r %s %s && printf 'x' | dd of=%s/network.net bs=1 seek=200 "
             "conv=notrunc 2>/dev/null && rm -f %s/network.bin", strong, bad, bad, bad);
    free(run_ok(cmd));
    snprintf(cmd, sizeof cmd, "%s compare -m %s -m %s %s", cli, weak, bad, DATA);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, NULL), 78);
    snprintf(cmd, sizeof cmd, "%s compare --help", cli);
    free(run_ok(cmd));
    free(bad);
}

/* ---- install-model ------------------------------------------------------- */

/* The manifest checksum of the model at dir, by `newstag info --json`. */
static char *checksum_of(const char *dir)
{
    char cmd[2048], *out, *sum;
    json_t *root;

    snprintf(cmd, sizeof cmd, "%s info -m %s --json", cli, dir);
    out = run_ok(cmd);
    root = parse_json(out);
    sum = strdup(json_string_value(json_object_get(root, "checksum")));
    assert_non_null(sum);
    json_decref(root);
    free(out);
    return sum;
}

static void assert_model_is(const char *dir, const char *want_sum)
{
    char *sum = checksum_of(dir);

    assert_string_equal(sum, want_sum);
    free(sum);
}

static int exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

/* Run install-model; the output must name what happened. */
static char *install(const char *args, int want_rc)
{
    char cmd[2048], *out, *err;
    int rc;

    snprintf(cmd, sizeof cmd, "%s install-model %s", cli, args);
    rc = tu_run(cmd, NULL, &out, NULL, &err);
    if (rc != want_rc)
        fail_msg("'%s' exited with %d, not %d: %s", cmd, rc, want_rc, err);
    free(err);
    return out;
}

/* No temporary directories are left next to DEST. */
static void assert_no_leftovers(const char *dest)
{
    char cmd[3072], *out;

    snprintf(cmd, sizeof cmd, "ls -d %s.tmp-* 2>/dev/null | wc -l", dest);
    out = run_ok(cmd);
    assert_string_equal(out, "0\n");
    free(out);
}

static void test_install_keep_previous_and_rollback(void **state)
{
    char *dest = path_in_tmp("inst/model"), *prev = path_in_tmp("inst/model.previous");
    char *weak_sum = checksum_of(weak), *strong_sum = checksum_of(strong);
    char *custom_sum = checksum_of(custom), args[2048], *out, *a, *b;

    (void)state;
    snprintf(args, sizeof args, "mkdir -p %s/inst", tmp);
    free(run_ok(args));
    /* a fresh DEST: installed without a previous */
    snprintf(args, sizeof args, "%s %s", weak, dest);
    out = install(args, 0);
    assert_non_null(strstr(out, weak_sum));
    assert_non_null(strstr(out, "there was no model before"));
    free(out);
    assert_model_is(dest, weak_sum);
    assert_false(exists(prev));
    /* a second install keeps the first as DEST.previous */
    snprintf(args, sizeof args, "%s %s", strong, dest);
    out = install(args, 0);
    assert_non_null(strstr(out, "kept as"));
    assert_non_null(strstr(out, weak_sum));
    free(out);
    assert_model_is(dest, strong_sum);
    assert_model_is(prev, weak_sum);
    /* rollback restores the first; rollback again re-applies the second */
    snprintf(args, sizeof args, "--rollback %s", dest);
    free(install(args, 0));
    assert_model_is(dest, weak_sum);
    assert_model_is(prev, strong_sum);
    out = install(args, 0);
    assert_non_null(strstr(out, "rolled back"));
    free(out);
    assert_model_is(dest, strong_sum);
    assert_model_is(prev, weak_sum);
    /* a third install replaces the older previous */
    snprintf(args, sizeof args, "%s %s/", custom, dest);   /* trailing slash too */
    free(install(args, 0));
    assert_model_is(dest, custom_sum);
    assert_model_is(prev, strong_sum);
    assert_no_leftovers(dest);
    /* the installed model classifies exactly like its source (cache fresh) */
    snprintf(args, sizeof args, "%s classify -m %s < %s", cli, custom, DATA);
    a = run_ok(args);
    snprintf(args, sizeof args, "%s classify -m %s < %s", cli, dest, DATA);
    b = run_ok(args);
    assert_string_equal(a, b);
    free(a), free(b);
    snprintf(args, sizeof args, "%s/network.bin", dest);
    assert_true(exists(args));
    free(weak_sum), free(strong_sum), free(custom_sum), free(dest), free(prev);
}

/* Make a damaged copy of model src at dst: one byte of network.net changed.
 * With keep_mtime the file keeps its time stamp, so the copied network.bin
 * cache still looks made from it and NEW may load from the cache: the copy
 * install-model verifies must catch it then. */
static void damaged_copy(const char *src, const char *dst, int keep_mtime)
{
    char cmd[2048];

    snprintf(cmd, sizeof cmd,
             "rm -rf %s && cp -rp %s %s && touch -r %s/network.net %s.stamp && "
             "printf 'x' | dd of=%s/network.net bs=1 seek=300 conv=notrunc 2>/dev/null && "
             "! cmp -s %s/network.net %s/network.net",
             dst, src, dst, dst, dst, dst, src, dst);
    free(run_ok(cmd));
    if (keep_mtime) {
        snprintf(cmd, sizeof cmd, "touch -r %s.stamp %s/network.net", dst, dst);
        free(run_ok(cmd));
    }
}

static void test_install_refuses_damaged_model(void **state)
{
    char *dest = path_in_tmp("dmg/model"), *bad = path_in_tmp("dmg/bad");
    char *strong_sum = checksum_of(strong), *weak_sum = checksum_of(weak);
    char args[2048], *before, *after;
    int keep_mtime;

    (void)state;
    snprintf(args, sizeof args, "mkdir -p %s/dmg && cp -r %s %s && cp -r %s %s.previous",
             tmp, strong, dest, weak, dest);
    free(run_ok(args));
    snprintf(args, sizeof args, "cd %s/dmg && ls -lR --time-style=full-iso model "
             "model.previous && cat model/* model.previous/* | sha256sum", tmp);
    before = run_ok(args);
    for (keep_mtime = 0; keep_mtime < 2; keep_mtime++) {
        char *err, cmd[2048];
        damaged_copy(weak, bad, keep_mtime);
        snprintf(cmd, sizeof cmd, "%s install-model %s %s", cli, bad, dest);
        assert_int_equal(tu_run(cmd, NULL, NULL, NULL, &err), 78);
        assert_non_null(strstr(err, "refusing"));
        assert_non_null(strstr(err, "network.net"));
        free(err);
        after = run_ok(args);
        assert_string_equal(before, after);       /* nothing at DEST changed */
        free(after);
        assert_no_leftovers(dest);
    }
    assert_model_is(dest, strong_sum);
    snprintf(args, sizeof args, "%s.previous", dest);
    assert_model_is(args, weak_sum);
    free(before), free(strong_sum), free(weak_sum), free(dest), free(bad);
}

static void test_install_refusals(void **state)
{
    char *dir = path_in_tmp("ref"), args[2048], cmd[2048], *out, *err;

    (void)state;
    snprintf(cmd, sizeof cmd, "mkdir -p %s/notmodel && echo keep > %s/notmodel/data.txt && "
             "echo plain > %s/file", dir, dir, dir);
    free(run_ok(cmd));
    /* DEST exists but is not a model directory */
    snprintf(args, sizeof args, "%s %s/notmodel", weak, dir);
    free(install(args, 73));
    snprintf(cmd, sizeof cmd, "cat %s/notmodel/data.txt", dir);
    out = run_ok(cmd);
    assert_string_equal(out, "keep\n");
    free(out);
    snprintf(args, sizeof args, "%s %s/file", weak, dir);
    free(install(args, 73));
    snprintf(cmd, sizeof cmd, "ln -s %s %s/link", weak, dir);   /* not followed */
    free(run_ok(cmd));
    snprintf(args, sizeof args, "%s %s/link", strong, dir);
    free(install(args, 73));
    /* DEST.previous is something else: refused before DEST changes */
    snprintf(cmd, sizeof cmd, "cp -r %s %s/m && mkdir %s/m.previous && touch %s/m.previous/x",
             weak, dir, dir, dir);
    free(run_ok(cmd));
    snprintf(args, sizeof args, "%s %s/m", strong, dir);
    free(install(args, 73));
    snprintf(cmd, sizeof cmd, "%s/m", dir);
    out = checksum_of(weak);
    assert_model_is(cmd, out);
    free(out);
    /* --rollback needs DEST.previous */
    snprintf(cmd, sizeof cmd, "cp -r %s %s/lone", weak, dir);
    free(run_ok(cmd));
    snprintf(cmd, sizeof cmd, "%s install-model --rollback %s/lone", cli, dir);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, &err), 66);
    assert_non_null(strstr(err, "lone.previous"));
    free(err);
    snprintf(args, sizeof args, "--rollback %s/nosuch", dir);
    free(install(args, 66));
    /* NEW missing, usage errors */
    snprintf(args, sizeof args, "%s/nosuch %s/new", dir, dir);
    free(install(args, 66));
    snprintf(cmd, sizeof cmd, "%s/new", dir);
    assert_false(exists(cmd));
    free(install(weak, 64));
    snprintf(args, sizeof args, "--rollback %s %s", weak, dir);
    free(install(args, 64));
    free(install("--help", 0));
    free(dir);
}

/* A reader loading DEST in a loop, while models are installed and rolled
 * back under it, always gets a whole model: one of the two. */
static void test_reader_never_sees_broken_model(void **state)
{
    char *dir = path_in_tmp("race"), *weak_sum = checksum_of(weak);
    char *strong_sum = checksum_of(strong), cmd[3072], dest[700], *out;
    unsigned reads, failures, swaps;

    (void)state;
    snprintf(cmd, sizeof cmd,
        "set -u; cli=%s; d=%s; mkdir -p $d; $cli install-model %s $d/m > /dev/null || exit 9\n"
        "( n=0; while [ ! -e $d/stop ]; do\n"
        "    $cli install-model %s $d/m > /dev/null || echo install-failed >> $d/log\n"
        "    $cli install-model --rollback $d/m > /dev/null || echo rollback-failed >> $d/log\n"
        "    n=$((n + 2)); echo $n > $d/swaps\n"
        "  done ) &\n"
        "fail=0; i=0\n"
        "while [ $i -lt 300 ]; do i=$((i + 1))\n"
        "  if ! $cli info -m $d/m --json > $d/out 2> $d/err ||\n"
        "     ! grep -q -e '\"checksum\":\"%s\"' -e '\"checksum\":\"%s\"' $d/out; then\n"
        "    fail=$((fail + 1)); cat $d/err >&2; fi\n"
        "done\n"
        "touch $d/stop; wait\n"
        "echo $i $fail $(cat $d/swaps)\n"
        "cat $d/log 2>/dev/null >&2; true\n",
        cli, dir, weak, strong, weak_sum, strong_sum);
    out = run_ok(cmd);
    assert_int_equal(sscanf(out, "%u %u %u", &reads, &failures, &swaps), 3);
    print_message("reads %u, broken %u, installs and rollbacks meanwhile %u\n", reads,
                  failures, swaps);
    assert_int_equal(reads, 300);
    assert_int_equal(failures, 0);
    assert_true(swaps >= 20);                 /* the models really changed meanwhile */
    snprintf(cmd, sizeof cmd, "%s/log", dir);
    assert_false(exists(cmd));                /* every install and rollback worked */
    snprintf(dest, sizeof dest, "%s/m", dir);
    assert_no_leftovers(dest);
    free(out), free(dir), free(weak_sum), free(strong_sum);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_verdict_and_exit_status),
        cmocka_unit_test(test_compare_deltas_match_eval),
        cmocka_unit_test(test_compare_model_with_itself),
        cmocka_unit_test(test_compare_different_labels),
        cmocka_unit_test(test_compare_errors),
        cmocka_unit_test(test_install_keep_previous_and_rollback),
        cmocka_unit_test(test_install_refuses_damaged_model),
        cmocka_unit_test(test_install_refusals),
        cmocka_unit_test(test_reader_never_sees_broken_model),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
