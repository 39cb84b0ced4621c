/*
 * test_train.c - retraining through the library: continuing from a model
 * (--init) on new data, the lineage it records, when it refuses to continue,
 * the warnings and oversampling for labels with few samples, weight
 * decay, the weight of unknown n-grams, and the mean of the last epochs'
 * weights.
 */
#include <fann.h>
#include <jansson.h>

#include "testutil.h"
#include "newstag.h"
#include "average.h"

static char *tmp;
static char notices[8192];

static int setup(void **state)
{
    (void)state;
    tmp = tu_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return tu_tmp_teardown(&tmp);
}

static void collect_notice(void *user, const char *text)
{
    (void)user;
    strncat(notices, text, sizeof notices - strlen(notices) - 2);
    strcat(notices, "\n");
}

static void small_options(newstag_train_options *o)
{
    newstag_train_options_init(o);
    o->epochs = 15;
    o->hidden = 8;
    o->max_features = 1000;
    o->notice = collect_notice;
    notices[0] = '\0';
}

static newstag_dataset *read_data(const char *path)
{
    newstag_dataset *ds = newstag_dataset_new();
    newstag_error err;

    assert_non_null(ds);
    if (newstag_dataset_read_file(ds, path, &err) < 0)
        fail_msg("%s", err.text);
    return ds;
}

/* The first n lines of a file, as a new file under tmp. */
static char *head_file(const char *src, size_t n, const char *name)
{
    char *text = tu_read_file(src, NULL), *p = text, *path;
    size_t i;

    assert_non_null(text);
    for (i = 0; i < n && (p = strchr(p, '\n')); i++)
        p++;
    assert_non_null(p);
    path = malloc(strlen(tmp) + strlen(name) + 2);
    sprintf(path, "%s/%s", tmp, name);
    tu_write_file(path, text, (size_t)(p - text));
    free(text);
    return path;
}

static json_t *manifest_of(const char *dir)
{
    newstag_error err;
    newstag_model *m = newstag_model_load(dir, &err);
    json_t *root;

    if (!m)
        fail_msg("%s", err.text);
    root = json_loads(newstag_model_manifest_json(m), 0, NULL);
    newstag_model_free(m);
    assert_non_null(root);
    return root;
}

static json_int_t training_int(json_t *manifest, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(manifest, "training"), key));
}

static double dev_f1(json_t *manifest)
{
    return json_number_value(json_object_get(json_object_get(json_object_get(
        manifest, "training"), "dev_metrics"), "micro_f1"));
}

static double eval_f1(const char *model_dir, const char *data)
{
    newstag_error err;
    newstag_model *m = newstag_model_load(model_dir, &err);
    newstag_dataset *ds = read_data(data);
    newstag_eval_result r;

    assert_non_null(m);
    assert_int_equal(newstag_evaluate(m, ds, -1, &r, &err), 0);
    newstag_dataset_free(ds);
    newstag_model_free(m);
    return r.micro_f1;
}

static void train_ok(const char *train_path, const char *dev_path,
                     const newstag_train_options *o, const char *out)
{
    newstag_dataset *tr = read_data(train_path), *dev = read_data(dev_path);
    newstag_error err;

    if (newstag_train(tr, dev, o, out, &err) < 0)
        fail_msg("training failed: %s", err.text);
    newstag_dataset_free(tr);
    newstag_dataset_free(dev);
}

/* Train on tests/data/small.jsonl (dev: dev_feed.jsonl) into tmp/name,
 * whose path is left in dir. */
static void train_small(const newstag_train_options *o, const char *name,
                        char *dir, size_t size)
{
    snprintf(dir, size, "%s/%s", tmp, name);
    train_ok("tests/data/small.jsonl", "training/corpus/dev_feed.jsonl", o, dir);
}

/* A model trained on a little data, continued on new data: better on the
 * dev split and on data neither run chose anything on, same vocabulary and
 * labels, and the parent recorded in the lineage. */
static void test_init_improves_on_new_data(void **state)
{
    char parent[512], child[512];
    char *old = head_file("tests/data/small.jsonl", 120, "old.jsonl");
    const char *dev = "training/corpus/dev_feed.jsonl";
    const char *unseen = "training/corpus/feed_mix3.jsonl";  /* used by neither */
    newstag_train_options o;
    json_t *pm, *cm, *lineage;

    (void)state;
    snprintf(parent, sizeof parent, "%s/parent", tmp);
    snprintf(child, sizeof child, "%s/child", tmp);
    small_options(&o);
    train_ok(old, dev, &o, parent);
    small_options(&o);
    o.init_model = parent;
    o.hidden = 3;                     /* ignored: the parent's network is kept */
    train_ok("training/corpus/feed_mix2.jsonl", dev, &o, child);
    assert_non_null(strstr(notices, "continuing from"));

    pm = manifest_of(parent);
    cm = manifest_of(child);
    assert_true(dev_f1(cm) > dev_f1(pm) + 0.03);
    assert_true(eval_f1(child, unseen) > eval_f1(parent, unseen) + 0.01);
    assert_true(json_equal(json_object_get(pm, "labels"), json_object_get(cm, "labels")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cm, "network"), "hidden")),
                     json_integer_value(json_object_get(json_object_get(pm, "network"), "hidden")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            json_object_get(cm, "files"), "features.tsv"), "sha256")),
                        json_string_value(json_object_get(json_object_get(
                            json_object_get(pm, "files"), "features.tsv"), "sha256")));
    lineage = json_object_get(json_object_get(cm, "training"), "lineage");
    assert_int_equal(json_array_size(lineage), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lineage, 0), "checksum")),
                        json_string_value(json_object_get(pm, "checksum")));
    assert_true(json_equal(json_object_get(json_array_get(lineage, 0), "corpus_sha256"),
                           json_object_get(json_object_get(pm, "training"), "corpus_sha256")));
    assert_null(json_object_get(json_object_get(pm, "training"), "lineage"));

    /* a grandchild carries the whole line */
    small_options(&o);
    o.init_model = child;
    o.epochs = 2;
    snprintf(parent, sizeof parent, "%s/grandchild", tmp);
    train_ok("training/corpus/feed_mix3.jsonl", dev, &o, parent);
    json_decref(pm);
    pm = manifest_of(parent);
    lineage = json_object_get(json_object_get(pm, "training"), "lineage");
    assert_int_equal(json_array_size(lineage), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lineage, 0), "checksum")),
                        json_string_value(json_object_get(cm, "checksum")));
    json_decref(pm);
    json_decref(cm);
    free(old);
}

/* Data with a label the parent lacks: a notice says why, and the model is
 * trained from scratch with all the data's labels and no lineage. */
static void test_init_falls_back_on_new_labels(void **state)
{
    char parent[512], out[512], *data;
    const char *extra =
        "{\"title\":\"Đội tuyển bóng đá thắng đậm\",\"text\":\"Trận đấu tối qua.\","
        "\"labels\":[\"sports\"]}\n";
    char *small = tu_read_file("tests/data/small.jsonl", NULL);
    newstag_train_options o;
    json_t *m;

    (void)state;
    data = malloc(strlen(tmp) + 32);
    sprintf(data, "%s/with_sports.jsonl", tmp);
    {
        size_t n = strlen(small), k = strlen(extra), i;
        char *both = malloc(n + 30 * k + 1);
        memcpy(both, small, n);
        for (i = 0; i < 30; i++)
            memcpy(both + n + i * k, extra, k);
        tu_write_file(data, both, n + 30 * k);
        free(both);
    }
    snprintf(parent, sizeof parent, "%s/p4", tmp);
    snprintf(out, sizeof out, "%s/p6", tmp);
    small_options(&o);
    o.epochs = 3;
    train_ok("tests/data/small.jsonl", "training/corpus/dev_feed.jsonl", &o, parent);
    small_options(&o);
    o.epochs = 3;
    o.init_model = parent;
    train_ok(data, "training/corpus/dev_feed.jsonl", &o, out);
    assert_non_null(strstr(notices, "\"sports\", which that model does not know; "
                                    "training from scratch"));
    assert_non_null(strstr(notices, "label \"sports\" has no dev item"));
    m = manifest_of(out);
    assert_int_equal(json_array_size(json_object_get(m, "labels")), 5);
    assert_null(json_object_get(json_object_get(m, "training"), "lineage"));
    json_decref(m);
    free(small);
    free(data);
}

/* A parent that is missing or damaged is an error, not a silent restart,
 * and nothing is written. */
static void test_init_from_damaged_model(void **state)
{
    char parent[512], out[512], path[600];
    newstag_train_options o;
    newstag_dataset *tr = read_data("tests/data/small.jsonl");
    newstag_error err;
    FILE *f;

    (void)state;
    snprintf(parent, sizeof parent, "%s/dmg", tmp);
    snprintf(out, sizeof out, "%s/never", tmp);
    small_options(&o);
    o.epochs = 2;
    train_ok("tests/data/small.jsonl", "training/corpus/dev_feed.jsonl", &o, parent);
    snprintf(path, sizeof path, "%s/network.net", parent);
    f = fopen(path, "r+");
    assert_non_null(f);
    fseek(f, 200, SEEK_SET);
    fputc('#', f);
    fclose(f);
    o.init_model = parent;
    assert_int_equal(newstag_train(tr, NULL, &o, out, &err), -1);
    assert_int_equal(err.code, NEWSTAG_ERR_MODEL);
    assert_non_null(strstr(err.text, "network.net"));
    assert_int_equal(access(out, F_OK), -1);
    o.init_model = "/nonexistent/model";
    assert_int_equal(newstag_train(tr, NULL, &o, out, &err), -1);
    assert_non_null(strstr(err.text, "/nonexistent/model"));
    assert_int_equal(access(out, F_OK), -1);
    newstag_dataset_free(tr);
}

/* A label with few items: a warning names it; oversampling changes what
 * the network is trained on and is recorded in the manifest. */
static void test_rare_label_warning_and_oversampling(void **state)
{
    char a[512], b[512], *path;
    char *small = tu_read_file("tests/data/small.jsonl", NULL), *line, *save = NULL;
    size_t kept_urban = 0, len = 0;
    char *out = calloc(1, strlen(small) + 1);
    newstag_train_options o;
    json_t *ma, *mb;

    (void)state;
    /* keep only 12 urban_order items */
    for (line = strtok_r(small, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strstr(line, "\"urban_order\"") && ++kept_urban > 12)
            continue;
        len += (size_t)sprintf(out + len, "%s\n", line);
    }
    path = malloc(strlen(tmp) + 32);
    sprintf(path, "%s/rare.jsonl", tmp);
    tu_write_file(path, out, len);
    snprintf(a, sizeof a, "%s/over", tmp);
    snprintf(b, sizeof b, "%s/plain", tmp);
    small_options(&o);
    o.epochs = 5;
    train_ok(path, "training/corpus/dev_feed.jsonl", &o, a);
    assert_non_null(strstr(notices, "warning: label \"urban_order\" has only 12 training "
                                    "items; at least 20 are needed"));
    small_options(&o);
    o.epochs = 5;
    o.balance = NEWSTAG_BALANCE_NONE;
    train_ok(path, "training/corpus/dev_feed.jsonl", &o, b);
    ma = manifest_of(a);
    mb = manifest_of(b);
    assert_string_equal(json_string_value(json_object_get(json_object_get(ma, "training"),
                                                          "balance")), "oversample");
    assert_string_equal(json_string_value(json_object_get(json_object_get(mb, "training"),
                                                          "balance")), "none");
    /* same vocabulary (it comes from distinct items), different training */
    assert_true(json_equal(json_object_get(json_object_get(ma, "files"), "features.tsv"),
                           json_object_get(json_object_get(mb, "files"), "features.tsv")));
    assert_false(json_equal(json_object_get(json_object_get(ma, "files"), "network.net"),
                            json_object_get(json_object_get(mb, "files"), "network.net")));
    json_decref(ma);
    json_decref(mb);
    free(small), free(out), free(path);
}

/* Dev items that are also training items are counted in a warning. */
static void test_dev_overlap_warning(void **state)
{
    char out[512];
    newstag_train_options o;

    (void)state;
    snprintf(out, sizeof out, "%s/overlap", tmp);
    small_options(&o);
    o.epochs = 2;
    train_ok("tests/data/small.jsonl", "tests/data/small.jsonl", &o, out);
    assert_non_null(strstr(notices, "warning: 320 of the 320 dev items are also "
                                    "training items"));
    small_options(&o);
    o.epochs = 2;
    train_ok("tests/data/small.jsonl", "training/corpus/dev_feed.jsonl", &o, out);
    assert_null(strstr(notices, "dev items are also training items"));
}

/* The most labels a model may have: 64 train, load, score and round-trip
 * through the manifest; a 65th is refused with a clear error. */
static void test_sixty_four_labels(void **state)
{
    newstag_dataset *src = read_data("tests/data/small.jsonl"), *ds = newstag_dataset_new();
    char names[NEWSTAG_MAX_LABELS + 1][16], out[512];
    const char *one[1];
    newstag_train_options o;
    newstag_error err;
    newstag_model *m;
    newstag_ctx *ctx;
    float scores[NEWSTAG_MAX_LABELS];
    size_t i;

    (void)state;
    for (i = 0; i <= NEWSTAG_MAX_LABELS; i++)
        snprintf(names[i], sizeof names[i], "topic_%02zu", i);
    for (i = 0; i < newstag_dataset_size(src); i++) {
        one[0] = names[i % NEWSTAG_MAX_LABELS];
        assert_int_equal(newstag_dataset_add(ds, newstag_dataset_text(src, i), one, 1, &err), 0);
    }
    assert_int_equal(newstag_dataset_num_labels(ds), NEWSTAG_MAX_LABELS);
    one[0] = names[NEWSTAG_MAX_LABELS];
    assert_int_equal(newstag_dataset_add(ds, "một mục nữa", one, 1, &err), -1);
    assert_int_equal(err.code, NEWSTAG_ERR_INPUT);
    assert_string_equal(err.text, "more than 64 labels");

    snprintf(out, sizeof out, "%s/sixtyfour", tmp);
    small_options(&o);
    o.epochs = 2;
    if (newstag_train(ds, NULL, &o, out, &err) < 0)
        fail_msg("%s", err.text);
    assert_non_null(strstr(notices, "warning: label \"topic_63\" has only"));
    m = newstag_model_load(out, &err);
    assert_non_null(m);
    assert_int_equal(newstag_model_num_labels(m), NEWSTAG_MAX_LABELS);
    for (i = 0; i < NEWSTAG_MAX_LABELS; i++)
        assert_int_equal(newstag_model_label_index(m, names[i]), (int)i);
    ctx = newstag_ctx_new(m, &err);
    assert_non_null(ctx);
    for (i = 0; i < NEWSTAG_MAX_LABELS; i++)
        scores[i] = -1;
    assert_int_equal(newstag_classify(ctx, "Quốc hội thảo luận ngân sách",
                                      strlen("Quốc hội thảo luận ngân sách"), scores,
                                      NULL, &err), 0);
    for (i = 0; i < NEWSTAG_MAX_LABELS; i++)
        assert_true(scores[i] >= 0 && scores[i] <= 1);
    newstag_ctx_free(ctx);
    newstag_model_free(m);
    newstag_dataset_free(ds);
    newstag_dataset_free(src);
}

/* Sum of the squared weights of a model's network. */
static double squared_weights(const char *dir)
{
    char path[600];
    struct fann *ann;
    struct fann_connection *conn;
    unsigned i, n;
    double sum = 0;

    snprintf(path, sizeof path, "%s/network.net", dir);
    ann = fann_create_from_file(path);
    assert_non_null(ann);
    n = fann_get_total_connections(ann);
    conn = calloc(n, sizeof *conn);
    assert_non_null(conn);
    fann_get_connection_array(ann, conn);
    for (i = 0; i < n; i++)
        sum += (double)conn[i].weight * conn[i].weight;
    free(conn);
    fann_destroy(ann);
    return sum;
}

/* Weight decay keeps the weights small, is recorded in the manifest, and a
 * run without it records none; the decayed model still learns the data. */
static void test_weight_decay_shrinks_weights(void **state)
{
    char plain[512], decayed[512];
    newstag_train_options o;
    json_t *mp, *md;
    double wp, wd;

    (void)state;
    small_options(&o);
    o.epochs = 20;
    train_small(&o, "plain-decay", plain, sizeof plain);
    o.weight_decay = 1e-3f;
    train_small(&o, "decayed", decayed, sizeof decayed);
    wp = squared_weights(plain);
    wd = squared_weights(decayed);
    assert_true(wd < 0.5 * wp);
    mp = manifest_of(plain);
    md = manifest_of(decayed);
    assert_null(json_object_get(json_object_get(mp, "training"), "weight_decay"));
    assert_float_equal(json_number_value(json_object_get(json_object_get(md, "training"),
                                                         "weight_decay")), 1e-3, 1e-9);
    assert_true(dev_f1(md) > 0.85);
    json_decref(mp);
    json_decref(md);
}

/* An unknown n-gram counts in the norm like the rarest n-gram the model
 * keeps: oov_idf is the largest idf in features.tsv, even when the cut at
 * max_features leaves out n-grams far rarer than that. */
static void test_oov_weight_is_rarest_kept(void **state)
{
    char dir[512], path[600], line[1024];
    newstag_train_options o;
    double max_idf = 0, oov;
    size_t kept = 0;
    json_t *m;
    FILE *f;

    (void)state;
    snprintf(dir, sizeof dir, "%s/oov-weight", tmp);
    small_options(&o);
    o.epochs = 2;
    o.max_features = 300;            /* far fewer than small.jsonl has */
    train_ok("tests/data/small.jsonl", "training/corpus/dev_feed.jsonl", &o, dir);
    snprintf(path, sizeof path, "%s/features.tsv", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        kept++;
        if (strtod(line, NULL) > max_idf)
            max_idf = strtod(line, NULL);
    }
    fclose(f);
    assert_int_equal(kept, 300);
    m = manifest_of(dir);
    oov = json_number_value(json_object_get(json_object_get(m, "features"), "oov_idf"));
    assert_float_equal(oov, max_idf, 1e-5);
    json_decref(m);
}

/* The library refuses a decay the CLI would refuse (no NaN, no < 0). */
static void test_negative_decay_refused(void **state)
{
    newstag_dataset *ds = read_data("tests/data/small.jsonl");
    newstag_train_options o;
    newstag_error err;
    char out[512];

    (void)state;
    snprintf(out, sizeof out, "%s/refused", tmp);
    small_options(&o);
    o.weight_decay = -1e-3f;
    assert_int_equal(newstag_train(ds, NULL, &o, out, &err), -1);
    assert_int_equal(err.code, NEWSTAG_ERR_ARGUMENT);
    newstag_dataset_free(ds);
}

/* The history keeps the last `span` epochs: the mean is over those, or
 * over all of them while fewer have been recorded. */
static void test_weight_history_mean(void **state)
{
    nt_weight_history *h = nt_weight_history_new(3, 2);
    float w[2], mean[2] = {-1, -1};
    int e;

    (void)state;
    assert_non_null(h);
    nt_weight_history_mean(h, mean);          /* nothing recorded: untouched */
    assert_float_equal(mean[0], -1, 0);
    for (e = 1; e <= 5; e++) {
        w[0] = (float)e;                      /* epochs 1..5: weights e, 10e */
        w[1] = (float)(10 * e);
        nt_weight_history_push(h, w);
        nt_weight_history_mean(h, mean);
        if (e == 1) {
            assert_float_equal(mean[0], 1, 1e-6);
        } else if (e == 2) {
            assert_float_equal(mean[0], 1.5, 1e-6);     /* (1 + 2) / 2 */
            assert_float_equal(mean[1], 15, 1e-5);
        } else {
            assert_float_equal(mean[0], e - 1, 1e-6);   /* e-2, e-1, e */
            assert_float_equal(mean[1], 10 * (e - 1), 1e-5);
        }
    }
    nt_weight_history_free(h);
}

/* --average N writes another network than the best epoch alone, records N
 * in the manifest, and the model still learns the data; N = 1 is the best
 * epoch itself and records nothing. */
static void test_average_epochs(void **state)
{
    char single[512], averaged[512];
    newstag_train_options o;
    json_t *ms, *ma;

    (void)state;
    small_options(&o);
    o.average_epochs = 1;
    train_small(&o, "single-epoch", single, sizeof single);
    o.average_epochs = 4;
    train_small(&o, "averaged", averaged, sizeof averaged);
    ms = manifest_of(single);
    ma = manifest_of(averaged);
    assert_null(json_object_get(json_object_get(ms, "training"), "average_epochs"));
    assert_int_equal(training_int(ma, "average_epochs"), 4);
    assert_true(squared_weights(averaged) != squared_weights(single));
    assert_true(dev_f1(ma) > 0.85);
    /* the dev metrics recorded are those of the averaged network written */
    assert_float_equal(eval_f1(averaged, "training/corpus/dev_feed.jsonl"), dev_f1(ma), 1e-4);
    json_decref(ms);
    json_decref(ma);
}

/* A JSON Lines file again, with every title and text without diacritics
 * (through the library's own normalizer). */
static void write_accent_free(const char *src, const char *dst)
{
    FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
    char line[65536];

    assert_non_null(in);
    assert_non_null(out);
    while (fgets(line, sizeof line, in)) {
        json_t *item = json_loads(line, 0, NULL);
        const char *title, *text;
        char *bare_title, *bare_text, *dump;
        newstag_error err;

        assert_non_null(item);
        title = json_string_value(json_object_get(item, "title"));
        text = json_string_value(json_object_get(item, "text"));
        bare_title = newstag_normalize(title, strlen(title), 1, NULL, &err);
        bare_text = newstag_normalize(text, strlen(text), 1, NULL, &err);
        assert_non_null(bare_title);
        assert_non_null(bare_text);
        assert_null(strstr(bare_text, "\xc3\xa2"));    /* no â left */
        json_object_set_new(item, "title", json_string(bare_title));
        json_object_set_new(item, "text", json_string(bare_text));
        dump = json_dumps(item, JSON_COMPACT);
        assert_non_null(dump);
        fprintf(out, "%s\n", dump);
        free(dump);
        free(bare_title);
        free(bare_text);
        json_decref(item);
    }
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* With an accent-free share, every item gives one row (as written or
 * without diacritics) instead of two; the share is recorded, the model
 * still learns the data, and it reads text without diacritics far better
 * than a model trained without accent-free items. A share of 1 (no item
 * as written) is refused. */
static void test_accent_free_share(void **state)
{
    char copies[512], shared[512], plain[512], bare_dev[600];
    newstag_train_options o;
    newstag_dataset *ds;
    newstag_error err;
    json_t *mc, *ms;

    (void)state;
    small_options(&o);
    o.balance = NEWSTAG_BALANCE_NONE;
    train_small(&o, "copies", copies, sizeof copies);
    o.accent_free_share = 0.5f;
    train_small(&o, "shared", shared, sizeof shared);
    o.augment = 0;
    train_small(&o, "no-accent-free", plain, sizeof plain);
    mc = manifest_of(copies);
    ms = manifest_of(shared);
    assert_int_equal(training_int(mc, "training_rows"), 2 * training_int(mc, "train_items"));
    assert_int_equal(training_int(ms, "training_rows"), training_int(ms, "train_items"));
    assert_null(json_object_get(json_object_get(mc, "training"), "accent_free_share"));
    assert_float_equal(json_number_value(json_object_get(json_object_get(ms, "training"),
                                                         "accent_free_share")), 0.5, 1e-6);
    assert_true(dev_f1(ms) > 0.85);
    snprintf(bare_dev, sizeof bare_dev, "%s/dev_bare.jsonl", tmp);
    write_accent_free("training/corpus/dev_feed.jsonl", bare_dev);
    /* on these 320 items about 0.8, against 0.6 without accent-free items */
    assert_true(eval_f1(shared, bare_dev) > eval_f1(plain, bare_dev) + 0.1);
    json_decref(mc);
    json_decref(ms);
    ds = read_data("tests/data/small.jsonl");
    o.accent_free_share = 1;
    assert_int_equal(newstag_train(ds, NULL, &o, shared, &err), -1);
    assert_int_equal(err.code, NEWSTAG_ERR_ARGUMENT);
    newstag_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_improves_on_new_data),
        cmocka_unit_test(test_init_falls_back_on_new_labels),
        cmocka_unit_test(test_init_from_damaged_model),
        cmocka_unit_test(test_rare_label_warning_and_oversampling),
        cmocka_unit_test(test_dev_overlap_warning),
        cmocka_unit_test(test_sixty_four_labels),
        cmocka_unit_test(test_weight_decay_shrinks_weights),
        cmocka_unit_test(test_negative_decay_refused),
        cmocka_unit_test(test_oov_weight_is_rarest_kept),
        cmocka_unit_test(test_weight_history_mean),
        cmocka_unit_test(test_average_epochs),
        cmocka_unit_test(test_accent_free_share),
    };
    return cmocka_run_group_tests_name("train", tests, setup, teardown);
}
