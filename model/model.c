/*
 * model.c - the loaded model (immutable) and classification contexts.
 *
 * A newstag_model is read once and never changed afterwards, so any number
 * of threads may share it. Everything that changes while classifying (the
 * n-gram buffer, the sparse vector, the hidden layer) lives in a
 * newstag_ctx, one per thread.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#ifndef NEWSTAG_DATADIR
#define NEWSTAG_DATADIR "/usr/local/share/newstag"
#endif

struct newstag_ctx {
    const newstag_model *model;
    nt_grams grams;
    nt_sparse vec;
    float *hidden;
    size_t max_bytes;
};

/* Label names: lower-case ASCII letters, digits and '_', starting with a
 * letter, so they are safe in JSON keys, mail headers and file names. */
int nt_valid_label(const char *name)
{
    size_t i, n = strlen(name);

    if (n == 0 || n >= NEWSTAG_LABEL_MAX || !(name[0] >= 'a' && name[0] <= 'z'))
        return 0;
    for (i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

static void model_release_contents(newstag_model *m);

/* An error text names the pinned /proc path; name the directory instead. */
static void unpin_message(newstag_error *err, const char *pinned, const char *dir)
{
    char out[sizeof err->text];
    const char *p, *at;
    size_t n = 0, plen = strlen(pinned);

    if (!err)
        return;
    for (p = err->text; (at = strstr(p, pinned)) != NULL; p = at + plen) {
        int k = snprintf(out + n, sizeof out - n, "%.*s%s", (int)(at - p), p, dir);
        n += k > 0 ? (size_t)k : 0;
        if (n >= sizeof out - 1)
            break;
    }
    if (n < sizeof out - 1)
        snprintf(out + n, sizeof out - n, "%s", p);
    memcpy(err->text, out, sizeof out);
}

/*
 * Read the model through one open handle on its directory: a model
 * directory swapped in while this reads (install-model, train -o) is read
 * whole from one side, all files of the old model or all of the new. When
 * the directory was removed while being read, read again (a few times).
 */
static int read_pinned(const char *dir, newstag_model *m, newstag_error *err)
{
    char pinned[64];
    struct stat st;
    int fd, rc, attempt;

    for (attempt = 0; attempt < 3; attempt++) {
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        snprintf(pinned, sizeof pinned, "/proc/self/fd/%d", fd);
        if (fd < 0 || access(pinned, F_OK) != 0) {
            if (fd >= 0)
                close(fd);
            return nt_model_read(dir, m, err);    /* no /proc: by path */
        }
        rc = nt_model_read(pinned, m, err);
        if (rc < 0)
            unpin_message(err, pinned, dir);
        if (rc == 0 || fstat(fd, &st) != 0 || st.st_nlink > 0) {
            close(fd);
            return rc;
        }
        close(fd);
        model_release_contents(m);
    }
    return -1;
}

newstag_model *newstag_model_load(const char *dir, newstag_error *err)
{
    newstag_model *m;

    nt_clear(err);
    if (!dir) {
        nt_fail(err, NEWSTAG_ERR_ARGUMENT, "no model path given");
        return NULL;
    }
    m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(dir))) {
        free(m);
        nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (read_pinned(dir, m, err) < 0) {
        newstag_model_free(m);
        return NULL;
    }
    return m;
}

/* Release what reading filled in; the model is as new (path kept). */
static void model_release_contents(newstag_model *m)
{
    char *path = m->path;

    if (m->map) {
        nt_image_unmap(m);               /* the arrays live in the mapping */
    } else {
        nt_vocab_free(&m->vocab);
        nt_weights_free(&m->weights);
    }
    free(m->manifest_json);
    memset(m, 0, sizeof *m);
    m->path = path;
}

void newstag_model_free(newstag_model *m)
{
    if (!m)
        return;
    model_release_contents(m);
    free(m->path);
    free(m);
}

size_t newstag_model_num_labels(const newstag_model *m)
{
    return m->num_labels;
}

const char *newstag_model_label(const newstag_model *m, size_t i)
{
    return i < m->num_labels ? m->labels[i] : NULL;
}

double newstag_model_threshold(const newstag_model *m, size_t i)
{
    return i < m->num_labels ? m->thresholds[i] : 1.0;
}

int newstag_model_label_index(const newstag_model *m, const char *name)
{
    size_t i;

    for (i = 0; i < m->num_labels; i++)
        if (strcmp(m->labels[i], name) == 0)
            return (int)i;
    return -1;
}

const char *newstag_model_manifest_json(const newstag_model *m)
{
    return m->manifest_json;
}

const char *newstag_model_path(const newstag_model *m)
{
    return m->path;
}

static int is_model_dir(const char *dir)
{
    char path[PATH_MAX];

    return snprintf(path, sizeof path, "%s/manifest.json", dir) < (int)sizeof path &&
           access(path, R_OK) == 0;
}

int newstag_model_locate(const char *explicit_path, char *out, size_t outlen)
{
    const char *env = getenv("NEWSTAG_MODEL");
    char exe[PATH_MAX], *slash;
    ssize_t n;

    if (explicit_path && *explicit_path)
        return snprintf(out, outlen, "%s", explicit_path) < (int)outlen ? 0 : -1;
    if (env && *env)
        return snprintf(out, outlen, "%s", env) < (int)outlen ? 0 : -1;
    if (is_model_dir(NEWSTAG_DATADIR "/default"))
        return snprintf(out, outlen, "%s", NEWSTAG_DATADIR "/default") < (int)outlen ? 0 : -1;
    /* Running from the source tree: <tree>/build/newstag -> <tree>/model/default */
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        for (int up = 0; up < 3 && (slash = strrchr(exe, '/')); up++) {
            *slash = '\0';
            if (snprintf(out, outlen, "%s/model/default", exe) < (int)outlen &&
                is_model_dir(out))
                return 0;
        }
    }
    if (is_model_dir("model/default"))
        return snprintf(out, outlen, "model/default") < (int)outlen ? 0 : -1;
    return -1;
}

/* ---- classification --------------------------------------------------- */

newstag_ctx *newstag_ctx_new(const newstag_model *model, newstag_error *err)
{
    newstag_ctx *c;

    nt_clear(err);
    c = calloc(1, sizeof *c);
    if (!c || !(c->hidden = calloc(model->weights.hidden, sizeof *c->hidden))) {
        free(c);
        nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->model = model;
    c->max_bytes = NEWSTAG_DEFAULT_MAX_BYTES;
    return c;
}

void newstag_ctx_free(newstag_ctx *c)
{
    if (!c)
        return;
    nt_grams_free(&c->grams);
    nt_sparse_free(&c->vec);
    free(c->hidden);
    free(c);
}

void newstag_ctx_set_max_bytes(newstag_ctx *c, size_t max_bytes)
{
    c->max_bytes = max_bytes;
}

int newstag_model_input(const newstag_model *m, const char *text, size_t len,
                        float *out, size_t n)
{
    nt_grams g = {0};
    nt_sparse v = {0};
    size_t k;
    int rc = -1;

    if (n != m->vocab.size)
        return -1;
    memset(out, 0, n * sizeof *out);
    if (nt_extract_grams(&m->features, text, len, NEWSTAG_DEFAULT_MAX_BYTES, &g,
                         NULL) == 0 &&
        nt_vectorize(&m->vocab, &g, &v) == 0) {
        for (k = 0; k < v.n; k++)
            out[v.idx[k]] = v.val[k];
        rc = 0;
    }
    nt_grams_free(&g);
    nt_sparse_free(&v);
    return rc;
}

int newstag_classify(newstag_ctx *c, const char *text, size_t len,
                     float *scores, newstag_text_stats *stats,
                     newstag_error *err)
{
    const newstag_model *m = c->model;
    newstag_text_stats own;

    nt_clear(err);
    if (!text && len)
        return nt_fail(err, NEWSTAG_ERR_ARGUMENT, "text is NULL");
    if (!stats)
        stats = &own;
    memset(stats, 0, sizeof *stats);
    nt_grams_reset(&c->grams);
    if (nt_extract_grams(&m->features, text ? text : "", len, c->max_bytes,
                         &c->grams, stats) < 0 ||
        nt_score_text(&m->features, &m->vocab, &m->weights, &c->grams,
                      stats->syllables, &c->vec, c->hidden, scores) < 0)
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory classifying");
    return 0;
}
