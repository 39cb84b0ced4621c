/*
 * test_plugin.c - a host that dlopens build/newstag_filter.so the way a
 * pipeline would: only one exported symbol, a comma-decimal locale in the
 * host, several threads on one handle, and the same output as the CLI.
 * The Makefile also runs it built with ThreadSanitizer.
 */
#include <dlfcn.h>
#include <locale.h>
#include <pthread.h>

#include "testutil.h"

#include "newstag_plugin.h"

#define THREADS 4
#define ROUNDS 3

static const struct newstag_plugin_api *api;
static void *so;
static char **inputs, **expected;
static size_t ninputs;

static int setup(void **state)
{
    char path[512], cmd[1024], *out, *p, *line;
    const struct newstag_plugin_api *(*entry)(void);
    size_t i;

    (void)state;
    snprintf(path, sizeof path, "%s/newstag_filter.so", tu_build_dir());
    so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!so) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return -1;
    }
    *(void **)&entry = dlsym(so, "newstag_plugin_entry");
    if (!entry)
        return -1;
    api = entry();
    /* the CLI's answers, line by line, are what the plugin must give */
    snprintf(cmd, sizeof cmd, "%s/newstag classify -m %s", tu_build_dir(), tu_model());
    if (tu_run(cmd, "tests/data/small.jsonl", &out, NULL, NULL) != 0)
        return -1;
    p = tu_read_file("tests/data/small.jsonl", NULL);
    inputs = calloc(1000, sizeof *inputs);
    expected = calloc(1000, sizeof *expected);
    for (line = strtok(p, "\n"); line && ninputs < 1000; line = strtok(NULL, "\n"))
        inputs[ninputs++] = strdup(line);
    for (i = 0, line = strtok(out, "\n"); line && i < ninputs; line = strtok(NULL, "\n"))
        expected[i++] = strdup(line);
    free(p);
    free(out);
    return i == ninputs && ninputs > 100 ? 0 : -1;
}

static int teardown(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < ninputs; i++)
        free(inputs[i]), free(expected[i]);
    free(inputs), free(expected);
    dlclose(so);
    return 0;
}

static void test_one_exported_symbol(void **state)
{
    char cmd[1024], *out;

    (void)state;
    assert_int_equal(api->abi_version, NEWSTAG_PLUGIN_ABI_VERSION);
    assert_string_equal(api->name, "newstag");
    snprintf(cmd, sizeof cmd, "nm -D --defined-only %s/newstag_filter.so | "
             "awk '$2 ~ /^[TDBRVW]$/ {print $3}'", tu_build_dir());
    assert_int_equal(tu_run(cmd, NULL, &out, NULL, NULL), 0);
    assert_string_equal(out, "newstag_plugin_entry\n");
    free(out);
}

typedef struct job {
    void *handle;
    int offset;
    int mismatches;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    size_t r, k;

    for (r = 0; r < ROUNDS; r++)
        for (k = 0; k < ninputs; k++) {
            size_t i = (k + (size_t)j->offset * 37) % ninputs, len = 0;
            char *out = api->process(j->handle, inputs[i], strlen(inputs[i]), &len);
            if (!out || len != strlen(out) || strcmp(out, expected[i]) != 0)
                j->mismatches++;
            api->free_output(out);
        }
    return NULL;
}

static void test_threads_match_cli_under_comma_locale(void **state)
{
    char err[256];
    char cfg[600];
    pthread_t t[THREADS];
    job jobs[THREADS];
    void *h;
    int i;

    (void)state;
    if (!setlocale(LC_ALL, "vi_VN.UTF-8"))
        fail_msg("locale vi_VN.UTF-8 is missing; run scripts/install-deps");
    snprintf(cfg, sizeof cfg, "{\"model\": \"%s\"}", tu_model());
    h = api->open(cfg, err, sizeof err);
    if (!h)
        fail_msg("open: %s", err);
    for (i = 0; i < THREADS; i++) {
        jobs[i].handle = h, jobs[i].offset = i, jobs[i].mismatches = 0;
        assert_int_equal(pthread_create(&t[i], NULL, worker, &jobs[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].mismatches, 0);
    }
    api->close(h);
    setlocale(LC_ALL, "C");
}

/* "{}" finds the model next to the plugin's own source tree, whatever the
 * host's location and working directory: a copy of the example host in
 * /tmp, run from /, loads build/newstag_filter.so and classifies. */
static void test_default_model_from_any_directory(void **state)
{
    char *dir = tu_tmpdir(), cmd[2048], *out, *so_path, *host;

    (void)state;
    so_path = realpath("build/newstag_filter.so", NULL);
    host = realpath("build/plugin-host", NULL);
    if (strcmp(tu_build_dir(), "build") != 0) {   /* the sanitizer builds */
        char p[600];
        free(so_path), free(host);
        snprintf(p, sizeof p, "%s/newstag_filter.so", tu_build_dir());
        so_path = realpath(p, NULL);
        snprintf(p, sizeof p, "%s/plugin-host", tu_build_dir());
        host = realpath(p, NULL);
    }
    assert_non_null(so_path), assert_non_null(host);
    snprintf(cmd, sizeof cmd,
             "cp %s %s/host && cd / && unset NEWSTAG_MODEL && "
             "echo '{\"title\":\"Cử tri đi bầu cử đại biểu Quốc hội\"}' | %s/host %s '{}'",
             host, dir, dir, so_path);
    assert_int_equal(tu_run(cmd, NULL, &out, NULL, NULL), 0);
    assert_non_null(strstr(out, "\"labels\":[\"elections\"]"));
    free(out), free(so_path), free(host);
    tu_rmtree(dir);
    free(dir);
}

static void test_arrays_errors_and_config(void **state)
{
    char err[256], cfg[600];
    size_t len;
    char *out;
    void *h;

    (void)state;
    assert_null(api->open("{\"model\": \"/nonexistent\"}", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent"));
    assert_null(api->open("not json", err, sizeof err));
    snprintf(cfg, sizeof cfg, "{\"model\": \"%s\", \"key\": \"tags\", \"fields\": [\"headline\"]}",
             tu_model());
    h = api->open(cfg, err, sizeof err);
    if (!h)
        fail_msg("open: %s", err);
    {
        const char *in = "[{\"headline\":\"Cử tri đi bầu cử đại biểu Quốc hội\"}, 5]";
        out = api->process(h, in, strlen(in), &len);
    }
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    {
        const char *want = "[{\"headline\":\"Cử tri đi bầu cử đại biểu Quốc hội\",\"tags\":{\"labels\":[\"elections\"]";
        assert_memory_equal(out, want, strlen(want));
    }
    assert_non_null(strstr(out, "},{\"error\":\"expected a JSON object, got a number\",\"line\":2,\"input\":\"5\"}]"));
    api->free_output(out);
    out = api->process(h, "{broken", 7, &len);
    assert_non_null(out);
    assert_memory_equal(out, "{\"error\":", 9);
    assert_non_null(strstr(out, "\"line\":1"));
    api->free_output(out);
    api->close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_exported_symbol),
        cmocka_unit_test(test_threads_match_cli_under_comma_locale),
        cmocka_unit_test(test_arrays_errors_and_config),
        cmocka_unit_test(test_default_model_from_any_directory),
    };
    return cmocka_run_group_tests_name("plugin", tests, setup, teardown);
}
