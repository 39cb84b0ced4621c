/*
 * test_cli.c - the `newstag` command as users run it: the classify
 * line-for-line contract on good and bad input, filtering, options, exit
 * codes, and the train / eval / info round trip.
 */
#include <jansson.h>
#include <poll.h>

#include "testutil.h"

static char cli[512];
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

static char *input_file(const char *name, const char *data, size_t len)
{
    char *p = malloc(strlen(tmp) + strlen(name) + 2);

    assert_non_null(p);
    sprintf(p, "%s/%s", tmp, name);
    tu_write_file(p, data, len);
    return p;
}

static void assert_prefix(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix)) != 0)
        fail_msg("\"%s\"\ndoes not start with\n\"%s\"", s, prefix);
}

/* Split output into lines (modifies buf). Returns the count. */
static size_t split_lines(char *buf, char **lines, size_t max)
{
    size_t n = 0;
    char *p = buf, *nl;

    while (*p && n < max && (nl = strchr(p, '\n'))) {
        *nl = '\0';
        lines[n++] = p;
        p = nl + 1;
    }
    assert_string_equal(p, "");          /* every line ends with a newline */
    return n;
}

static const char BAD_INPUT[] =
    "{\"id\":\"a\",\"title\":\"Thu ngân sách nhà nước vượt dự toán\",\"n\":1.50}\n"
    "{not json\n"
    "[1,2,3]\n"
    "42\n"
    "\"a string\"\n"
    "null\n"
    "{\"id\":\"b\",\"title\":\"Ng\xff\xfe bad bytes\"}\n"
    "\n"
    "{\"id\":\"c\",\"other\":\"no text fields here\"}\n"
    "{\"id\":\"d\",\"title\":{\"nested\":true},\"text\":[1]}\n"
    "{}\n"
    "{\"id\":\"e\",\"title\":\"Cử tri đi bầu cử đại biểu Quốc hội\"}\r\n"
    "{\"id\":\"f\" , \"z\":null, \"a\":[] ,\"title\":\"Bóng đá\"}   \n"
    "{\"t\":\"x\\\xe1\xba\xa1\"}\n"   /* fuzzer: error text quoting half a character */
    "{\"title\":\"C\\u1eed tri \\u0000 \\u0111i b\\u1ea7u c\\u1eed\"}\n"  /* valid, with \u0000 */
    "{\"id\":\"last\",\"title\":\"no newline at the end\"}";

static void test_classify_line_contract(void **state)
{
    char *in = input_file("bad.jsonl", BAD_INPUT, sizeof BAD_INPUT - 1);
    char *out, *err, cmd[1024], *lines[64];
    size_t n, i;
    int rc;
    static const int IS_ERROR[] = {0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0};

    (void)state;
    snprintf(cmd, sizeof cmd, "%s classify -m %s", cli, tu_model());
    rc = tu_run(cmd, in, &out, NULL, &err);
    assert_int_equal(rc, 0);
    assert_string_equal(err, "");        /* nothing on stderr per item */
    n = split_lines(out, lines, 64);
    assert_int_equal(n, 16);             /* one output line per input line */
    for (i = 0; i < n; i++) {
        json_error_t jerr;
        json_t *o = json_loads(lines[i], JSON_ALLOW_NUL, &jerr);
        if (!o)
            fail_msg("output line %zu is not JSON: %s", i + 1, lines[i]);
        assert_true(json_is_object(o));
        if (IS_ERROR[i]) {
            assert_non_null(json_string_value(json_object_get(o, "error")));
            assert_int_equal(json_integer_value(json_object_get(o, "line")), i + 1);
            assert_true(json_is_string(json_object_get(o, "input")));
        } else {
            json_t *t = json_object_get(o, "topics");
            json_t *scores = json_object_get(t, "scores");
            assert_true(json_is_array(json_object_get(t, "labels")));
            assert_int_equal(json_object_size(scores), 4);
            assert_true(json_is_number(json_object_get(scores, "party_building")));
            assert_true(json_is_number(json_object_get(scores, "urban_order")));
        }
        json_decref(o);
    }
    /* the original bytes are kept, the key is appended */
    assert_prefix(lines[0], "{\"id\":\"a\",\"title\":\"Thu ngân sách nhà nước vượt dự toán\","
                            "\"n\":1.50,\"topics\":{\"labels\":[\"budget\"]");
    assert_string_equal(strstr(lines[1], "\"input\""), "\"input\":\"{not json\"}");
    assert_non_null(strstr(lines[6], "\"input\":\"{\\\"id\\\":\\\"b\\\",\\\"title\\\":\\\"Ng\xef\xbf\xbd\xef\xbf\xbd bad"));
    assert_non_null(strstr(lines[7], "empty line"));
    assert_non_null(strstr(lines[8], "\"labels\":[]"));     /* no text */
    assert_non_null(strstr(lines[9], "\"labels\":[]"));     /* title not a string */
    assert_prefix(lines[10], "{\"topics\":");             /* {} gets the key */
    assert_non_null(strstr(lines[11], "\"labels\":[\"elections\"]"));
    assert_prefix(lines[12], "{\"id\":\"f\" , \"z\":null, \"a\":[] ,\"title\":\"Bóng đá\",\"topics\":");
    assert_prefix(lines[13], "{\"error\":\"invalid JSON");   /* fuzzer-found */
    assert_non_null(strstr(lines[14], "\"labels\":[\"elections\"]"));  /* text after \u0000 read */
    assert_prefix(lines[15], "{\"id\":\"last\"");
    free(out), free(err), free(in);
}

static void test_keep_drop_threshold_key(void **state)
{
    static const char IN[] =
        "{\"title\":\"Thu ngân sách nhà nước vượt dự toán, giải ngân vốn đầu tư công\"}\n"
        "{\"title\":\"Đội tuyển bóng đá thắng đậm\"}\n"
        "broken\n"
        "{\"title\":\"Cưỡng chế tháo dỡ công trình xây dựng trái phép, lấn chiếm vỉa hè\"}\n";
    char *in = input_file("mix.jsonl", IN, sizeof IN - 1);
    char *out, cmd[1024], *lines[16];

    (void)state;
    snprintf(cmd, sizeof cmd, "%s classify -m %s --keep budget", cli, tu_model());
    assert_int_equal(tu_run(cmd, in, &out, NULL, NULL), 0);
    assert_int_equal(split_lines(out, lines, 16), 2);   /* budget item + error */
    assert_non_null(strstr(lines[0], "ngân sách"));
    assert_non_null(strstr(lines[1], "\"error\""));
    free(out);
    snprintf(cmd, sizeof cmd, "%s classify -m %s --drop budget,urban_order", cli, tu_model());
    assert_int_equal(tu_run(cmd, in, &out, NULL, NULL), 0);
    assert_int_equal(split_lines(out, lines, 16), 2);
    assert_non_null(strstr(lines[0], "bóng đá"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s classify -m %s --threshold 0 --key tags", cli, tu_model());
    assert_int_equal(tu_run(cmd, in, &out, NULL, NULL), 0);
    assert_int_equal(split_lines(out, lines, 16), 4);
    assert_non_null(strstr(lines[1], ",\"tags\":{\"labels\":[\"party_building\","
                                     "\"budget\",\"elections\",\"urban_order\"]"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s classify -m %s --keep nosuchlabel", cli, tu_model());
    assert_int_equal(tu_run(cmd, in, NULL, NULL, NULL), 64);
    free(in);
}

/* Files saved by Windows tools start with a UTF-8 byte order mark. */
static void test_byte_order_mark(void **state)
{
    static const char IN[] = "\xef\xbb\xbf{\"title\":\"Cử tri đi bầu cử đại biểu Quốc hội\"}\n";
    char *in = input_file("bom.jsonl", IN, sizeof IN - 1), *out, cmd[1024];

    (void)state;
    snprintf(cmd, sizeof cmd, "%s classify -m %s", cli, tu_model());
    assert_int_equal(tu_run(cmd, in, &out, NULL, NULL), 0);
    assert_prefix(out, "{\"title\":\"Cử tri đi bầu cử đại biểu Quốc hội\",\"topics\":{\"labels\":[\"elections\"]");
    free(out);
    snprintf(cmd, sizeof cmd, "%s eval -m %s --json %s", cli, tu_model(), in);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, NULL), 65);   /* read, but no "labels" */
    free(in);
}

static void test_existing_key_and_tabs(void **state)
{
    static const char IN[] =
        "{\"title\":\"Bầu cử\",\"topics\":\"old value\"}\n"
        "{\"title\":\t\"Bầu cử Quốc hội\"}\n";
    char *in = input_file("tabs.jsonl", IN, sizeof IN - 1);
    char *out, cmd[1024], *lines[4];

    (void)state;
    snprintf(cmd, sizeof cmd, "%s classify -m %s", cli, tu_model());
    assert_int_equal(tu_run(cmd, in, &out, NULL, NULL), 0);
    assert_int_equal(split_lines(out, lines, 4), 2);
    assert_null(strstr(lines[0], "old value"));         /* replaced, not duplicated */
    assert_null(strchr(lines[1], '\t'));                /* safe for Hadoop Streaming */
    free(out), free(in);
}

static void test_rsyslog_format(void **state)
{
    static const char IN[] = "{\"msg\":\"Ngày bầu cử đại biểu Quốc hội và HĐND\"}\n";
    char *in = input_file("rs.jsonl", IN, sizeof IN - 1);
    char *out, cmd[1024];

    (void)state;
    snprintf(cmd, sizeof cmd, "%s classify -m %s --format rsyslog", cli, tu_model());
    assert_int_equal(tu_run(cmd, in, &out, NULL, NULL), 0);
    assert_prefix(out, "{\"$!\":{\"topics\":{\"labels\":[\"elections\"]");
    free(out), free(in);
}

static void test_usage_and_model_errors(void **state)
{
    char cmd[1024], *err, *out;

    (void)state;
    snprintf(cmd, sizeof cmd, "%s classify -m /nonexistent", cli);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, &err), 78);
    assert_non_null(strstr(err, "/nonexistent"));
    free(err);
    snprintf(cmd, sizeof cmd, "%s frobnicate", cli);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, NULL), 64);
    snprintf(cmd, sizeof cmd, "%s --version", cli);
    assert_int_equal(tu_run(cmd, NULL, &out, NULL, NULL), 0);
    assert_memory_equal(out, "newstag ", 8);
    free(out);
    snprintf(cmd, sizeof cmd, "%s classify --help", cli);
    assert_int_equal(tu_run(cmd, NULL, &out, NULL, NULL), 0);
    assert_non_null(strstr(out, "--keep"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s train -o %s/x /nonexistent.jsonl", cli, tmp);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, &err), 66);
    assert_non_null(strstr(err, "/nonexistent.jsonl"));
    free(err);
    /* fractions out of range are usage errors, before any data is read */
    snprintf(cmd, sizeof cmd, "%s train --decay 1 -o %s/x tests/data/small.jsonl", cli, tmp);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, &err), 64);
    assert_non_null(strstr(err, "--decay takes a number in [0, 1)"));
    free(err);
    snprintf(cmd, sizeof cmd, "%s train --margin -0.1 -o %s/x tests/data/small.jsonl", cli,
             tmp);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, &err), 64);
    assert_non_null(strstr(err, "--margin takes a number in [0, 0.5)"));
    free(err);
}

static void test_train_eval_info_round_trip(void **state)
{
    char cmd[2048], *out, *err;
    json_t *o;

    (void)state;
    snprintf(cmd, sizeof cmd,
             "%s train -o %s/rt --epochs 30 --hidden 8 --features 600 tests/data/small.jsonl",
             cli, tmp);
    assert_int_equal(tu_run(cmd, NULL, &out, NULL, &err), 0);
    assert_string_equal(out, "");        /* quiet when stderr is not a terminal */
    assert_string_equal(err, "");
    free(out), free(err);
    snprintf(cmd, sizeof cmd, "%s eval -m %s/rt --json tests/data/small.jsonl", cli, tmp);
    assert_int_equal(tu_run(cmd, NULL, &out, NULL, NULL), 0);
    o = json_loads(out, 0, NULL);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "items")), 320);
    assert_true(json_number_value(json_object_get(o, "micro_f1")) > 0.9);
    assert_non_null(json_object_get(json_object_get(json_object_get(o, "labels"),
                                                    "budget"), "tp"));
    json_decref(o);
    free(out);
    snprintf(cmd, sizeof cmd, "%s info -m %s/rt", cli, tmp);
    assert_int_equal(tu_run(cmd, NULL, &out, NULL, NULL), 0);
    assert_non_null(strstr(out, "corpus_sha256"));
    assert_non_null(strstr(out, "thresholds"));
    free(out);
    /* fastText-format training data works too */
    snprintf(cmd, sizeof cmd,
             "printf '__label__budget thu ngân sách\\n__label__budget chi ngân sách nhà nước\\n"
             "__label__budget dự toán ngân sách\\nbóng đá việt nam\\nbóng đá thái lan\\n"
             "__label__budget ngân sách tỉnh\\nca sĩ hát hay\\n' > %s/ft.txt && "
             "%s train -o %s/ft --epochs 3 --hidden 2 --min-df 1 %s/ft.txt && "
             "%s info -m %s/ft --json", tmp, cli, tmp, tmp, cli, tmp);
    assert_int_equal(tu_run(cmd, NULL, &out, NULL, NULL), 0);
    assert_non_null(strstr(out, "\"labels\":[\"budget\"]"));
    free(out);
}

/* A long-running subprocess stage (Benthos/Redpanda Connect `subprocess`,
 * Logstash pipe): each line is answered before the next is written. */
static void test_lockstep_subprocess(void **state)
{
    int in[2], out[2], i, status;
    pid_t pid;
    char buf[8192];

    (void)state;
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0), dup2(out[1], 1);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        execl(cli, cli, "classify", "-m", tu_model(), (char *)NULL);
        _exit(127);
    }
    close(in[0]), close(out[1]);
    for (i = 0; i < 5; i++) {
        char line[128];
        struct pollfd p = {out[0], POLLIN, 0};
        size_t got = 0;
        int n = snprintf(line, sizeof line, "{\"id\":%d,\"title\":\"Bầu cử Quốc hội\"}\n", i);
        assert_int_equal(write(in[1], line, (size_t)n), n);
        /* the answer must arrive while the stage still waits for input */
        while (got == 0 || buf[got - 1] != '\n') {
            ssize_t r;
            assert_int_equal(poll(&p, 1, 10000), 1);
            r = read(out[0], buf + got, sizeof buf - 1 - got);
            assert_true(r > 0);
            got += (size_t)r;
        }
        buf[got] = '\0';
        snprintf(line, sizeof line, "{\"id\":%d,", i);
        assert_prefix(buf, line);
        assert_non_null(strstr(buf, "\"labels\":[\"elections\"]"));
    }
    close(in[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(out[0]);
}

/* A real rsyslogd with mmexternal, the way rsyslog users would wire it. */
static void test_rsyslog_mmexternal(void **state)
{
    char cmd[1024], *out;

    (void)state;
    snprintf(cmd, sizeof cmd, "tests/rsyslog-mmexternal.sh %s %s", cli, tu_model());
    if (tu_run(cmd, NULL, &out, NULL, NULL) != 0)
        fail_msg("rsyslogd did not deliver the tagged lines:\n%s", out);
    assert_non_null(strstr(out, "giải ngân vốn đầu tư công => [ \"budget\" ]\n"));
    assert_non_null(strstr(out, "HĐND => [ \"elections\" ]\n"));
    assert_non_null(strstr(out, "thắng đậm => [ ]\n"));
    free(out);
}

/* GNU parallel --pipe -k across processes gives the bytes one process gives. */
static void test_parallel_pipe_is_byte_identical(void **state)
{
    char cmd[2048], *one, *many;
    size_t one_len, many_len;

    (void)state;
    snprintf(cmd, sizeof cmd,
             "for i in 1 2 3 4 5 6; do cat tests/data/small.jsonl; done > %s/six.jsonl", tmp);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s classify -m %s < %s/six.jsonl", cli, tu_model(), tmp);
    assert_int_equal(tu_run(cmd, NULL, &one, &one_len, NULL), 0);
    snprintf(cmd, sizeof cmd, "parallel --pipe -k --block 20k -j 4 %s classify -m %s < %s/six.jsonl",
             cli, tu_model(), tmp);
    assert_int_equal(tu_run(cmd, NULL, &many, &many_len, NULL), 0);
    assert_true(one_len > 100000);
    assert_int_equal(one_len, many_len);
    assert_memory_equal(one, many, one_len);
    free(one), free(many);
}

/* Hostile lines: every one answered, the good ones after them classified. */
static void test_hostile_stream(void **state)
{
    char path[600], cmd[1200], *out;
    size_t out_len = 0, i, lines = 0, want = 0;
    FILE *f;
    uint64_t rng = 42;

    (void)state;
    snprintf(path, sizeof path, "%s/hostile.jsonl", tmp);
    assert_non_null(f = fopen(path, "wb"));
#define GOOD() (fputs("{\"title\":\"Cử tri đi bầu cử đại biểu Quốc hội\"}\n", f), want++)
    GOOD();
    fputs("{\"title\":\"", f);                     /* one 30 MB line */
    for (i = 0; i < 3000000; i++)
        fputs("ngân sách ", f);
    fputs("\"}\n", f), want++;
    GOOD();
    for (i = 0; i < 200000; i++) fputc('[', f);      /* 200,000 deep */
    for (i = 0; i < 200000; i++) fputc(']', f);
    fputc('\n', f), want++;
    for (i = 0; i < 200000; i++) fputs("{\"a\":", f);
    fputc('1', f);
    for (i = 0; i < 200000; i++) fputc('}', f);
    fputc('\n', f), want++;
    GOOD();
    {
        static const char NULS[] = "\0\0{\"title\":\"a\0b\"}\0\n";     /* raw NUL bytes */
        fwrite(NULS, 1, sizeof NULS - 1, f), want++;
    }
    fputs("{\"title\":\"dup\",\"title\":\"Bầu cử\"}\nnull\ntrue\n-3.5e7\n\"str\"\n[1,2]\n"
          "{\"title\":{\"a\":1}}\n{\"title\":[\"x\"]}\n", f), want += 8;
    for (i = 0; i < 50; i++) {                        /* random binary lines */
        size_t k, n = 1 + (size_t)(rng % 300);
        for (k = 0; k < n; k++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            char c = (char)(rng >> 56);
            fputc(c == '\n' ? ' ' : c, f);
        }
        fputc('\n', f), want++;
    }
    for (i = 0; i < 200000; i++)                      /* 200,000 small lines */
        fputs("{\"t\":1}\n", f), want++;
    GOOD();
#undef GOOD
    assert_int_equal(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "%s classify -m %s < %s", cli, tu_model(), path);
    assert_int_equal(tu_run(cmd, NULL, &out, &out_len, NULL), 0);
    for (i = 0; i < out_len; i++)
        lines += out[i] == '\n';
    assert_int_equal(lines, want);
    /* the good lines (first, third, sixth and last) were classified */
    assert_prefix(out, "{\"title\":\"Cử tri đi bầu cử đại biểu Quốc hội\",\"topics\":{\"labels\":[\"elections\"]");
    assert_non_null(strstr(out + out_len - 200, "\"labels\":[\"elections\"]"));
    assert_non_null(strstr(out, "maximum parsing depth"));
    free(out);
}

/* A full disk: a clear message and a non-zero exit, never a quiet success. */
static void test_write_errors(void **state)
{
    static const char *const CMDS[] = {
        "classify -m %s < tests/data/small.jsonl", "eval -m %s tests/data/small.jsonl",
        "info -m %s", "mail -m %s < tests/data/small.jsonl",
    };
    char fmt[1024], cmd[1600], *err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof CMDS / sizeof CMDS[0]; i++) {
        snprintf(fmt, sizeof fmt, "%s %s > /dev/full", cli, CMDS[i]);
        snprintf(cmd, sizeof cmd, fmt, tu_model());
        assert_int_equal(tu_run(cmd, NULL, NULL, NULL, &err), 74);
        assert_non_null(strstr(err, "No space left on device"));
        free(err);
    }
}

/* A training run killed at any moment leaves a model that loads: the old
 * one, or (if the swap already happened) the new one, never a mix. */
static void test_killed_training_keeps_a_model(void **state)
{
    char cmd[2048], *out;
    int i;

    (void)state;
    snprintf(cmd, sizeof cmd, "%s train -o %s/k --epochs 3 --hidden 4 --features 300 "
             "tests/data/small.jsonl", cli, tmp);
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, NULL), 0);
    for (i = 1; i <= 4; i++) {
        snprintf(cmd, sizeof cmd,
                 "%s train -o %s/k --seed %d --epochs 40 --hidden 8 --features 800 "
                 "tests/data/small.jsonl & pid=$!; sleep 0.%d; kill -9 $pid; wait $pid; "
                 "%s info -m %s/k --json", cli, tmp, i + 1, i * 2, cli, tmp);
        assert_int_equal(tu_run(cmd, NULL, &out, NULL, NULL), 0);
        assert_non_null(strstr(out, "\"format\":\"newstag-model\""));
        free(out);
    }
}

/* The same across "hosts": parallel's --sshlogin path, with tests/fake-ssh
 * standing in for ssh (it runs the remote command here, through a shell,
 * as sshd would), two hosts with two job slots each. */
static void test_parallel_sshlogin_is_byte_identical(void **state)
{
    char cmd[2048], *one, *many, *abs_cli = realpath(cli, NULL),
         *abs_model = realpath(tu_model(), NULL), *ssh = realpath("tests/fake-ssh", NULL);
    size_t one_len, many_len;

    (void)state;
    assert_non_null(abs_cli), assert_non_null(abs_model), assert_non_null(ssh);
    snprintf(cmd, sizeof cmd, "%s classify -m %s", abs_cli, abs_model);
    assert_int_equal(tu_run(cmd, "tests/data/small.jsonl", &one, &one_len, NULL), 0);
    snprintf(cmd, sizeof cmd,
             "parallel --pipe -k --block 20k --ssh %s --sshlogin 2/host-a,2/host-b "
             "'%s classify -m %s'", ssh, abs_cli, abs_model);
    assert_int_equal(tu_run(cmd, "tests/data/small.jsonl", &many, &many_len, NULL), 0);
    assert_true(one_len > 50000);
    assert_int_equal(one_len, many_len);
    assert_memory_equal(one, many, one_len);
    free(one), free(many), free(abs_cli), free(abs_model), free(ssh);
}

/* A reader that goes away early: quiet, prompt, no signal death. */
static void test_closed_pipe_quiet_exit(void **state)
{
    char cmd[2048], *err;

    (void)state;
    /* newstag's own exit status (the middle of the pipeline) must be 0 */
    snprintf(cmd, sizeof cmd,
             "bash -c 'for i in 1 2 3 4 5 6 7 8 9 10; do cat tests/data/small.jsonl; done | "
             "%s classify -m %s | head -1 >/dev/null; exit ${PIPESTATUS[1]}'", cli, tu_model());
    assert_int_equal(tu_run(cmd, NULL, NULL, NULL, &err), 0);
    assert_string_equal(err, "");
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_line_contract),
        cmocka_unit_test(test_keep_drop_threshold_key),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_existing_key_and_tabs),
        cmocka_unit_test(test_rsyslog_format),
        cmocka_unit_test(test_usage_and_model_errors),
        cmocka_unit_test(test_train_eval_info_round_trip),
        cmocka_unit_test(test_lockstep_subprocess),
        cmocka_unit_test(test_rsyslog_mmexternal),
        cmocka_unit_test(test_hostile_stream),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_killed_training_keeps_a_model),
        cmocka_unit_test(test_parallel_pipe_is_byte_identical),
        cmocka_unit_test(test_parallel_sshlogin_is_byte_identical),
        cmocka_unit_test(test_closed_pipe_quiet_exit),
    };
    return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
