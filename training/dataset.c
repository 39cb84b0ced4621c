/*
 * dataset.c - labeled news items read from files.
 *
 * Accepts the project's JSON Lines format ({"id","title","text","labels"})
 * and fastText's "__label__a __label__b text" lines, so fastText users can
 * bring their training files as they are. The label names found in the data
 * become the dataset's label set.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nettle/sha2.h>

#include "dataset.h"

void nt_dataset_init(newstag_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
}

newstag_dataset *newstag_dataset_new(void)
{
    newstag_dataset *ds = malloc(sizeof *ds);

    if (ds)
        nt_dataset_init(ds);
    return ds;
}

void newstag_dataset_free(newstag_dataset *ds)
{
    size_t i;

    if (!ds)
        return;
    for (i = 0; i < ds->n; i++)
        free(ds->items[i].text);
    free(ds->items);
    free(ds);
}

size_t newstag_dataset_size(const newstag_dataset *ds)
{
    return ds->n;
}

const char *newstag_dataset_text(const newstag_dataset *ds, size_t i)
{
    return i < ds->n ? ds->items[i].text : NULL;
}

size_t newstag_dataset_num_labels(const newstag_dataset *ds)
{
    return ds->num_labels;
}

const char *newstag_dataset_label(const newstag_dataset *ds, size_t l)
{
    return l < ds->num_labels ? ds->labels[l] : NULL;
}

int newstag_dataset_has_label(const newstag_dataset *ds, size_t i,
                              const char *name)
{
    size_t l;

    if (i >= ds->n)
        return 0;
    for (l = 0; l < ds->num_labels; l++)
        if (strcmp(ds->labels[l], name) == 0)
            return (ds->items[i].labels >> l) & 1;
    return 0;
}

/* Index of a label in the dataset's label set, adding it when new. */
static int label_id(newstag_dataset *ds, const char *name, size_t len,
                    newstag_error *err)
{
    char buf[NEWSTAG_LABEL_MAX];
    size_t i;

    if (len >= sizeof buf)
        return nt_fail(err, NEWSTAG_ERR_INPUT, "label name too long: %.40s...", name);
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (!nt_valid_label(buf))
        return nt_fail(err, NEWSTAG_ERR_INPUT,
                       "bad label name \"%s\" (use a-z, 0-9 and _, starting with a letter)",
                       buf);
    for (i = 0; i < ds->num_labels; i++)
        if (strcmp(ds->labels[i], buf) == 0)
            return (int)i;
    if (ds->num_labels == NEWSTAG_MAX_LABELS)
        return nt_fail(err, NEWSTAG_ERR_INPUT, "more than %d labels",
                       NEWSTAG_MAX_LABELS);
    memcpy(ds->labels[ds->num_labels], buf, len + 1);
    return (int)ds->num_labels++;
}

static int push_item(newstag_dataset *ds, char *text, uint64_t mask,
                     newstag_error *err)
{
    if (ds->n == ds->cap) {
        size_t cap = ds->cap ? ds->cap * 2 : 256;
        nt_item *p = realloc(ds->items, cap * sizeof *p);
        if (!p) {
            free(text);
            return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
        }
        ds->items = p;
        ds->cap = cap;
    }
    ds->items[ds->n].text = text;
    ds->items[ds->n].labels = mask;
    ds->n++;
    return 0;
}

int newstag_dataset_add(newstag_dataset *ds, const char *text,
                        const char *const *labels, size_t n,
                        newstag_error *err)
{
    uint64_t mask = 0;
    size_t i;
    char *copy;

    for (i = 0; i < n; i++) {
        int id = label_id(ds, labels[i], strlen(labels[i]), err);
        if (id < 0)
            return -1;
        mask |= 1ULL << id;
    }
    if (!(copy = strdup(text ? text : "")))
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
    return push_item(ds, copy, mask, err);
}

/* Title and body fields, joined with a newline (a segment break). */
static const char *const TEXT_FIELDS[] = {
    "title", "summary", "description", "text", "content", "body",
};

char *nt_item_text(json_t *obj, const char *const *fields, size_t nfields)
{
    size_t i, len = 0;
    char *out;

    if (!fields) {
        fields = TEXT_FIELDS;
        nfields = sizeof TEXT_FIELDS / sizeof TEXT_FIELDS[0];
    }
    for (i = 0; i < nfields; i++) {
        json_t *v = json_object_get(obj, fields[i]);
        if (json_is_string(v))
            len += json_string_length(v) + 1;
    }
    out = malloc(len + 1);
    if (!out)
        return NULL;
    len = 0;
    for (i = 0; i < nfields; i++) {
        json_t *v = json_object_get(obj, fields[i]);
        if (json_is_string(v)) {
            size_t n = json_string_length(v);
            if (len)
                out[len++] = '\n';
            memcpy(out + len, json_string_value(v), n);
            for (size_t k = len; k < len + n; k++)
                if (out[k] == '\0')
                    out[k] = ' ';        /* "\u0000" in JSON: a separator */
            len += n;
        }
    }
    out[len] = '\0';
    return out;
}

static int parse_json_line(newstag_dataset *ds, const char *line, size_t n,
                           const char *where, newstag_error *err)
{
    json_error_t jerr;
    json_t *obj = json_loadb(line, n, JSON_ALLOW_NUL, &jerr), *labels, *v;
    uint64_t mask = 0;
    size_t i;
    char *text;

    if (!obj || !json_is_object(obj)) {
        json_decref(obj);
        return nt_fail(err, NEWSTAG_ERR_INPUT, "%s: %s", where,
                       obj ? "not a JSON object" : jerr.text);
    }
    labels = json_object_get(obj, "labels");
    if (!json_is_array(labels)) {
        json_decref(obj);
        return nt_fail(err, NEWSTAG_ERR_INPUT, "%s: \"labels\" must be an array",
                       where);
    }
    json_array_foreach(labels, i, v) {
        int id;
        if (!json_is_string(v)) {
            json_decref(obj);
            return nt_fail(err, NEWSTAG_ERR_INPUT, "%s: labels must be strings", where);
        }
        id = label_id(ds, json_string_value(v), json_string_length(v), err);
        if (id < 0) {
            char msg[sizeof err->text];
            snprintf(msg, sizeof msg, "%s", err ? err->text : "");
            json_decref(obj);
            return nt_fail(err, NEWSTAG_ERR_INPUT, "%.200s: %.300s", where, msg);
        }
        mask |= 1ULL << id;
    }
    text = nt_item_text(obj, NULL, 0);
    json_decref(obj);
    if (!text)
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
    return push_item(ds, text, mask, err);
}

static int parse_fasttext_line(newstag_dataset *ds, const char *line,
                               size_t n, const char *where,
                               newstag_error *err)
{
    const char *p = line, *end = line + n;
    uint64_t mask = 0;
    char *text;

    while (p < end && end - p > 9 && memcmp(p, "__label__", 9) == 0) {
        const char *name = p + 9, *q = name;
        int id;
        while (q < end && *q != ' ' && *q != '\t')
            q++;
        id = label_id(ds, name, (size_t)(q - name), err);
        if (id < 0) {
            char msg[sizeof err->text];
            snprintf(msg, sizeof msg, "%s", err ? err->text : "");
            return nt_fail(err, NEWSTAG_ERR_INPUT, "%.200s: %.300s", where, msg);
        }
        mask |= 1ULL << id;
        p = q;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
    }
    if (!(text = strndup(p, (size_t)(end - p))))
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
    return push_item(ds, text, mask, err);
}

int newstag_dataset_read_file(newstag_dataset *ds, const char *path,
                              newstag_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *line = NULL, where[300];
    size_t cap = 0, lineno = 0;
    ssize_t n;
    int rc = 0;

    nt_clear(err);
    if (!f)
        return nt_fail(err, NEWSTAG_ERR_IO, "%s: %s", path, strerror(errno));
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (lineno == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
            memmove(line, line + 3, (size_t)n - 2);   /* a UTF-8 byte order mark */
            n -= 3;
        }
        if (n == 0)
            continue;
        snprintf(where, sizeof where, "%s:%zu", path, lineno);
        if (line[0] == '{')
            rc = parse_json_line(ds, line, (size_t)n, where, err);
        else    /* fastText: "__label__a text", or text with no label */
            rc = parse_fasttext_line(ds, line, (size_t)n, where, err);
    }
    if (rc == 0 && ferror(f))
        rc = nt_fail(err, NEWSTAG_ERR_IO, "%s: read error", path);
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

void newstag_dataset_checksum(const newstag_dataset *ds, char hex[65])
{
    struct sha256_ctx ctx;
    uint8_t d[SHA256_DIGEST_SIZE];
    size_t i, k;

    sha256_init(&ctx);
    for (i = 0; i < ds->n; i++) {
        const char *t = ds->items[i].text;
        sha256_update(&ctx, strlen(t) + 1, (const uint8_t *)t);
        for (k = 0; k < ds->num_labels; k++)
            if (ds->items[i].labels & (1ULL << k))
                sha256_update(&ctx, strlen(ds->labels[k]) + 1,
                              (const uint8_t *)ds->labels[k]);
        sha256_update(&ctx, 1, (const uint8_t *)"\n");
    }
    sha256_digest(&ctx, sizeof d, d);
    for (i = 0; i < sizeof d; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}
