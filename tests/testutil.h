/*
 * testutil.h - small helpers shared by the cmocka test programs: files,
 * temporary directories, running the CLI, and Unicode variants of text.
 */
#ifndef NEWSTAG_TESTUTIL_H
#define NEWSTAG_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <utf8proc.h>

static inline char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;

    if (!f)
        return NULL;
    do {
        if (n + 65536 + 1 > cap) {
            cap = (n + 65536 + 1) * 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        r = fread(buf + n, 1, 65536, f);
        n += r;
    } while (r > 0);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static inline void tu_write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* A fresh temporary directory (removed by tu_rmtree). */
static inline char *tu_tmpdir(void)
{
    char *d = strdup("/tmp/newstag-test-XXXXXX");

    assert_non_null(mkdtemp(d));
    return d;
}

static inline void tu_rmtree(const char *dir)
{
    char cmd[1024];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The directory of the build under test (for the CLI binary). */
static inline const char *tu_build_dir(void)
{
    const char *b = getenv("NEWSTAG_BUILD");
    return b && *b ? b : "build";
}

static inline const char *tu_model(void)
{
    const char *m = getenv("NEWSTAG_TEST_MODEL");
    return m && *m ? m : "model/default";
}

/* Run a shell command with stdin from a file; capture stdout and stderr.
 * Returns the exit status (or 128+signal). */
static inline int tu_run(const char *cmd, const char *stdin_path, char **out,
                         size_t *out_len, char **err)
{
    char full[4096], outp[64], errp[64];
    int st;

    snprintf(outp, sizeof outp, "/tmp/newstag-out-%d", (int)getpid());
    snprintf(errp, sizeof errp, "/tmp/newstag-err-%d", (int)getpid());
    snprintf(full, sizeof full, "( %s ) < '%s' > %s 2> %s", cmd,
             stdin_path ? stdin_path : "/dev/null", outp, errp);
    st = system(full);
    if (out)
        *out = tu_read_file(outp, out_len);
    if (err)
        *err = tu_read_file(errp, NULL);
    unlink(outp);
    unlink(errp);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

/* Group setup of the CLI tests: the built `newstag` into cli and a fresh
 * temporary directory into *tmp. Returns 0, or -1 when it is not built. */
static inline int tu_cli_setup(char *cli, size_t clilen, char **tmp)
{
    snprintf(cli, clilen, "%s/newstag", tu_build_dir());
    *tmp = tu_tmpdir();
    return access(cli, X_OK) == 0 ? 0 : -1;
}

/* Group teardown: remove the temporary directory. */
static inline int tu_tmp_teardown(char **tmp)
{
    tu_rmtree(*tmp);
    free(*tmp);
    *tmp = NULL;
    return 0;
}

/* Unicode variants of a UTF-8 string (caller frees). */
static inline char *tu_nfd(const char *s)
{
    return (char *)utf8proc_NFD((const utf8proc_uint8_t *)s);
}

static inline char *tu_upper(const char *s)
{
    size_t n = strlen(s), i = 0, k = 0;
    char *out = malloc(n * 4 + 1);

    assert_non_null(out);
    while (i < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(n - i), &cp);
        assert_true(m > 0);
        k += (size_t)utf8proc_encode_char(utf8proc_toupper(cp),
                                          (utf8proc_uint8_t *)out + k);
        i += (size_t)m;
    }
    out[k] = '\0';
    return out;
}

/* Replace every occurrence of `from` with `to`. */
static inline char *tu_replace(const char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    const char *p = s, *q;
    char *out = malloc(strlen(s) * (tl > fl ? tl / (fl ? fl : 1) + 1 : 1) + 1);

    assert_non_null(out);
    while ((q = strstr(p, from)) != NULL) {
        memcpy(out + n, p, (size_t)(q - p));
        n += (size_t)(q - p);
        memcpy(out + n, to, tl);
        n += tl;
        p = q + fl;
    }
    strcpy(out + n, p);
    return out;
}

#endif
