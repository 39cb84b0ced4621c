/*
 * test_model.c - model files, training and classification: spelling
 * variants score the same, accent-free text gets the same labels, models
 * survive comma-decimal locales, the sparse forward pass equals fann_run,
 * long texts are also read by windows, training is deterministic, damaged
 * models are refused, writes are atomic.
 */
#include <glob.h>
#include <locale.h>
#include <math.h>
#include <sys/stat.h>

#include "testutil.h"

#include <fann.h>
#include <jansson.h>

#include "newstag.h"
#include "internal.h"

#define SMALL_CORPUS "tests/data/small.jsonl"

static newstag_model *shipped;

static int load_shipped(void **state)
{
    newstag_error err;

    (void)state;
    shipped = newstag_model_load(tu_model(), &err);
    if (!shipped)
        fprintf(stderr, "cannot load %s: %s\n", tu_model(), err.text);
    return shipped ? 0 : -1;
}

static int free_shipped(void **state)
{
    (void)state;
    newstag_model_free(shipped);
    return 0;
}

static void score(const newstag_model *m, const char *text, float *out)
{
    newstag_error err;
    newstag_ctx *ctx = newstag_ctx_new(m, &err);

    assert_non_null(ctx);
    assert_int_equal(newstag_classify(ctx, text, strlen(text), out, NULL, &err), 0);
    newstag_ctx_free(ctx);
}

static void score_stats(const newstag_model *m, const char *text, float *out,
                        newstag_text_stats *stats)
{
    newstag_error err;
    newstag_ctx *ctx = newstag_ctx_new(m, &err);

    assert_non_null(ctx);
    assert_int_equal(newstag_classify(ctx, text, strlen(text), out, stats, &err), 0);
    newstag_ctx_free(ctx);
}

static uint64_t labels_of(const newstag_model *m, const float *s)
{
    uint64_t mask = 0;
    size_t l;

    for (l = 0; l < newstag_model_num_labels(m); l++)
        if (s[l] >= newstag_model_threshold(m, l))
            mask |= 1ULL << l;
    return mask;
}

/* Items written for these tests (not part of the training corpus). */
static const char *const ITEMS[] = {
    "Hội đồng bầu cử quốc gia công bố danh sách 868 người ứng cử đại biểu Quốc hội "
    "khóa XVI; cử tri cả nước sẽ đi bầu vào ngày 15/3.",
    "Thu ngân sách nhà nước 10 tháng ước đạt 1,7 triệu tỷ đồng, vượt dự toán; Bộ Tài "
    "chính đề nghị đẩy mạnh giải ngân vốn đầu tư công và chống thất thu thuế.",
    "Ban Chấp hành Đảng bộ tỉnh Thanh Hoá họp hội nghị lần thứ 12, cho ý kiến về công "
    "tác cán bộ và kết nạp đảng viên, quán triệt nghị quyết Trung ương.",
    "Phường Hoàn Kiếm ra quân lập lại trật tự đô thị, xử lý lấn chiếm vỉa hè, tháo dỡ "
    "biển quảng cáo trái phép và cưỡng chế công trình xây dựng không phép.",
    "Đội tuyển bóng đá Việt Nam thắng Thái Lan 2-1 trong trận chung kết, HLV khen "
    "các cầu thủ trẻ thi đấu quả cảm trước hàng vạn khán giả.",
    "Giá vàng miếng hôm nay tăng mạnh, người dân xếp hàng mua tích trữ; ngân hàng "
    "giảm lãi suất cho vay mua nhà.",
};
#define NITEMS (sizeof ITEMS / sizeof ITEMS[0])

static void assert_same_scores(const char *a, const char *b)
{
    float sa[NEWSTAG_MAX_LABELS], sb[NEWSTAG_MAX_LABELS];
    size_t l;

    score(shipped, a, sa);
    score(shipped, b, sb);
    for (l = 0; l < newstag_model_num_labels(shipped); l++)
        assert_true(sa[l] == sb[l]);
}

static void test_variants_score_the_same(void **state)
{
    size_t i, respelled = 0;

    (void)state;
    for (i = 0; i < NITEMS; i++) {
        char *nfd = tu_nfd(ITEMS[i]), *up = tu_upper(ITEMS[i]);
        char *old1 = tu_replace(ITEMS[i], "hoá", "hóa");
        char *old2 = tu_replace(old1, "Hoá", "Hóa");
        char *nfd_up = tu_upper(nfd);
        char *iy1 = tu_replace(ITEMS[i], "tỷ", "tỉ"), *iy = tu_replace(iy1, "lý", "lí");
        assert_same_scores(ITEMS[i], nfd);
        assert_same_scores(ITEMS[i], up);
        assert_same_scores(ITEMS[i], old2);
        assert_same_scores(ITEMS[i], nfd_up);
        assert_same_scores(ITEMS[i], iy);
        respelled += strcmp(iy, ITEMS[i]) != 0;
        free(nfd), free(up), free(old1), free(old2), free(nfd_up), free(iy1), free(iy);
    }
    assert_true(respelled >= 2);    /* the i/y check really ran */
}

static void test_labels_of_clear_items(void **state)
{
    /* each clear item gets its topic; the last two get none */
    static const int WANT[NITEMS] = {2, 1, 0, 3, -1, -1};
    float s[NEWSTAG_MAX_LABELS];
    size_t i;

    (void)state;
    assert_int_equal(newstag_model_label_index(shipped, "party_building"), 0);
    assert_int_equal(newstag_model_label_index(shipped, "urban_order"), 3);
    for (i = 0; i < NITEMS; i++) {
        uint64_t got;
        score(shipped, ITEMS[i], s);
        got = labels_of(shipped, s);
        if (WANT[i] < 0)
            assert_int_equal(got, 0);
        else
            assert_true(got & (1ULL << WANT[i]));
    }
}

static void test_accent_free_same_labels(void **state)
{
    float a[NEWSTAG_MAX_LABELS], b[NEWSTAG_MAX_LABELS];
    newstag_error err;
    size_t i;

    (void)state;
    for (i = 0; i < NITEMS; i++) {
        char *bare = newstag_normalize(ITEMS[i], strlen(ITEMS[i]), 1, NULL, &err);
        assert_non_null(bare);
        score(shipped, ITEMS[i], a);
        score(shipped, bare, b);
        assert_int_equal(labels_of(shipped, a), labels_of(shipped, b));
        free(bare);
    }
}

/* ---- training-based tests use a small corpus and a small network -------- */

static void train_small(const char *dir, unsigned seed)
{
    newstag_dataset *ds = newstag_dataset_new();
    newstag_train_options opt;
    newstag_error err;

    assert_non_null(ds);
    assert_int_equal(newstag_dataset_read_file(ds, SMALL_CORPUS, &err), 0);
    newstag_train_options_init(&opt);
    opt.seed = seed;
    opt.epochs = 8;
    opt.hidden = 6;
    opt.max_features = 800;
    if (newstag_train(ds, NULL, &opt, dir, &err) != 0)
        fail_msg("training failed: %s", err.text);
    newstag_dataset_free(ds);
}

static char *path_in(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);

    assert_non_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void scores_of_model(const char *dir, float out[NITEMS][NEWSTAG_MAX_LABELS])
{
    newstag_error err;
    newstag_model *m = newstag_model_load(dir, &err);
    size_t i;

    memset(out, 0, sizeof(float) * NITEMS * NEWSTAG_MAX_LABELS);
    if (!m)
        fail_msg("load %s: %s", dir, err.text);
    for (i = 0; i < NITEMS; i++)
        score(m, ITEMS[i], out[i]);
    newstag_model_free(m);
}

static void test_locale_independent_files(void **state)
{
    char *tmp = tu_tmpdir(), *a = path_in(tmp, "c"), *b = path_in(tmp, "vi");
    char *na, *nb, *fa, *fb;
    float sc[NITEMS][NEWSTAG_MAX_LABELS], sv[NITEMS][NEWSTAG_MAX_LABELS];
    char *net_a, *net_b, *fe_a, *fe_b;

    (void)state;
    assert_non_null(setlocale(LC_ALL, "C"));
    train_small(a, 3);
    /* the locale must exist: the test setup generates it (localedef) */
    if (!setlocale(LC_ALL, "vi_VN.UTF-8"))
        fail_msg("locale vi_VN.UTF-8 is missing; run scripts/install-deps");
    {
        char buf[32];
        snprintf(buf, sizeof buf, "%.1f", 0.5);
        assert_string_equal(buf, "0,5");   /* really a comma locale */
    }
    train_small(b, 3);
    scores_of_model(a, sv);              /* load under vi_VN */
    assert_non_null(setlocale(LC_ALL, "C"));
    scores_of_model(b, sc);              /* load under C */
    assert_memory_equal(sc, sv, sizeof sc);
    /* the files themselves are the same bytes whatever the locale */
    net_a = path_in(a, "network.net"), net_b = path_in(b, "network.net");
    fe_a = path_in(a, "features.tsv"), fe_b = path_in(b, "features.tsv");
    na = tu_read_file(net_a, NULL), nb = tu_read_file(net_b, NULL);
    fa = tu_read_file(fe_a, NULL), fb = tu_read_file(fe_b, NULL);
    assert_non_null(na), assert_non_null(fa);
    assert_string_equal(na, nb);
    assert_string_equal(fa, fb);
    free(na), free(nb), free(fa), free(fb);
    free(net_a), free(net_b), free(fe_a), free(fe_b);
    tu_rmtree(tmp);
    free(a), free(b), free(tmp);
}

/* What was trained is what is loaded: every feature setting survives the
 * manifest (a load bug once read "accents" from the wrong variable). */
static void test_feature_settings_round_trip(void **state)
{
    static const struct { int accents, binary, no_idf; unsigned ngrams, window; } CASES[] = {
        {NEWSTAG_ACCENTS_BOTH, 0, 0, 2, 250}, {NEWSTAG_ACCENTS_KEEP, 1, 1, 1, 0},
        {NEWSTAG_ACCENTS_STRIP, 1, 0, 3, 100}, {NEWSTAG_ACCENTS_BOTH, 0, 1, 2, 250},
    };
    char *tmp = tu_tmpdir(), *dir = path_in(tmp, "m");
    newstag_dataset *ds = newstag_dataset_new();
    newstag_error err;
    size_t i;

    (void)state;
    assert_int_equal(newstag_dataset_read_file(ds, SMALL_CORPUS, &err), 0);
    for (i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        newstag_train_options opt;
        newstag_model *m;
        int pass;
        newstag_train_options_init(&opt);
        opt.epochs = 2, opt.hidden = 3, opt.max_features = 300;
        opt.accents = CASES[i].accents, opt.binary_tf = CASES[i].binary;
        opt.no_idf = CASES[i].no_idf, opt.ngram_max = CASES[i].ngrams;
        opt.window = CASES[i].window;
        assert_int_equal(newstag_train(ds, NULL, &opt, dir, &err), 0);
        for (pass = 0; pass < 2; pass++) {      /* from text, then from network.bin */
            m = newstag_model_load(dir, &err);
            assert_non_null(m);
            assert_int_equal(m->features.accents, CASES[i].accents);
            assert_int_equal(m->features.ngram_max, CASES[i].ngrams);
            assert_int_equal(m->features.window, CASES[i].window);
            assert_int_equal(m->vocab.binary_tf, CASES[i].binary);
            assert_true(CASES[i].no_idf ? m->vocab.idf[0] == 1.0f : m->vocab.idf[0] > 1.0f);
            newstag_model_free(m);
        }
    }
    newstag_dataset_free(ds);
    tu_rmtree(tmp);
    free(dir), free(tmp);
}

static void test_deterministic_training(void **state)
{
    char *tmp = tu_tmpdir(), *a = path_in(tmp, "a"), *b = path_in(tmp, "b"),
         *c = path_in(tmp, "c");
    char *pa = path_in(a, "network.net"), *pb = path_in(b, "network.net"),
         *pc = path_in(c, "network.net");
    char *na, *nb, *nc;

    (void)state;
    train_small(a, 7);
    train_small(b, 7);
    train_small(c, 8);
    na = tu_read_file(pa, NULL), nb = tu_read_file(pb, NULL), nc = tu_read_file(pc, NULL);
    assert_string_equal(na, nb);
    assert_string_not_equal(na, nc);
    free(na), free(nb), free(nc), free(pa), free(pb), free(pc);
    tu_rmtree(tmp);
    free(a), free(b), free(c), free(tmp);
}

/* Dense input as the trainer gives it to libfann: rebuild it from the
 * features file and compare fann_run with the library's sparse pass, on
 * every item of our corpus (training and dev files). */
static void test_sparse_forward_equals_fann_run(void **state)
{
    char *net = path_in(tu_model(), "network.net");
    struct fann *ann;
    newstag_dataset *ds = newstag_dataset_new();
    newstag_error err;
    fann_type *in;
    size_t i, f, checked = 0, long_items = 0, raised = 0;
    newstag_model whole;
    glob_t g;

    (void)state;
    assert_non_null(setlocale(LC_ALL, "C"));
    ann = fann_create_from_file(net);   /* stock libfann reads our file */
    assert_non_null(ann);
    assert_int_equal(fann_get_num_output(ann), newstag_model_num_labels(shipped));
    assert_int_equal(glob("training/corpus/*.jsonl", 0, NULL, &g), 0);
    for (f = 0; f < g.gl_pathc; f++)
        if (newstag_dataset_read_file(ds, g.gl_pathv[f], &err) < 0)
            fail_msg("%s", err.text);
    globfree(&g);
    in = calloc(fann_get_num_input(ann), sizeof *in);
    assert_non_null(in);
    /* the same model reading whole texts only (a shallow copy, not freed) */
    whole = *shipped;
    whole.features.window = 0;
    assert_true(shipped->features.window > 0);
    for (i = 0; i < newstag_dataset_size(ds); i++) {
        const char *text = newstag_dataset_text(ds, i);
        float sparse[NEWSTAG_MAX_LABELS], windowed[NEWSTAG_MAX_LABELS];
        newstag_text_stats stats;
        fann_type *dense;
        size_t l;
        assert_int_equal(newstag_model_input(shipped, text, strlen(text), in,
                                             fann_get_num_input(ann)), 0);
        dense = fann_run(ann, in);
        score(&whole, text, sparse);
        score_stats(shipped, text, windowed, &stats);
        long_items += stats.syllables > shipped->features.window;
        for (l = 0; l < newstag_model_num_labels(shipped); l++) {
            assert_float_equal(sparse[l], dense[l], 1e-5);
            /* windows only ever raise a long text's scores */
            if (stats.syllables <= shipped->features.window)
                assert_true(windowed[l] == sparse[l]);
            else
                assert_true(windowed[l] >= sparse[l]);
            raised += windowed[l] > sparse[l];
        }
        checked++;
    }
    assert_true(checked >= 8000);
    assert_true(long_items >= 1000);
    assert_true(raised > 0);
    free(in);
    fann_destroy(ann);
    newstag_dataset_free(ds);
    free(net);
}

/* The windows of a long text cover it from start to end, half a window
 * apart, and a short text has none. */
static void test_window_plan(void **state)
{
    nt_windows w;
    size_t i, from, to, prev_to = 0;

    (void)state;
    nt_windows_plan(&w, 800, 200, 250);          /* 200 syllables: short */
    assert_int_equal(w.count, 0);
    nt_windows_plan(&w, 4000, 1000, 0);          /* windows switched off */
    assert_int_equal(w.count, 0);
    nt_windows_plan(&w, 4000, 1000, 250);        /* 4 grams per syllable */
    assert_int_equal(w.len, 1000);
    assert_int_equal(w.count, 7);                /* 0, 500, ..., 3000 */
    nt_windows_plan(&w, 4100, 1025, 250);
    assert_int_equal(w.count, 8);                /* ..., 3000, then 3100 */
    for (i = 0; i < w.count; i++) {
        nt_window_range(&w, i, &from, &to);
        assert_int_equal(to - from, 1000);
        assert_true(i == 0 ? from == 0 : from < prev_to);   /* overlapping */
        assert_true(i + 1 < w.count ? from == i * 500 : to == 4100);
        prev_to = to;
    }
}

/* Sentences written for this test: news far from the four topics. */
static const char *const FILLER[] = {
    "Đội bóng chuyền nữ của tỉnh giành ngôi á quân giải vô địch quốc gia sau trận "
    "chung kết kéo dài năm ván trước hàng nghìn khán giả.",
    "Trời Bắc Bộ chuyển rét từ đêm nay, nhiệt độ vùng núi có nơi xuống dưới mười "
    "độ, các trường mầm non được khuyên cho trẻ mặc ấm khi đến lớp.",
    "Một nhóm sinh viên ở Đà Nẵng chế tạo thiết bị tưới cây tự động bằng cảm biến độ "
    "ẩm, giá chưa tới nửa triệu đồng, được nhiều nhà vườn đặt mua.",
    "Lễ hội hoa xuân năm nay trưng bày hơn ba trăm giống lan quý, thu hút đông đảo "
    "du khách chụp ảnh vào dịp cuối tuần.",
    "Bệnh viện nhi tiếp nhận nhiều ca viêm đường hô hấp do thời tiết thay đổi, bác "
    "sĩ khuyên phụ huynh rửa tay thường xuyên và cho trẻ ngủ đủ giấc.",
    "Câu lạc bộ cờ tướng của phường mở lớp miễn phí cho thiếu niên trong dịp hè, "
    "mỗi tuần hai buổi vào sáng thứ bảy và chủ nhật.",
};

/* A long text whose budget section (two paragraphs, about 150 syllables) is
 * one part among much else: the section's window lifts `budget` above the
 * whole text's score and tags it. (With one paragraph, 95 syllables in a
 * 250-syllable window, the topic is a passing mention as much as a section;
 * models trained with the kw rounds do not tag it, nor should they have to.) */
static void test_long_text_read_by_windows(void **state)
{
    static const char BUDGET[] =
        "Sáng nay Hội đồng nhân dân thành phố thông qua dự toán thu ngân sách nhà "
        "nước năm tới hơn 500 nghìn tỷ đồng, chi đầu tư công tăng 12%, đồng thời "
        "giao các quận đẩy nhanh giải ngân vốn đầu tư công và chống thất thu thuế, "
        "xử lý nợ đọng thuế kéo dài. Sở Tài chính cho biết bội chi được giữ trong "
        "giới hạn Quốc hội cho phép và quyết toán ngân sách năm trước đã hoàn tất. "
        "Theo báo cáo, thu nội địa mười tháng đạt 92% dự toán, trong đó thu tiền sử "
        "dụng đất giảm mạnh do thị trường trầm lắng. Thành phố đề nghị trung ương bổ "
        "sung có mục tiêu cho các công trình chống ngập, đồng thời cắt giảm chi thường "
        "xuyên để dành nguồn cải cách tiền lương.";
    char *text = calloc(1, 64 * 1024);
    float windowed[NEWSTAG_MAX_LABELS], whole_scores[NEWSTAG_MAX_LABELS];
    newstag_text_stats stats;
    newstag_model whole = *shipped;           /* shallow copy, not freed */
    int budget = newstag_model_label_index(shipped, "budget"), round;
    size_t k;

    (void)state;
    assert_non_null(text);
    assert_true(budget >= 0);
    for (round = 0; round < 8; round++) {
        if (round == 4)
            strcat(text, BUDGET), strcat(text, " ");
        for (k = 0; k < sizeof FILLER / sizeof FILLER[0]; k++)
            strcat(text, FILLER[(k + (size_t)round) % (sizeof FILLER / sizeof FILLER[0])]),
                strcat(text, " ");
    }
    whole.features.window = 0;
    score(&whole, text, whole_scores);
    score_stats(shipped, text, windowed, &stats);
    assert_true(stats.syllables > 4 * shipped->features.window);
    assert_true(windowed[budget] > whole_scores[budget]);
    assert_true(labels_of(shipped, windowed) & (1ULL << budget));
    /* the budget passage alone is what a window sees */
    score(shipped, BUDGET, whole_scores);
    assert_true(labels_of(shipped, whole_scores) & (1ULL << budget));
    free(text);
}

/* A small model of each kind of network: libfann saved the kind asked for,
 * and the sparse pass equals fann_run both when the model is read from its
 * text files and when its network.bin image is mapped (the second load). */
static void check_network_kind(int shortcut)
{
    char *tmp = tu_tmpdir(), *dir = path_in(tmp, "m"), *net = path_in(dir, "network.net");
    newstag_dataset *ds = newstag_dataset_new();
    newstag_train_options opt;
    newstag_error err;
    struct fann *ann;
    fann_type *in;
    struct stat st;
    size_t i;
    int load;

    assert_int_equal(newstag_dataset_read_file(ds, SMALL_CORPUS, &err), 0);
    newstag_train_options_init(&opt);
    opt.epochs = 8, opt.hidden = 6, opt.max_features = 800, opt.shortcut = shortcut;
    assert_int_equal(newstag_train(ds, NULL, &opt, dir, &err), 0);
    assert_non_null(setlocale(LC_ALL, "C"));
    ann = fann_create_from_file(net);
    assert_non_null(ann);
    assert_int_equal(fann_get_network_type(ann),
                     shortcut ? FANN_NETTYPE_SHORTCUT : FANN_NETTYPE_LAYER);
    in = calloc(fann_get_num_input(ann), sizeof *in);
    assert_non_null(in);
    for (load = 0; load < 2; load++) {
        newstag_model *m = newstag_model_load(dir, &err);
        assert_non_null(m);
        for (i = 0; i < NITEMS; i++) {
            float sparse[NEWSTAG_MAX_LABELS];
            fann_type *dense;
            size_t l;
            assert_int_equal(newstag_model_input(m, ITEMS[i], strlen(ITEMS[i]), in,
                                                 fann_get_num_input(ann)), 0);
            dense = fann_run(ann, in);
            score(m, ITEMS[i], sparse);
            for (l = 0; l < newstag_model_num_labels(m); l++)
                assert_float_equal(sparse[l], dense[l], 1e-5);
        }
        newstag_model_free(m);
        if (load == 0) {                 /* the first load wrote the image */
            char *bin = path_in(dir, "network.bin");
            assert_int_equal(stat(bin, &st), 0);
            free(bin);
        }
    }
    free(in);
    fann_destroy(ann);
    newstag_dataset_free(ds);
    tu_rmtree(tmp);
    free(net), free(dir), free(tmp);
}

static void test_shortcut_and_layered_networks(void **state)
{
    (void)state;
    check_network_kind(1);
    check_network_kind(0);
}

/* ---- damaged models ------------------------------------------------------ */

static char *copy_model(const char *tmp)
{
    char cmd[2048], *dst = path_in(tmp, "m");

    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", tu_model(), dst);
    assert_int_equal(system(cmd), 0);
    return dst;
}

static void expect_load_error(const char *dir, newstag_code code,
                              const char *needle)
{
    newstag_error err;
    newstag_model *m = newstag_model_load(dir, &err);

    assert_null(m);
    assert_int_equal(err.code, code);
    if (!strstr(err.text, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err.text, needle);
}

static void test_damaged_models_refused(void **state)
{
    char *tmp = tu_tmpdir(), *m = copy_model(tmp);
    char *net = path_in(m, "network.net"), *fe = path_in(m, "features.tsv"),
         *man = path_in(m, "manifest.json");
    size_t len = 0;
    char *orig_net = tu_read_file(net, &len), *orig_man, *edited;

    (void)state;
    /* one flipped byte in the network */
    orig_net[len / 2] ^= 0x01;
    tu_write_file(net, orig_net, len);
    expect_load_error(m, NEWSTAG_ERR_MODEL, "network.net");
    orig_net[len / 2] ^= 0x01;
    tu_write_file(net, orig_net, len);
    /* a truncated vocabulary */
    assert_int_equal(truncate(fe, 100), 0);
    expect_load_error(m, NEWSTAG_ERR_MODEL, "features.tsv");
    tu_rmtree(m);
    free(m);
    m = copy_model(tmp);
    /* an emptied manifest, then a newer format version */
    orig_man = tu_read_file(man, &len);
    tu_write_file(man, "", 0);
    expect_load_error(m, NEWSTAG_ERR_MODEL, "manifest.json");
    edited = tu_replace(orig_man, "\"format_version\": 2", "\"format_version\": 99");
    assert_string_not_equal(edited, orig_man);
    tu_write_file(man, edited, strlen(edited));
    expect_load_error(m, NEWSTAG_ERR_VERSION, "99");
    expect_load_error(m, NEWSTAG_ERR_VERSION, "format version 2");
    free(edited);
    /* an edited threshold breaks the manifest checksum */
    edited = tu_replace(orig_man, "\"labels\"", "\"labels\" ");
    tu_write_file(man, edited, strlen(edited));
    {
        newstag_model *ok = newstag_model_load(m, NULL);   /* whitespace is fine */
        assert_non_null(ok);
        newstag_model_free(ok);
    }
    free(edited);
    edited = tu_replace(orig_man, "\"format\": \"newstag-model\"",
                        "\"format\": \"newstag-model\", \"x\": 1");
    tu_write_file(man, edited, strlen(edited));
    expect_load_error(m, NEWSTAG_ERR_MODEL, "checksum");
    free(edited);
    /* a missing model */
    expect_load_error("/nonexistent/model", NEWSTAG_ERR_MODEL, "/nonexistent/model");
    free(orig_man), free(orig_net), free(net), free(fe), free(man);
    tu_rmtree(tmp);
    free(m), free(tmp);
}

/* Write dir's manifest with features.spelling set to `spelling` (NULL:
 * removed, as in a format 1 model, made before it was recorded; then also
 * format_version 1) and a fresh checksum, computed as modelfile.c does. */
static void set_spelling(const char *dir, const char *spelling)
{
    char *man = path_in(dir, "manifest.json"), *s, hex[65];
    json_t *root = json_load_file(man, 0, NULL), *f;

    assert_non_null(root);
    if (!spelling)
        json_object_set_new(root, "format_version", json_integer(1));
    f = json_object_get(root, "features");
    if (spelling)
        json_object_set_new(f, "spelling", json_string(spelling));
    else
        json_object_del(f, "spelling");
    json_object_del(root, "checksum");
    s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    nt_sha256_hex(s, strlen(s), hex);
    free(s);
    json_object_set_new(root, "checksum", json_string(hex));
    assert_int_equal(json_dump_file(root, man, JSON_INDENT(2)), 0);
    json_decref(root);
    free(man);
}

/* A model made before the i/y rule keeps reading text as it was trained
 * to (tỷ and tỉ differ); a model that records the rule reads them alike. */
static void test_spelling_recorded_in_manifest(void **state)
{
    static const char TY[] = "Thu ngân sách 10 tháng đạt 1.500 tỷ đồng, vượt dự toán";
    static const char TI[] = "Thu ngân sách 10 tháng đạt 1.500 tỉ đồng, vượt dự toán";
    char *tmp = tu_tmpdir(), *m = copy_model(tmp);
    float a[NEWSTAG_MAX_LABELS], b[NEWSTAG_MAX_LABELS];
    newstag_model *model;
    size_t l, differ = 0;

    (void)state;
    for (l = 0; l < 2; l++) {
        set_spelling(m, l ? NULL : "i-for-y");
        model = newstag_model_load(m, NULL);
        assert_non_null(model);
        score(model, TY, a);
        score(model, TI, b);
        if (l == 0)
            assert_memory_equal(a, b, newstag_model_num_labels(model) * sizeof a[0]);
        else
            differ = memcmp(a, b, newstag_model_num_labels(model) * sizeof a[0]) != 0;
        newstag_model_free(model);
    }
    assert_true(differ);   /* without the rule, "tỷ" is not the vocabulary's "tỉ" */
    set_spelling(m, "y-for-i");
    expect_load_error(m, NEWSTAG_ERR_MODEL, "spelling");
    tu_rmtree(tmp);
    free(m), free(tmp);
}

static json_t *manifest_of(const char *dir)
{
    char *man = path_in(dir, "manifest.json");
    json_t *root = json_load_file(man, 0, NULL);

    assert_non_null(root);
    free(man);
    return root;
}

/* A new model is format 2 and reads tỷ as tỉ. One continued from a format 1
 * model keeps its parent's reading and stays format 1, which older newstag
 * reads the same way. */
static void test_format_follows_spelling(void **state)
{
    char *tmp = tu_tmpdir(), *parent = path_in(tmp, "parent"), *child = path_in(tmp, "child");
    newstag_dataset *ds = newstag_dataset_new();
    newstag_train_options opt;
    newstag_error err;
    json_t *root;

    (void)state;
    train_small(parent, 1);
    root = manifest_of(parent);
    assert_int_equal(json_integer_value(json_object_get(root, "format_version")), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(root, "features"),
                                                          "spelling")), "i-for-y");
    json_decref(root);
    set_spelling(parent, NULL);
    assert_int_equal(newstag_dataset_read_file(ds, SMALL_CORPUS, &err), 0);
    newstag_train_options_init(&opt);
    opt.epochs = 2;
    opt.init_model = parent;
    if (newstag_train(ds, NULL, &opt, child, &err) != 0)
        fail_msg("training failed: %s", err.text);
    root = manifest_of(child);
    assert_int_equal(json_integer_value(json_object_get(root, "format_version")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(root, "features"),
                                                          "spelling")), "as-written");
    json_decref(root);
    newstag_dataset_free(ds);
    tu_rmtree(tmp);
    free(parent), free(child), free(tmp);
}

/* network.bin is a cache: made on load, used when it matches, ignored and
 * rebuilt when damaged or stale, never a reason to refuse a good model. */
static void test_binary_image_cache(void **state)
{
    char *tmp = tu_tmpdir(), *m = copy_model(tmp), *bin = path_in(m, "network.bin");
    float before[NITEMS][NEWSTAG_MAX_LABELS], after[NITEMS][NEWSTAG_MAX_LABELS];
    size_t len = 0, len2 = 0;
    char *img, *orig;

    (void)state;
    unlink(bin);
    scores_of_model(m, before);          /* slow path, writes the image */
    img = tu_read_file(bin, &len);
    assert_non_null(img);
    assert_true(len > 1000);
    assert_memory_equal(img, "NTIMAGE", 7);
    scores_of_model(m, after);           /* fast path */
    assert_memory_equal(before, after, sizeof before);
    orig = malloc(len);
    assert_non_null(orig);
    memcpy(orig, img, len);
    img[len - 3] ^= 0x10;                /* damage the image body */
    tu_write_file(bin, img, len);
    scores_of_model(m, after);           /* ignored, model read from text */
    assert_memory_equal(before, after, sizeof before);
    free(img);
    img = tu_read_file(bin, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(img, orig, len); /* rebuilt as it was */
    free(img), free(orig), free(bin);
    tu_rmtree(tmp);
    free(m), free(tmp);
}

static void test_atomic_replace(void **state)
{
    char *tmp = tu_tmpdir(), *dst = path_in(tmp, "model"), *other = path_in(tmp, "notes");
    char cmd[1024], *out = NULL;
    newstag_dataset *ds = newstag_dataset_new();
    newstag_train_options opt;
    newstag_error err;

    (void)state;
    train_small(dst, 1);
    train_small(dst, 2);                 /* replaces the existing model */
    snprintf(cmd, sizeof cmd, "ls -A '%s'", tmp);
    assert_int_equal(tu_run(cmd, NULL, &out, NULL, NULL), 0);
    assert_string_equal(out, "model\n"); /* no temporary directories left */
    free(out);
    /* a directory that is not a model is never replaced */
    assert_int_equal(mkdir(other, 0755), 0);
    snprintf(cmd, sizeof cmd, "touch '%s/keep.txt'", other);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(newstag_dataset_read_file(ds, SMALL_CORPUS, &err), 0);
    newstag_train_options_init(&opt);
    opt.epochs = 2, opt.hidden = 4, opt.max_features = 200;
    assert_int_equal(newstag_train(ds, NULL, &opt, other, &err), -1);
    assert_non_null(strstr(err.text, "not a newstag model"));
    snprintf(cmd, sizeof cmd, "test -f '%s/keep.txt'", other);
    assert_int_equal(system(cmd), 0);
    newstag_dataset_free(ds);
    tu_rmtree(tmp);
    free(dst), free(other), free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variants_score_the_same),
        cmocka_unit_test(test_labels_of_clear_items),
        cmocka_unit_test(test_accent_free_same_labels),
        cmocka_unit_test(test_sparse_forward_equals_fann_run),
        cmocka_unit_test(test_shortcut_and_layered_networks),
        cmocka_unit_test(test_window_plan),
        cmocka_unit_test(test_long_text_read_by_windows),
        cmocka_unit_test(test_locale_independent_files),
        cmocka_unit_test(test_feature_settings_round_trip),
        cmocka_unit_test(test_deterministic_training),
        cmocka_unit_test(test_damaged_models_refused),
        cmocka_unit_test(test_spelling_recorded_in_manifest),
        cmocka_unit_test(test_format_follows_spelling),
        cmocka_unit_test(test_binary_image_cache),
        cmocka_unit_test(test_atomic_replace),
    };
    return cmocka_run_group_tests_name("model", tests, load_shipped, free_shipped);
}
