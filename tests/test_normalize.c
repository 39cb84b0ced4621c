/*
 * test_normalize.c - the text normalizer: every spelling of a Vietnamese
 * word must come out the same, HTML must go, bad bytes must not hurt.
 */
#include "testutil.h"

#include "newstag.h"
#include "internal.h"
#include <glob.h>

static char *norm(const char *s, int strip)
{
    newstag_error err;
    char *out = newstag_normalize(s, strlen(s), strip, NULL, &err);

    assert_non_null(out);
    return out;
}

static void assert_norm(const char *in, const char *want)
{
    char *out = norm(in, 0);

    assert_string_equal(out, want);
    free(out);
}

static void assert_same_norm(const char *a, const char *b)
{
    char *x = norm(a, 0), *y = norm(b, 0);

    assert_string_equal(x, y);
    free(x);
    free(y);
}

static const char *const SENTENCES[] = {
    "Hội đồng bầu cử quốc gia công bố kết quả bầu cử đại biểu Quốc hội",
    "Thu ngân sách nhà nước 10 tháng đạt 1.700 nghìn tỷ đồng",
    "Đảng bộ phường tổ chức đại hội nhiệm kỳ 2025-2030, kết nạp đảng viên mới",
    "Lấn chiếm vỉa hè, xây dựng trái phép: cưỡng chế tháo dỡ công trình vi phạm",
    "Người được hỏi cho biết khuya nay trời sẽ rét; giữ gìn sức khỏe, quý khách!",
};

static void test_nfd_equals_nfc(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof SENTENCES / sizeof SENTENCES[0]; i++) {
        char *nfd = tu_nfd(SENTENCES[i]);
        assert_string_not_equal(nfd, SENTENCES[i]);  /* really decomposed */
        assert_same_norm(SENTENCES[i], nfd);
        free(nfd);
    }
}

static void test_upper_equals_lower(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof SENTENCES / sizeof SENTENCES[0]; i++) {
        char *up = tu_upper(SENTENCES[i]);
        assert_same_norm(SENTENCES[i], up);
        free(up);
    }
    assert_norm("ĐẢNG BỘ", "đảng bộ");
    assert_norm("Đ đ", "đ đ");
    /* Ð (eth), which looks the same, stands in for Đ in older text */
    assert_norm("ÐẢNG BỘ Ðà Nẵng", "đảng bộ đà nẵng");
    assert_same_norm("Ðại hội Ðảng", "Đại hội Đảng");
    {
        char *bare = norm("Ðảng ðồng", 1);
        assert_string_equal(bare, "dang dong");
        free(bare);
    }
}

static void test_old_and_new_tone_placement(void **state)
{
    static const char *const PAIRS[][2] = {
        {"hoà", "hòa"}, {"thuỷ", "thủy"}, {"khoẻ", "khỏe"}, {"uỳ", "ùy"},
        {"Hoà Bình", "Hòa Bình"}, {"Thuỵ Khuê", "Thụy Khuê"}, {"toà án", "tòa án"},
        {"loã", "lõa"}, {"hoạ", "họa"}, {"quý", "qúy"}, {"Khánh Hoà", "Khánh Hòa"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof PAIRS / sizeof PAIRS[0]; i++) {
        char *nfd_old = tu_nfd(PAIRS[i][0]), *nfd_new = tu_nfd(PAIRS[i][1]);
        assert_same_norm(PAIRS[i][0], PAIRS[i][1]);
        assert_same_norm(nfd_old, PAIRS[i][1]);
        assert_same_norm(PAIRS[i][0], nfd_new);
        free(nfd_old);
        free(nfd_new);
    }
    /* the canonical spelling is a real one, not a mangled string */
    assert_norm("hòa thủy", "hoà thuỷ");
    assert_norm("người được tuổi", "người được tuổi");
    assert_norm("quốc giá giữ", "quốc giá giữ");
}

static void test_i_and_y_spellings_meet(void **state)
{
    static const char *const PAIRS[][2] = {
        {"600 tỷ đồng", "600 tỉ đồng"}, {"quản lý", "quản lí"}, {"kỹ sư", "kĩ sư"},
        {"nước Mỹ", "nước Mĩ"}, {"quý khách", "quí khách"}, {"quy định", "qui định"},
        {"hy vọng", "hi vọng"}, {"công ty", "công ti"}, {"TỶ LỆ", "tỉ lệ"},
        {"bác sỹ", "bác sĩ"}, {"ký kết", "kí kết"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof PAIRS / sizeof PAIRS[0]; i++) {
        char *nfd = tu_nfd(PAIRS[i][0]);
        assert_same_norm(PAIRS[i][0], PAIRS[i][1]);
        assert_same_norm(nfd, PAIRS[i][1]);
        free(nfd);
    }
    assert_norm("600 tỷ đồng", "0 tỉ đồng");
    /* y alone and y after a vowel spell other sounds: they stay */
    assert_norm("ý kiến, y tế", "ý kiến | y tế");
    assert_norm("thuỷ tuy hay mây khuya", "thuỷ tuy hay mây khuya");
    assert_norm("quyết quyền", "quyết quyền");
    /* and the accent-free twin follows */
    {
        char *a = norm("công ty tỷ", 1);
        assert_string_equal(a, "cong ti ti");
        free(a);
    }
}

static void test_marks_in_any_order(void **state)
{
    /* ậ written as a + dot below + circumflex and as a + circumflex + dot */
    (void)state;
    assert_same_norm("v\x61\xcc\xa3\xcc\x82n", "v\x61\xcc\x82\xcc\xa3n");
    assert_norm("v\x61\xcc\xa3\xcc\x82n", "vận");
}

static void test_html_removed(void **state)
{
    (void)state;
    assert_norm("<p>Ng&acirc;n s&aacute;ch</p><br/>nh&#224; n&#x1B0;&#x1EDB;c",
                "ngân sách | nhà nước");
    assert_norm("<b>bầu</b> cử <script>var x = 'đảng';</script> xong",
                "bầu cử | xong");
    assert_norm("<!-- quảng cáo --> vỉa hè", "vỉa hè");
    assert_norm("a < b và 3 > 2", "a | b và 0 | 0");   /* not tags */
    assert_norm("&amp;&unknown; &#99999999;", "unknown");
}

static void test_invalid_utf8_counted(void **state)
{
    newstag_text_stats st;
    newstag_error err;
    const char bad[] = "ng\xc3\xa2n \xff\xfe s\xe1\xba\xa1 \xe1\xba";
    char *out = newstag_normalize(bad, sizeof bad - 1, 0, &st, &err);

    (void)state;
    assert_non_null(out);
    assert_int_equal(st.invalid_utf8, 4);
    assert_string_equal(out, "ngân | sạ");
    free(out);
}

static void test_strip_accents(void **state)
{
    char *a = norm("Bầu cử ĐẢNG bộ Thuỷ hoà Nguyễn", 1);
    char *b = norm("bau cu dang bo thuy hoa nguyen", 1);

    (void)state;
    assert_string_equal(a, "bau cu dang bo thuy hoa nguyen");
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_numbers_and_punctuation(void **state)
{
    (void)state;
    assert_norm("Năm 2026, thu 1.500 tỷ; chi 3,5%.", "năm 0 | thu 0 tỉ | chi 0");
    assert_norm("ngày 2.9.2025 và 15.3", "ngày 0 và 0");
    assert_norm("", "");
    assert_norm("   \t\n ", "");
}

static void test_nul_bytes_and_long_tokens(void **state)
{
    char buf[5000];
    newstag_error err;
    char *out;

    (void)state;
    memset(buf, 'a', sizeof buf);
    buf[100] = '\0';
    out = newstag_normalize(buf, sizeof buf, 0, NULL, &err);
    assert_non_null(out);
    assert_true(strlen(out) < 200);      /* two long tokens, each capped */
    assert_non_null(strchr(out, ' '));
    free(out);
}

/* The table path must give exactly what plain utf8proc gives. */
static void assert_paths_agree(const char *s, size_t n)
{
    int strip;

    for (strip = 0; strip <= 1; strip++) {
        newstag_text_stats a, b;
        char *fast = nt_normalize_impl(s, n, strip, 1, &a, NULL, 0);
        char *ref = nt_normalize_impl(s, n, strip, 1, &b, NULL, 1);
        assert_non_null(fast);
        assert_non_null(ref);
        if (strcmp(fast, ref) != 0) {
            tu_write_file("/tmp/newstag-paths-differ.bin", s, n);
            fail_msg("table and utf8proc paths differ (input in "
                     "/tmp/newstag-paths-differ.bin):\n%s\n%s", fast, ref);
        }
        assert_int_equal(a.invalid_utf8, b.invalid_utf8);
        assert_int_equal(a.syllables, b.syllables);
        free(fast), free(ref);
    }
}

static void test_tables_match_utf8proc_on_corpus(void **state)
{
    glob_t g;
    size_t i, lines = 0;

    (void)state;
    assert_int_equal(glob("training/corpus/*.jsonl", 0, NULL, &g), 0);
    for (i = 0; i < g.gl_pathc; i++) {
        size_t len;
        char *data = tu_read_file(g.gl_pathv[i], &len), *p = data, *nl;
        assert_non_null(data);
        while ((nl = strchr(p, '\n')) != NULL) {
            assert_paths_agree(p, (size_t)(nl - p));
            lines++;
            p = nl + 1;
        }
        free(data);
    }
    globfree(&g);
    assert_true(lines > 3000);
}

static void test_tables_match_utf8proc_on_random_text(void **state)
{
    static const int32_t RANGES[][2] = {
        {0x20, 0x7E}, {0x00, 0x1F}, {0xA0, 0x24F}, {0x300, 0x36F}, {0x1E00, 0x1EFF},
        {0x370, 0x52F}, {0x1F00, 0x1FFF}, {0x2000, 0x206F}, {0x3000, 0x30FF},
        {0x4E00, 0x4EFF}, {0xFB00, 0xFB4F}, {0xFF00, 0xFFEF}, {0x1F300, 0x1F6FF},
    };
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    char buf[1024];
    int round;

    (void)state;
    for (round = 0; round < 50000; round++) {
        size_t n = 0;
        int k, len = 1 + (int)(rng % 60);
        for (k = 0; k < len && n + 8 < sizeof buf; k++) {
            const int32_t *r;
            int32_t cp;
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            r = RANGES[(rng >> 33) % (sizeof RANGES / sizeof RANGES[0])];
            cp = r[0] + (int32_t)((rng >> 13) % (uint64_t)(r[1] - r[0] + 1));
            if ((rng >> 60) == 0)
                buf[n++] = (char)(0x80 | (rng >> 40));      /* a stray byte */
            else if (utf8proc_codepoint_valid(cp))
                n += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)buf + n);
        }
        assert_paths_agree(buf, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nfd_equals_nfc),
        cmocka_unit_test(test_upper_equals_lower),
        cmocka_unit_test(test_old_and_new_tone_placement),
        cmocka_unit_test(test_i_and_y_spellings_meet),
        cmocka_unit_test(test_marks_in_any_order),
        cmocka_unit_test(test_html_removed),
        cmocka_unit_test(test_invalid_utf8_counted),
        cmocka_unit_test(test_strip_accents),
        cmocka_unit_test(test_numbers_and_punctuation),
        cmocka_unit_test(test_nul_bytes_and_long_tokens),
        cmocka_unit_test(test_tables_match_utf8proc_on_corpus),
        cmocka_unit_test(test_tables_match_utf8proc_on_random_text),
    };
    return cmocka_run_group_tests_name("normalize", tests, NULL, NULL);
}
