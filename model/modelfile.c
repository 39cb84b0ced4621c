/*
 * modelfile.c - reading and writing model directories.
 *
 * A model is a directory of three files:
 *   manifest.json  format name and version, labels, thresholds, feature
 *                  configuration, training metadata, and the SHA-256 of the
 *                  other two files; it carries a checksum of itself.
 *   features.tsv   the vocabulary: one "idf<TAB>n-gram" line per input.
 *   network.net    the FANN network exactly as fann_save wrote it.
 *
 * Loading verifies everything before use: libfann only ever reads a network
 * file whose checksum matched. Writing builds the whole model in a fresh
 * sibling directory and swaps it into place with one atomic rename, so an
 * interrupted training run leaves the previous model as it was.
 */

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fann.h>
#include <jansson.h>

#include "internal.h"

#define MANIFEST "manifest.json"
#define FEATURES "features.tsv"
#define NETWORK "network.net"
#define MANIFEST_MAX_BYTES (1 << 20)

static const char *const ACCENT_NAMES[] = {"keep", "strip", "both"};
/* logtf: 1 + ln tf; binary: 1 for present; -idf: times idf (else idf = 1) */
static const char *const WEIGHTINGS[] = {"logtf-idf", "logtf", "binary-idf", "binary"};
/* features.spelling: whether a lone final y after consonants is read as i
 * (tỷ = tỉ). Models written before it was recorded read text as written. */
static const char *const SPELLINGS[] = {"as-written", "i-for-y"};

/* ---- small file helpers --------------------------------------------------- */

static int join_path(char *out, size_t outlen, const char *dir,
                     const char *name, newstag_error *err)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= outlen)
        return nt_fail(err, NEWSTAG_ERR_ARGUMENT, "path too long: %s/%s", dir, name);
    return 0;
}

static int fsync_path(const char *path, int directory)
{
    int fd = open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* Flush, fsync and close f; any failure (a full disk, say) is an error.
 * `ok` is zero when writing already failed. */
static int close_durably(FILE *f, int ok, const char *path, newstag_error *err)
{
    if (!ok || fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
        int e = errno;
        fclose(f);
        return nt_fail(err, NEWSTAG_ERR_IO, "%s: %s", path, strerror(e));
    }
    if (fclose(f) != 0)
        return nt_fail(err, NEWSTAG_ERR_IO, "%s: %s", path, strerror(errno));
    return 0;
}

/* Write a whole buffer to path and make it durable. */
static int write_file(const char *path, const char *data, size_t len,
                      newstag_error *err)
{
    FILE *f = fopen(path, "wb");

    if (!f)
        return nt_fail(err, NEWSTAG_ERR_IO, "%s: %s", path, strerror(errno));
    return close_durably(f, fwrite(data, 1, len, f) == len, path, err);
}

static char *read_file(const char *path, size_t max, size_t *len,
                       newstag_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (!f) {
        nt_fail(err, NEWSTAG_ERR_MODEL, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    n = fread(buf, 1, max + 1, f);
    if (ferror(f) || n > max) {
        fclose(f);
        free(buf);
        nt_fail(err, NEWSTAG_ERR_MODEL, "%s: %s", path,
                n > max ? "file too large" : "read error");
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* SHA-256 of the manifest without its "checksum" member, in canonical form. */
static int manifest_digest(json_t *root, char hex[65])
{
    json_t *copy = json_deep_copy(root);
    char *s;

    if (!copy)
        return -1;
    json_object_del(copy, "checksum");
    s = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    if (!s)
        return -1;
    nt_sha256_hex(s, strlen(s), hex);
    free(s);
    return 0;
}

/* ---- writing --------------------------------------------------------------- */

static int write_features(const char *path, const nt_model_out *m,
                          newstag_error *err)
{
    FILE *f = fopen(path, "wb");
    size_t i;

    if (!f)
        return nt_fail(err, NEWSTAG_ERR_IO, "%s: %s", path, strerror(errno));
    fprintf(f, "# newstag features: idf<TAB>namespace:n-gram\n");
    for (i = 0; i < m->vocab->size; i++)
        fprintf(f, "%.9g\t%s\n", (double)m->vocab->idf[i], m->gram_texts[i]);
    return close_durably(f, 1, path, err);
}

static json_t *file_entry(const char *path, newstag_error *err)
{
    char hex[65];
    size_t bytes;

    if (nt_sha256_file(path, hex, &bytes, err) < 0)
        return NULL;
    return json_pack("{s:s, s:I}", "sha256", hex, "bytes", (json_int_t)bytes);
}

static json_t *build_manifest(const char *tmp, const nt_model_out *m,
                              newstag_error *err)
{
    char path[4096];
    json_t *root, *labels, *thr, *files, *fe, *ne;
    size_t i;
    char hex[65];

    root = json_object();
    labels = json_array();
    thr = json_object();
    if (!root || !labels || !thr)
        goto oom;
    for (i = 0; i < m->num_labels; i++) {
        json_array_append_new(labels, json_string(m->labels[i]));
        json_object_set_new(thr, m->labels[i], json_real(m->thresholds[i]));
    }
    if (join_path(path, sizeof path, tmp, FEATURES, err) < 0 ||
        !(fe = file_entry(path, err)))
        goto fail;
    if (join_path(path, sizeof path, tmp, NETWORK, err) < 0 ||
        !(ne = file_entry(path, err))) {
        json_decref(fe);
        goto fail;
    }
    files = json_pack("{s:o, s:o}", FEATURES, fe, NETWORK, ne);
    json_object_set_new(root, "format", json_string(NEWSTAG_MODEL_FORMAT));
    /* format 2 reads tỷ as tỉ; a model that does not (one continued from a
     * format 1 model) stays format 1, so older newstag still reads it right,
     * and older newstag refuses a format 2 model rather than misread it */
    json_object_set_new(root, "format_version",
                        json_integer(m->features->unify_iy ? 2 : 1));
    json_object_set_new(root, "newstag_version", json_string(NEWSTAG_VERSION));
    json_object_set_new(root, "labels", labels);
    json_object_set_new(root, "thresholds", thr);
    json_object_set_new(root, "features", json_pack(
        "{s:s, s:s, s:i, s:i, s:s, s:s, s:I, s:I, s:s, s:s, s:f, s:s}",
        "normalization",
        "html-stripped; utf8proc NFKD + casefold; Vietnamese tone marks "
        "placed by one rule; NFC",
        "tokens", "syllables; punctuation ends a segment; numbers as 0",
        "ngram_min", 1, "ngram_max", (int)m->features->ngram_max,
        "accents", ACCENT_NAMES[m->features->accents],
        "vocabulary", m->vocab->hash_buckets ? "hashing" : "document-frequency",
        "size", (json_int_t)m->vocab->size,
        "hash_buckets", (json_int_t)m->vocab->hash_buckets,
        "weighting", WEIGHTINGS[(m->vocab->binary_tf ? 2 : 0) + (m->idf_off ? 1 : 0)],
        "norm", "l2", "oov_idf", (double)m->vocab->oov_idf, "file", FEATURES));
    json_object_set_new(json_object_get(root, "features"), "window_syllables",
                        json_integer(m->features->window));
    json_object_set_new(json_object_get(root, "features"), "spelling",
                        json_string(SPELLINGS[m->features->unify_iy ? 1 : 0]));
    json_object_set_new(root, "network", json_pack(
        "{s:s, s:i, s:i, s:i, s:s, s:s}", "file", NETWORK,
        "inputs", (int)m->vocab->size, "hidden", (int)nt_fann_hidden(m->ann),
        "outputs", (int)m->num_labels, "activation", "sigmoid", "connections",
        fann_get_network_type(m->ann) == FANN_NETTYPE_SHORTCUT
            ? "shortcut" : "layered"));
    json_object_set_new(root, "files", files);
    if (m->training_info)
        json_object_set(root, "training", (json_t *)m->training_info);
    labels = thr = NULL;
    if (manifest_digest(root, hex) < 0)
        goto oom;
    json_object_set_new(root, "checksum", json_string(hex));
    return root;
oom:
    nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory writing manifest");
fail:
    json_decref(root);
    json_decref(labels);
    json_decref(thr);
    return NULL;
}

static void remove_model_dir(const char *dir)
{
    char path[4096];
    const char *names[] = {MANIFEST, FEATURES, NETWORK, "network.bin"};
    size_t i;

    for (i = 0; i < 4; i++)
        if (join_path(path, sizeof path, dir, names[i], NULL) == 0)
            unlink(path);
    rmdir(dir);
}

static int make_sibling_tmpdir(const char *dst, char *out, size_t outlen,
                               newstag_error *err)
{
    int n = snprintf(out, outlen, "%s.tmp-XXXXXX", dst);

    if (n < 0 || (size_t)n >= outlen)
        return nt_fail(err, NEWSTAG_ERR_ARGUMENT, "path too long: %s", dst);
    if (!mkdtemp(out))
        return nt_fail(err, NEWSTAG_ERR_IO, "cannot create a directory next to %s: %s",
                       dst, strerror(errno));
    chmod(out, 0755);                    /* a model is readable by all, like any data */
    return 0;
}

static int is_replaceable(const char *dst, newstag_error *err)
{
    struct stat st;
    char path[4096];

    if (stat(dst, &st) != 0)
        return errno == ENOENT ? 0 : nt_fail(err, NEWSTAG_ERR_IO, "%s: %s", dst,
                                             strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return nt_fail(err, NEWSTAG_ERR_IO, "%s exists and is not a directory", dst);
    if (join_path(path, sizeof path, dst, MANIFEST, err) < 0)
        return -1;
    if (access(path, F_OK) != 0 && rmdir(dst) != 0)
        return nt_fail(err, NEWSTAG_ERR_IO,
                       "%s exists and is not a newstag model; refusing to replace it",
                       dst);
    return 0;
}

int nt_dir_swap_into_place(const char *src, const char *dst, newstag_error *err)
{
    char parent[4096], *slash;

    if (is_replaceable(dst, err) < 0)
        return -1;
    if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0) {
        /* nothing was there */
    } else if (errno == EEXIST &&
               renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_EXCHANGE) == 0) {
        remove_model_dir(src);           /* src now holds the old model */
    } else {
        return nt_fail(err, NEWSTAG_ERR_IO, "cannot move %s into place as %s: %s",
                       src, dst, strerror(errno));
    }
    snprintf(parent, sizeof parent, "%s", dst);
    slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = '\0';
    else if (!slash)
        snprintf(parent, sizeof parent, ".");
    fsync_path(parent, 1);
    return 0;
}

static int model_write(const char *dir, const nt_model_out *m, newstag_error *err);

/* The model path without trailing slashes, into clean (4096 bytes). */
static int clean_model_path(const char *dir, char *clean, newstag_error *err)
{
    size_t len = strlen(dir);

    if (len == 0 || len >= 4096)
        return nt_fail(err, NEWSTAG_ERR_ARGUMENT, "bad model path");
    memcpy(clean, dir, len + 1);
    while (len > 1 && clean[len - 1] == '/')
        clean[--len] = '\0';
    return 0;
}

/* Last step of writing a model: the manifest into the temp directory `tmp`
 * (whose other files are written and synced), then the swap into place.
 * On failure tmp is removed. */
static int finish_model_dir(const char *tmp, const char *clean, json_t *manifest,
                            newstag_error *err)
{
    char path[4096], *text = json_dumps(manifest, JSON_INDENT(2));
    int rc = -1;

    if (!text)
        nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory writing manifest");
    else if (join_path(path, sizeof path, tmp, MANIFEST, err) == 0 &&
             write_file(path, text, strlen(text), err) == 0) {
        fsync_path(tmp, 1);
        rc = nt_dir_swap_into_place(tmp, clean, err);
    }
    free(text);
    if (rc < 0)
        remove_model_dir(tmp);
    return rc;
}

/* Numbers in features.tsv are written with printf: use the C locale. */
int nt_model_write(const char *dir, const nt_model_out *m, newstag_error *err)
{
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0), old = (locale_t)0;
    int rc;

    if (c)
        old = uselocale(c);
    rc = model_write(dir, m, err);
    if (c) {
        uselocale(old);
        freelocale(c);
    }
    return rc;
}

static int model_write(const char *dir, const nt_model_out *m, newstag_error *err)
{
    char tmp[4096], path[4096], clean[4096];
    json_t *manifest;
    int rc;

    if (clean_model_path(dir, clean, err) < 0 ||
        make_sibling_tmpdir(clean, tmp, sizeof tmp, err) < 0)
        return -1;
    if (join_path(path, sizeof path, tmp, FEATURES, err) < 0 ||
        write_features(path, m, err) < 0)
        goto fail;
    if (join_path(path, sizeof path, tmp, NETWORK, err) < 0 ||
        nt_fann_save(m->ann, path, err) < 0 || fsync_path(path, 0) != 0)
        goto fail;
    if (!(manifest = build_manifest(tmp, m, err)))
        goto fail;
    rc = finish_model_dir(tmp, clean, manifest, err);
    json_decref(manifest);
    return rc;
fail:
    remove_model_dir(tmp);
    return -1;
}

/* ---- reading --------------------------------------------------------------- */

static int verify_file(const char *dir, const char *name, json_t *files,
                       newstag_error *err)
{
    char path[4096], hex[65];
    size_t bytes;
    json_t *entry = json_object_get(files, name);
    const char *want = json_string_value(json_object_get(entry, "sha256"));
    json_int_t want_bytes = json_integer_value(json_object_get(entry, "bytes"));

    if (!want)
        return nt_fail(err, NEWSTAG_ERR_MODEL, "%s: manifest lists no checksum for %s",
                       dir, name);
    if (join_path(path, sizeof path, dir, name, err) < 0 ||
        nt_sha256_file(path, hex, &bytes, err) < 0) {
        if (err)
            err->code = NEWSTAG_ERR_MODEL;
        return -1;
    }
    if ((json_int_t)bytes != want_bytes)
        return nt_fail(err, NEWSTAG_ERR_MODEL,
                       "%s: %s is %zu bytes, the manifest says %lld (truncated or replaced)",
                       dir, name, bytes, (long long)want_bytes);
    if (strcmp(hex, want) != 0)
        return nt_fail(err, NEWSTAG_ERR_MODEL,
                       "%s: %s does not match its checksum (damaged or replaced)",
                       dir, name);
    return 0;
}

static int read_labels(json_t *root, struct newstag_model *m,
                       newstag_error *err)
{
    json_t *labels = json_object_get(root, "labels");
    json_t *thr = json_object_get(root, "thresholds");
    size_t i, j;

    if (!json_is_array(labels) || json_array_size(labels) == 0 ||
        json_array_size(labels) > NEWSTAG_MAX_LABELS || !json_is_object(thr))
        return nt_fail(err, NEWSTAG_ERR_MODEL, "manifest: bad labels or thresholds");
    m->num_labels = json_array_size(labels);
    for (i = 0; i < m->num_labels; i++) {
        const char *name = json_string_value(json_array_get(labels, i));
        json_t *t;
        if (!name || !nt_valid_label(name))
            return nt_fail(err, NEWSTAG_ERR_MODEL, "manifest: bad label name");
        for (j = 0; j < i; j++)
            if (strcmp(m->labels[j], name) == 0)
                return nt_fail(err, NEWSTAG_ERR_MODEL,
                               "manifest: label %s listed twice", name);
        snprintf(m->labels[i], sizeof m->labels[i], "%s", name);
        t = json_object_get(thr, name);
        if (!json_is_number(t) || json_number_value(t) <= 0 ||
            json_number_value(t) >= 1)
            return nt_fail(err, NEWSTAG_ERR_MODEL,
                           "manifest: label %s has no threshold in (0,1)", name);
        m->thresholds[i] = json_number_value(t);
    }
    return 0;
}

static int read_feature_config(json_t *root, nt_feature_config *fc,
                               size_t *size, float *oov_idf, int *hashed,
                               int *binary_tf, newstag_error *err)
{
    json_t *f = json_object_get(root, "features");
    const char *vocab = json_string_value(json_object_get(f, "vocabulary"));
    const char *weighting = json_string_value(json_object_get(f, "weighting"));
    const char *acc = json_string_value(json_object_get(f, "accents"));
    json_int_t nmax = json_integer_value(json_object_get(f, "ngram_max"));
    json_int_t n = json_integer_value(json_object_get(f, "size"));
    json_t *oov = json_object_get(f, "oov_idf");
    json_t *window = json_object_get(f, "window_syllables");
    json_t *spelling = json_object_get(f, "spelling");
    const char *spell = json_string_value(spelling);
    int i, w;

    if (!json_is_object(f) || !acc || nmax < 1 || nmax > 3 || n < 1 ||
        n > 10000000)
        return nt_fail(err, NEWSTAG_ERR_MODEL, "manifest: bad feature configuration");
    for (i = 0; i < 3; i++)
        if (strcmp(acc, ACCENT_NAMES[i]) == 0)
            break;
    if (i == 3)
        return nt_fail(err, NEWSTAG_ERR_MODEL, "manifest: unknown accents mode %s", acc);
    if (oov && (!json_is_number(oov) || json_number_value(oov) < 0 ||
                json_number_value(oov) > 1e6))
        return nt_fail(err, NEWSTAG_ERR_MODEL, "manifest: bad oov_idf");
    *oov_idf = oov ? (float)json_number_value(oov) : 0.0f;
    /* absent in models made before windows: whole texts only */
    if (window && (!json_is_integer(window) || json_integer_value(window) < 0 ||
                   json_integer_value(window) > 1000000))
        return nt_fail(err, NEWSTAG_ERR_MODEL, "manifest: bad window_syllables");
    fc->window = window ? (unsigned)json_integer_value(window) : 0;
    /* absent in models made before it was recorded: text as written */
    if (spelling && (!spell || (strcmp(spell, SPELLINGS[0]) != 0 &&
                                strcmp(spell, SPELLINGS[1]) != 0)))
        return nt_fail(err, NEWSTAG_ERR_MODEL, "manifest: unknown spelling %s",
                       spell ? spell : "(not a string)");
    fc->unify_iy = spell && strcmp(spell, SPELLINGS[1]) == 0;
    if (!vocab || (strcmp(vocab, "hashing") != 0 && strcmp(vocab, "document-frequency") != 0))
        return nt_fail(err, NEWSTAG_ERR_MODEL, "manifest: unknown vocabulary kind");
    for (w = 0; w < 4; w++)
        if (weighting && strcmp(weighting, WEIGHTINGS[w]) == 0)
            break;
    if (w == 4)
        return nt_fail(err, NEWSTAG_ERR_MODEL, "manifest: unknown weighting");
    *binary_tf = w >= 2;
    *hashed = strcmp(vocab, "hashing") == 0;
    fc->accents = i;
    fc->ngram_max = (unsigned)nmax;
    *size = (size_t)n;
    return 0;
}

/* Read features.tsv into v; with `texts` (size entries), also keep each
 * feature's n-gram text, as a trainer continuing from the model needs. */
static int read_features(const char *path, size_t size, int hashed,
                         nt_vocab *v, char **texts, newstag_error *err)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = -1;

    if (!f)
        return nt_fail(err, NEWSTAG_ERR_MODEL, "%s: %s", path, strerror(errno));
    if ((hashed ? nt_vocab_init_hashed(v, size) : nt_vocab_init(v, size)) < 0) {
        fclose(f);
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
    }
    size_t count = 0;

    while ((n = getline(&line, &cap, f)) > 0) {
        char *tab, *end;
        double idf;
        lineno++;
        if (line[0] == '#')
            continue;
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        tab = strchr(line, '\t');
        idf = strtod(line, &end);
        if (!tab || end != tab || !(idf > 0) || idf > 1e6 ||
            (hashed ? count >= size
                    : nt_vocab_add(v, nt_gram_hash_text(tab + 1, strlen(tab + 1)),
                                   (float)idf) < 0)) {
            nt_fail(err, NEWSTAG_ERR_MODEL, "%s:%zu: bad or duplicate feature", path,
                    lineno);
            goto out;
        }
        if (hashed)
            v->idf[count] = (float)idf;
        if (texts && !(texts[count] = strdup(tab + 1))) {
            nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
            goto out;
        }
        count++;
    }
    if (count != size) {
        nt_fail(err, NEWSTAG_ERR_MODEL, "%s: %zu features, the manifest says %zu",
                path, count, size);
        goto out;
    }
    rc = 0;
out:
    free(line);
    fclose(f);
    if (rc < 0)
        nt_vocab_free(v);
    return rc;
}

static json_t *read_manifest(const char *dir, newstag_error *err)
{
    char path[4096], hex[65];
    char *text;
    size_t len;
    json_error_t jerr;
    json_t *root, *ver;
    const char *format, *sum;

    if (join_path(path, sizeof path, dir, MANIFEST, err) < 0 ||
        !(text = read_file(path, MANIFEST_MAX_BYTES, &len, err)))
        return NULL;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root) {
        nt_fail(err, NEWSTAG_ERR_MODEL, "%s: line %d: %s", path, jerr.line, jerr.text);
        return NULL;
    }
    format = json_string_value(json_object_get(root, "format"));
    ver = json_object_get(root, "format_version");
    if (!format || strcmp(format, NEWSTAG_MODEL_FORMAT) != 0 || !json_is_integer(ver)) {
        nt_fail(err, NEWSTAG_ERR_MODEL, "%s: not a newstag model manifest", path);
        goto fail;
    }
    if (json_integer_value(ver) > NEWSTAG_MODEL_FORMAT_VERSION) {
        nt_fail(err, NEWSTAG_ERR_VERSION,
                "%s: model format version %lld is newer than this newstag "
                "(reads format version %d); upgrade newstag",
                dir, (long long)json_integer_value(ver), NEWSTAG_MODEL_FORMAT_VERSION);
        goto fail;
    }
    if (json_integer_value(ver) < 1) {
        nt_fail(err, NEWSTAG_ERR_MODEL, "%s: bad format version", path);
        goto fail;
    }
    sum = json_string_value(json_object_get(root, "checksum"));
    if (!sum || manifest_digest(root, hex) < 0 || strcmp(sum, hex) != 0) {
        nt_fail(err, NEWSTAG_ERR_MODEL,
                "%s: manifest checksum does not match (damaged or edited)", path);
        goto fail;
    }
    return root;
fail:
    json_decref(root);
    return NULL;
}

/* Open the verified network through its file descriptor so that libfann reads
 * exactly the bytes that were checked, even if the path is replaced. */
static struct fann *load_network(const char *dir, json_t *files,
                                 newstag_error *err)
{
    char path[4096], fdpath[64];
    struct fann *ann;
    int fd;

    if (join_path(path, sizeof path, dir, NETWORK, err) < 0)
        return NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        nt_fail(err, NEWSTAG_ERR_MODEL, "%s: %s", path, strerror(errno));
        return NULL;
    }
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
    if (access(fdpath, R_OK) != 0)
        snprintf(fdpath, sizeof fdpath, "%s", "");
    if (verify_file(dir, NETWORK, files, err) < 0) {
        close(fd);
        return NULL;
    }
    ann = nt_fann_load(fdpath[0] ? fdpath : path, err);
    close(fd);
    return ann;
}

int nt_model_read(const char *dir, struct newstag_model *m, newstag_error *err)
{
    char path[4096];
    json_t *root, *files;
    struct fann *ann = NULL;
    size_t size = 0;
    float oov_idf = 0;
    int hashed = 0, binary_tf = 0;
    const char *net_sha, *feat_sha;
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0), old = (locale_t)0;
    int rc = -1;

    if (c)
        old = uselocale(c);              /* strtod reads "0.5" in any locale */
    if (!(root = read_manifest(dir, err)))
        goto out;
    files = json_object_get(root, "files");
    if (read_labels(root, m, err) < 0 ||
        read_feature_config(root, &m->features, &size, &oov_idf, &hashed, &binary_tf,
                            err) < 0)
        goto out;
    net_sha = json_string_value(json_object_get(json_object_get(files, NETWORK), "sha256"));
    feat_sha = json_string_value(json_object_get(json_object_get(files, FEATURES), "sha256"));
    m->vocab.size = size;
    if (net_sha && feat_sha && nt_image_map(dir, m, net_sha, feat_sha) == 1) {
        if ((m->vocab.hash_buckets != 0) == hashed)
            goto done;                   /* the fast path: nothing to parse */
        nt_image_unmap(m);
        memset(&m->weights, 0, sizeof m->weights);
    }
    memset(&m->vocab, 0, sizeof m->vocab);
    if (verify_file(dir, FEATURES, files, err) < 0 ||
        join_path(path, sizeof path, dir, FEATURES, err) < 0 ||
        read_features(path, size, hashed, &m->vocab, NULL, err) < 0)
        goto out;
    m->vocab.oov_idf = oov_idf;
    if (!(ann = load_network(dir, files, err)) ||
        nt_weights_from_fann(ann, &m->weights, err) < 0)
        goto out;
    if (m->weights.inputs != size || m->weights.outputs != m->num_labels) {
        nt_fail(err, NEWSTAG_ERR_MODEL,
                "%s: network has %u inputs and %u outputs, the manifest says %zu and %zu",
                dir, m->weights.inputs, m->weights.outputs, size, m->num_labels);
        goto out;
    }
    nt_image_write(dir, m, net_sha, feat_sha);   /* best effort: a cache */
done:
    m->vocab.oov_idf = oov_idf;
    m->vocab.binary_tf = binary_tf;
    m->manifest_json = json_dumps(root, JSON_COMPACT);
    if (!m->manifest_json) {
        nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = 0;
out:
    if (ann)
        fann_destroy(ann);
    json_decref(root);
    if (c) {
        uselocale(old);
        freelocale(c);
    }
    return rc;
}

/* ---- a parent model for continued training ------------------------------ */

static int weighting_idf_off(json_t *root)
{
    const char *w = json_string_value(json_object_get(
        json_object_get(root, "features"), "weighting"));

    return w && strstr(w, "-idf") == NULL;
}

int nt_parent_read(const char *dir, nt_parent *p, newstag_error *err)
{
    struct newstag_model lab;
    char path[4096];
    json_t *root, *files;
    size_t size = 0, i;
    float oov_idf = 0;
    int hashed = 0, binary_tf = 0, rc = -1;
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0), old = (locale_t)0;

    memset(p, 0, sizeof *p);
    memset(&lab, 0, sizeof lab);
    if (c)
        old = uselocale(c);
    if (!(root = read_manifest(dir, err)))
        goto out;
    p->manifest = root;
    files = json_object_get(root, "files");
    if (read_labels(root, &lab, err) < 0 ||
        read_feature_config(root, &p->features, &size, &oov_idf, &hashed,
                            &binary_tf, err) < 0)
        goto out;
    p->num_labels = lab.num_labels;
    memcpy(p->labels, lab.labels, sizeof lab.labels);
    snprintf(p->checksum, sizeof p->checksum, "%s",
             json_string_value(json_object_get(root, "checksum")));
    if (!(p->gram_texts = calloc(size, sizeof *p->gram_texts))) {
        nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
        goto out;
    }
    p->num_features = size;
    if (verify_file(dir, FEATURES, files, err) < 0 ||
        join_path(path, sizeof path, dir, FEATURES, err) < 0 ||
        read_features(path, size, hashed, &p->vocab, p->gram_texts, err) < 0 ||
        !(p->ann = load_network(dir, files, err)))
        goto out;
    p->vocab.oov_idf = oov_idf;
    p->vocab.binary_tf = binary_tf;
    p->idf_off = weighting_idf_off(root);
    if (fann_get_num_input(p->ann) != size || fann_get_num_output(p->ann) != p->num_labels ||
        fann_get_num_layers(p->ann) != 3) {
        nt_fail(err, NEWSTAG_ERR_MODEL, "%s: network does not match the manifest", dir);
        goto out;
    }
    rc = 0;
out:
    if (c) {
        uselocale(old);
        freelocale(c);
    }
    if (rc < 0) {
        for (i = 0; p->gram_texts && i < size; i++)
            free(p->gram_texts[i]);
        free(p->gram_texts);
        p->gram_texts = NULL;
        nt_parent_free(p);
    }
    return rc;
}

void nt_parent_free(nt_parent *p)
{
    size_t i;

    for (i = 0; p->gram_texts && i < p->num_features; i++)
        free(p->gram_texts[i]);
    free(p->gram_texts);
    if (p->ann)
        fann_destroy(p->ann);
    json_decref(p->manifest);
    nt_vocab_free(&p->vocab);
    memset(p, 0, sizeof *p);
}

/* ---- a copy with other thresholds (`eval --tune-thresholds`) ----------- */

/* Copy one file of a model into dir and check the copy against the source
 * manifest: the copy is exactly the model that was verified, or nothing. */
static int copy_model_file(const char *src, const char *dir, const char *name,
                           json_t *files, newstag_error *err)
{
    char from[4096], to[4096], buf[65536];
    FILE *in, *out;
    size_t n;
    int ok = 1;

    if (join_path(from, sizeof from, src, name, err) < 0 ||
        join_path(to, sizeof to, dir, name, err) < 0)
        return -1;
    if (!(in = fopen(from, "rb")))
        return nt_fail(err, NEWSTAG_ERR_MODEL, "%s: %s", from, strerror(errno));
    if (!(out = fopen(to, "wb"))) {
        fclose(in);
        return nt_fail(err, NEWSTAG_ERR_IO, "%s: %s", to, strerror(errno));
    }
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (ferror(in)) {
        fclose(in);
        fclose(out);
        return nt_fail(err, NEWSTAG_ERR_MODEL, "%s: read error", from);
    }
    fclose(in);
    if (close_durably(out, ok, to, err) < 0)
        return -1;
    if (verify_file(dir, name, files, err) < 0)
        return nt_fail(err, NEWSTAG_ERR_MODEL,
                       "%s: %s does not match the manifest (damaged or replaced)",
                       src, name);
    return 0;
}

/* The manifest with new thresholds, the note, and a fresh checksum. */
static int retune_manifest(json_t *root, const double *thresholds, size_t n,
                           json_t *note, newstag_error *err)
{
    json_t *labels = json_object_get(root, "labels"), *thr;
    char hex[65];
    size_t i;

    if (json_array_size(labels) != n)
        return nt_fail(err, NEWSTAG_ERR_ARGUMENT, "%zu thresholds for a model of %zu labels",
                       n, json_array_size(labels));
    if (!(thr = json_object()))
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(labels, i));
        if (!(thresholds[i] > 0 && thresholds[i] < 1)) {
            json_decref(thr);
            return nt_fail(err, NEWSTAG_ERR_ARGUMENT,
                           "threshold %g for %s is not between 0 and 1", thresholds[i],
                           name ? name : "?");
        }
        json_object_set_new(thr, name ? name : "?", json_real(thresholds[i]));
    }
    json_object_set_new(root, "thresholds", thr);
    if (note)
        json_object_set(root, "thresholds_tuned", note);
    json_object_del(root, "checksum");
    if (manifest_digest(root, hex) < 0 ||
        json_object_set_new(root, "checksum", json_string(hex)) < 0)
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
    return 0;
}

int nt_model_copy_with_thresholds(const char *src, const double *thresholds,
                                  size_t n, struct json_t *note,
                                  const char *dst, newstag_error *err)
{
    char tmp[4096], clean[4096];
    json_t *root;
    int rc = -1;

    if (clean_model_path(dst, clean, err) < 0 || !(root = read_manifest(src, err)))
        return -1;
    if (retune_manifest(root, thresholds, n, note, err) < 0 ||
        make_sibling_tmpdir(clean, tmp, sizeof tmp, err) < 0) {
        json_decref(root);
        return -1;
    }
    if (copy_model_file(src, tmp, FEATURES, json_object_get(root, "files"), err) < 0 ||
        copy_model_file(src, tmp, NETWORK, json_object_get(root, "files"), err) < 0)
        remove_model_dir(tmp);
    else
        rc = finish_model_dir(tmp, clean, root, err);
    json_decref(root);
    return rc;
}
