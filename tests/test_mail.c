/*
 * test_mail.c - `newstag mail` as an MDA filter: the message comes back
 * byte for byte but for our header fields, forged X-Newstag-* fields are
 * gone, MIME / base64 / quoted-printable / windows-1258 text is read,
 * hostile messages pass through, and a real procmail files messages by topic.
 */
#include <iconv.h>

#include "testutil.h"

static char cli[512], model[512];
static char *tmp;

static int setup(void **state)
{
    (void)state;
    snprintf(cli, sizeof cli, "%s/newstag", tu_build_dir());
    snprintf(model, sizeof model, "%s", tu_model());
    tmp = tu_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return tu_tmp_teardown(&tmp);
}

typedef struct result {
    char *out;
    size_t len;
    int rc;
} result;

static result run_mail(const char *msg, size_t len, const char *args)
{
    char in[600], cmd[1200];
    result r;

    snprintf(in, sizeof in, "%s/msg", tmp);
    tu_write_file(in, msg, len);
    snprintf(cmd, sizeof cmd, "%s mail -m %s %s", cli, model, args ? args : "");
    r.rc = tu_run(cmd, in, &r.out, &r.len, NULL);
    assert_non_null(r.out);
    return r;
}

/* Remove header lines starting with X-Newstag- (and their folded lines)
 * from the header block, leaving every other byte as it was. */
static char *without_newstag_fields(const char *s, size_t len, size_t *out_len)
{
    char *out = malloc(len + 1);
    size_t p = 0, k = 0;
    int in_header = 1, dropping = 0;

    assert_non_null(out);
    while (p < len) {
        const char *nl = memchr(s + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - s) + 1 : len;
        if (in_header && (e - p <= 2 && (s[p] == '\n' || s[p] == '\r')))
            in_header = 0;
        if (in_header) {
            if (s[p] == ' ' || s[p] == '\t') {
                if (dropping) { p = e; continue; }
            } else {
                dropping = e - p >= 10 && strncasecmp(s + p, "X-Newstag-", 10) == 0;
                if (dropping) { p = e; continue; }
            }
        }
        memcpy(out + k, s + p, e - p);
        k += e - p;
        p = e;
    }
    out[k] = '\0';
    *out_len = k;
    return out;
}

/* The output must equal the input except for X-Newstag-* header fields,
 * and carry exactly one fresh Topics and Scores field. Returns the value
 * of X-Newstag-Topics (caller frees). */
static char *check_passthrough(const char *in, size_t in_len, const result *r)
{
    size_t a_len, b_len;
    char *a = without_newstag_fields(in, in_len, &a_len);
    char *b = without_newstag_fields(r->out, r->len, &b_len);
    char *t, *end, *topics;

    if (a_len != b_len || memcmp(a, b, a_len) != 0)
        fail_msg("message changed beyond the X-Newstag fields (%zu vs %zu bytes)", a_len, b_len);
    free(a), free(b);
    t = strstr(r->out, "X-Newstag-Topics:");
    assert_non_null(t);
    /* only one in the header block (the body may quote such a line) */
    {
        const char *blank = strstr(r->out, "\n\n"), *crlf = strstr(r->out, "\r\n\r\n");
        const char *second = strstr(t + 1, "X-Newstag-Topics:");
        if (crlf && (!blank || crlf < blank))
            blank = crlf;
        assert_true(!second || (blank && second > blank));
    }
    assert_non_null(strstr(r->out, "X-Newstag-Scores: party_building="));
    t += strlen("X-Newstag-Topics:");
    end = strpbrk(t, "\r\n");
    assert_non_null(end);
    topics = strndup(t, (size_t)(end - t));
    return topics;
}

static void test_crlf_and_forged_fields(void **state)
{
    static const char MSG[] =
        "From: ban-bien-tap@example.vn\r\n"
        "X-Newstag-Topics: party_building, urban_order\r\n"
        "Subject: =?UTF-8?B?VGh1IG5nw6JuIHPDoWNoIG5ow6Agbsaw4bubYyB2xrDhu6N0IGThu7EgdG/DoW4=?=\r\n"
        "x-newstag-scores: budget=0.00;\r\n"
        "\tversion=forged\r\n"
        "X-Newstag-Error: none\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "T=E1=BB=95ng thu ng=C3=A2n s=C3=A1ch nh=C3=A0 n=C6=B0=E1=BB=9Bc v=C6=B0=E1=BB=A3t =\r\n"
        "d=E1=BB=B1 to=C3=A1n, gi=E1=BA=A3i ng=C3=A2n v=E1=BB=91n =C4=91=E1=BA=A7u t=C6=B0 c=C3=B4ng.\r\n"
        "X-Newstag-Topics: this line is body text and stays\r\n";
    result r = run_mail(MSG, sizeof MSG - 1, NULL);
    char *topics, *p;

    (void)state;
    assert_int_equal(r.rc, 0);
    topics = check_passthrough(MSG, sizeof MSG - 1, &r);
    assert_string_equal(topics, " budget");
    assert_null(strstr(r.out, "forged"));
    assert_null(strstr(r.out, "party_building, urban_order"));
    assert_non_null(strstr(r.out, "X-Newstag-Topics: this line is body text and stays\r\n"));
    for (p = r.out; (p = strchr(p, '\n')) != NULL; p++)
        assert_true(p > r.out && p[-1] == '\r');      /* CRLF stays CRLF */
    free(topics), free(r.out);
}

static void test_multipart_html_base64_attachment(void **state)
{
    /* base64 of "Hội đồng bầu cử quốc gia công bố kết quả bầu cử đại biểu Quốc hội" */
    static const char MSG[] =
        "From: tin@example.vn\n"
        "Subject: Ban tin sang\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"outer\"\n"
        "\n"
        "preamble\n"
        "--outer\n"
        "Content-Type: multipart/alternative; boundary=inner\n"
        "\n"
        "--inner\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "SOG7mWkgxJHhu5NuZyBi4bqndSBj4butIHF14buRYyBnaWEgY8O0bmcgYuG7kSBr4bq/dCBxdeG6\n"
        "oyBi4bqndSBj4butIMSR4bqhaSBiaeG7g3UgUXXhu5FjIGjhu5lp\n"
        "--inner\n"
        "Content-Type: text/html; charset=utf-8\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "<html><body><p>C=E1=BB=AD tri =C4=91i b=E1=BA=A7u c=E1=BB=AD &amp; ki=E1=BB=83m phi=E1=BA=BFu</p></body></html>\n"
        "--inner--\n"
        "--outer\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Disposition: attachment; filename=\"bao-cao.txt\"\n"
        "\n"
        "Lan chiem via he, xay dung trai phep, cuong che thao do cong trinh vi pham trat tu do thi\n"
        "--outer--\n"
        "epilogue\n";
    result r = run_mail(MSG, sizeof MSG - 1, NULL);
    char *topics;

    (void)state;
    assert_int_equal(r.rc, 0);
    topics = check_passthrough(MSG, sizeof MSG - 1, &r);
    assert_string_equal(topics, " elections");     /* attachment not read */
    free(topics), free(r.out);
}

/* A windows-1258 body made with iconv (it writes combining tone marks). */
static void test_windows_1258(void **state)
{
    const char *utf8 = "Ủy ban nhân dân phường ra quân lập lại trật tự đô thị, xử lý "
                       "lấn chiếm vỉa hè và cưỡng chế công trình xây dựng trái phép.";
    char body[1024], msg[2048], *in = (char *)utf8, *o = body;
    size_t inleft = strlen(utf8), outleft = sizeof body, n;
    iconv_t cd = iconv_open("WINDOWS-1258", "UTF-8");
    result r;
    char *topics;

    (void)state;
    assert_true(cd != (iconv_t)-1);
    assert_int_not_equal(iconv(cd, &in, &inleft, &o, &outleft), (size_t)-1);
    iconv_close(cd);
    n = (size_t)snprintf(msg, sizeof msg,
                         "From: a@example.vn\nSubject: Tin phuong\n"
                         "Content-Type: text/plain; charset=windows-1258\n"
                         "Content-Transfer-Encoding: 8bit\n\n%.*s\n",
                         (int)(o - body), body);
    assert_non_null(memchr(body, 0xEC, (size_t)(o - body)) ?: memchr(body, 0xF2, (size_t)(o - body)));
    r = run_mail(msg, n, NULL);
    assert_int_equal(r.rc, 0);
    topics = check_passthrough(msg, n, &r);
    assert_string_equal(topics, " urban_order");
    free(topics), free(r.out);
}

static void test_header_only_empty_and_exit_codes(void **state)
{
    static const char HDR[] = "From: a@example.vn\nSubject: Ngay bau cu dai bieu Quoc hoi va HDND";
    result r;
    char *topics;

    (void)state;
    r = run_mail(HDR, sizeof HDR - 1, NULL);
    assert_int_equal(r.rc, 0);
    assert_memory_equal(r.out, HDR, sizeof HDR - 1);   /* kept, then a newline added */
    topics = strstr(r.out, "X-Newstag-Topics: elections\n");
    assert_non_null(topics);
    free(r.out);
    r = run_mail("", 0, NULL);
    assert_int_equal(r.rc, 0);
    assert_memory_equal(r.out, "X-Newstag-Topics:\nX-Newstag-Scores: ", 36);
    free(r.out);
    /* -T: exit 1 when no topic, like bogofilter's ham */
    r = run_mail("Subject: bong da\n\nTran dau hap dan\n", 34, "-T");
    assert_int_equal(r.rc, 1);
    free(r.out);
    /* a broken model: fail open, unchanged message plus an error field */
    snprintf(model, sizeof model, "/nonexistent-model");
    r = run_mail(HDR, sizeof HDR - 1, NULL);
    snprintf(model, sizeof model, "%s", tu_model());
    assert_int_equal(r.rc, 3);
    assert_non_null(strstr(r.out, "X-Newstag-Error: "));
    assert_memory_equal(r.out, HDR, sizeof HDR - 1);
    free(r.out);
}

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
        assert_non_null(*buf);
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

#define APPEND(s) append(&buf, &len, &cap, (s), strlen(s))

static void test_large_attachment(void **state)
{
    char *buf = NULL, line[80], *topics;
    size_t len = 0, cap = 0, i;
    result r;

    (void)state;
    APPEND("From: ktnn@example.vn\nSubject: Ket luan kiem toan ngan sach\n"
           "Content-Type: multipart/mixed; boundary=b1\n\n--b1\n"
           "Content-Type: text/plain; charset=utf-8\n\n"
           "Kiểm toán Nhà nước kiến nghị thu hồi nộp ngân sách nhà nước hơn 2.000 tỷ đồng, "
           "chấn chỉnh quyết toán chi ngân sách và giải ngân vốn đầu tư công.\n"
           "--b1\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
           "Content-Disposition: attachment; filename=bc.pdf\n\n");
    for (i = 0; i < 6 * 1024 * 1024 / 77; i++) {    /* ~6 MB of base64 lines */
        snprintf(line, sizeof line, "%076zx\n", i * 2654435761u);
        APPEND(line);
    }
    APPEND("--b1--\n");
    r = run_mail(buf, len, NULL);
    assert_int_equal(r.rc, 0);
    topics = check_passthrough(buf, len, &r);
    assert_string_equal(topics, " budget");
    free(topics), free(r.out), free(buf);
}

/* The message comes back whole (plus our fields) and the filter exits 0. */
static void assert_passes_through(const char *msg, size_t len)
{
    result r = run_mail(msg, len, NULL);

    assert_int_equal(r.rc, 0);
    free(check_passthrough(msg, len, &r));
    assert_null(strstr(r.out, "forged"));
    free(r.out);
}

static void test_hostile_messages_pass_through(void **state)
{
    char *buf = NULL, part[200];
    size_t len = 0, cap = 0, i;

    (void)state;
    /* no header/body separator, with a forged field */
    APPEND("Subject: hello\nX-Newstag-Topics: forged\nthis is not a header line\nmore\n");
    assert_passes_through(buf, len);
    /* pure binary */
    for (len = 0, i = 0; i < 5000; i++) {
        char c = (char)(i * 131 + 7);
        append(&buf, &len, &cap, &c, 1);
    }
    assert_passes_through(buf, len);
    /* a 2 MB header line */
    len = 0;
    APPEND("Subject: ");
    for (i = 0; i < 2 * 1024 * 1024 / 8; i++)
        APPEND("bau cu ");
    APPEND("\n\nbody\n");
    assert_passes_through(buf, len);
    /* 5,000 MIME parts */
    len = 0;
    APPEND("Subject: parts\nContent-Type: multipart/mixed; boundary=x\n\n");
    for (i = 0; i < 5000; i++) {
        snprintf(part, sizeof part, "--x\nContent-Type: text/plain\n\npart %zu ngan sach\n", i);
        APPEND(part);
    }
    APPEND("--x--\n");
    assert_passes_through(buf, len);
    /* 2,000 nested multiparts */
    len = 0;
    APPEND("Subject: nested\n");
    for (i = 0; i < 2000; i++) {
        snprintf(part, sizeof part, "Content-Type: multipart/mixed; boundary=n%zu\n\n--n%zu\n", i, i);
        APPEND(part);
    }
    APPEND("Content-Type: text/plain\n\ndeep\n");
    assert_passes_through(buf, len);
    /* truncated base64 and QP, unknown charset */
    len = 0;
    APPEND("Subject: =?x-unknown-charset?Q?bad=ZZ?= =?UTF-8?B?4bq=\n"
           "Content-Type: multipart/mixed; boundary=t\n\n--t\n"
           "Content-Type: text/plain; charset=x-no-such-charset\n"
           "Content-Transfer-Encoding: base64\n\nSOG7mWkgxJHhu5Nu\n--t\n"
           "Content-Type: text/plain; charset=iso-8859-1\n"
           "Content-Transfer-Encoding: quoted-printable\n\nabc=\n=4");
    assert_passes_through(buf, len);
    free(buf);
}

/* A real MDA: procmail runs `newstag mail` as a filter, then files by topic. */
static void test_procmail_files_by_topic(void **state)
{
    static const char *const MSGS[][2] = {
        {"budget", "From nguoi-gui@example.vn  Sat Nov 28 10:00:00 2026\n"
                   "From: nguoi-gui@example.vn\nSubject: Thu ngan sach vuot du toan\n\n"
                   "Tong thu ngan sach nha nuoc 10 thang vuot du toan, giai ngan von dau tu cong.\n"},
        {"elections", "From nguoi-gui@example.vn  Sat Nov 28 10:01:00 2026\n"
                      "From: nguoi-gui@example.vn\n"
                      "Subject: =?UTF-8?Q?H=E1=BB=99i_=C4=91=E1=BB=93ng_b=E1=BA=A7u_c=E1=BB=AD?=\n"
                      "X-Newstag-Topics: budget\n\n"
                      "Cu tri ca nuoc di bau cu dai bieu Quoc hoi va HDND cac cap.\n"},
        {"inbox", "From nguoi-gui@example.vn  Sat Nov 28 10:02:00 2026\n"
                  "From: nguoi-gui@example.vn\nSubject: Ket qua bong da\n\n"
                  "Doi tuyen thang 3-0 trong tran giao huu.\n"},
    };
    char rc_path[600], rc_text[4096], cmd[1400], folder[700], *mbox;
    char *abs_cli = realpath(cli, NULL), *abs_model = realpath(model, NULL);
    size_t i;

    (void)state;
    assert_non_null(abs_cli);            /* procmail runs in MAILDIR */
    assert_non_null(abs_model);
    snprintf(rc_path, sizeof rc_path, "%s/procmailrc", tmp);
    snprintf(rc_text, sizeof rc_text,
             "SHELL=/bin/sh\nMAILDIR=%s/Mail\nLOGFILE=%s/procmail.log\n"
             ":0fw\n| %s mail -m %s\n"
             ":0:\n* ^X-Newstag-Topics:.*budget\nbudget\n"
             ":0:\n* ^X-Newstag-Topics:.*elections\nelections\n"
             ":0:\ninbox\n", tmp, tmp, abs_cli, abs_model);
    free(abs_cli), free(abs_model);
    tu_write_file(rc_path, rc_text, strlen(rc_text));
    snprintf(cmd, sizeof cmd, "mkdir -p %s/Mail", tmp);
    assert_int_equal(system(cmd), 0);
    for (i = 0; i < 3; i++) {
        char in[700];
        snprintf(in, sizeof in, "%s/pm%zu", tmp, i);
        tu_write_file(in, MSGS[i][1], strlen(MSGS[i][1]));
        snprintf(cmd, sizeof cmd, "procmail -m %s", rc_path);
        assert_int_equal(tu_run(cmd, in, NULL, NULL, NULL), 0);
    }
    for (i = 0; i < 3; i++) {
        snprintf(folder, sizeof folder, "%s/Mail/%s", tmp, MSGS[i][0]);
        mbox = tu_read_file(folder, NULL);
        if (!mbox)
            fail_msg("procmail did not deliver to %s", folder);
        if (!strstr(mbox, strstr(MSGS[i][1], "\n\n") + 2))   /* the body */
            fail_msg("%s does not hold its message:\n%s", folder, mbox);
        assert_non_null(strstr(mbox, "X-Newstag-Scores: "));
        free(mbox);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crlf_and_forged_fields),
        cmocka_unit_test(test_multipart_html_base64_attachment),
        cmocka_unit_test(test_windows_1258),
        cmocka_unit_test(test_header_only_empty_and_exit_codes),
        cmocka_unit_test(test_large_attachment),
        cmocka_unit_test(test_hostile_messages_pass_through),
        cmocka_unit_test(test_procmail_files_by_topic),
    };
    return cmocka_run_group_tests_name("mail", tests, setup, teardown);
}
