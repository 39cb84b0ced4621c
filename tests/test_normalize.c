/*
 * test_normalize.c - the text normalizer: every spelling of a Vietnamese
 * word must come out the same, HTML must go, bad bytes must not hurt.
 */
#include "testutil.h"

#include "newstag.h"

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
    assert_norm("Năm 2026, thu 1.500 tỷ; chi 3,5%.", "năm 0 | thu 0 tỷ | chi 0");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nfd_equals_nfc),
        cmocka_unit_test(test_upper_equals_lower),
        cmocka_unit_test(test_old_and_new_tone_placement),
        cmocka_unit_test(test_marks_in_any_order),
        cmocka_unit_test(test_html_removed),
        cmocka_unit_test(test_invalid_utf8_counted),
        cmocka_unit_test(test_strip_accents),
        cmocka_unit_test(test_numbers_and_punctuation),
        cmocka_unit_test(test_nul_bytes_and_long_tokens),
    };
    return cmocka_run_group_tests_name("normalize", tests, NULL, NULL);
}
