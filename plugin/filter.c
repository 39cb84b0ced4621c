/*
 * filter.c - one JSON item in, one JSON line out.
 *
 * A valid item is echoed exactly as it came (keys, order, number spelling
 * and all) with the topics key appended before its closing brace; it is
 * re-serialized only when that is not safe (the key already exists, or the
 * item holds a raw TAB, CR or LF between its tokens). Anything
 * else becomes {"error": ..., "line": N, "input": ...} so that every input
 * line has its output line. All number formatting here is done with
 * integers, so a host's locale cannot change the output.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <utf8proc.h>

#include "filter.h"
#include "../model/internal.h"

#define ECHO_MAX_BYTES (64u * 1024u)

/* ---- buffer ------------------------------------------------------------- */

int nt_buf_add(nt_buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        char *p;
        while (cap < b->n + n + 1)
            cap *= 2;
        if (!(p = realloc(b->s, cap)))
            return -1;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
    return 0;
}

int nt_buf_addstr(nt_buf *b, const char *s)
{
    return nt_buf_add(b, s, strlen(s));
}

void nt_buf_free(nt_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* ---- configuration -------------------------------------------------------- */

void nt_filter_init(nt_filter *f, const newstag_model *model)
{
    memset(f, 0, sizeof *f);
    f->model = model;
    snprintf(f->key, sizeof f->key, "topics");
    f->threshold = -1;
    f->max_text_bytes = NEWSTAG_DEFAULT_MAX_BYTES;
}

int nt_filter_label_mask(const newstag_model *model, const char *list,
                         uint64_t *mask, char *msg, size_t msglen)
{
    char buf[1024], *tok, *save = NULL;

    *mask = 0;
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) {
        snprintf(msg, msglen, "label list too long");
        return -1;
    }
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int i;
        while (*tok == ' ')
            tok++;
        i = newstag_model_label_index(model, tok);
        if (i < 0) {
            snprintf(msg, msglen, "unknown label \"%s\" (the model has:%s%s%s%s...)",
                     tok, newstag_model_num_labels(model) > 0 ? " " : "",
                     newstag_model_label(model, 0),
                     newstag_model_num_labels(model) > 1 ? ", " : "",
                     newstag_model_num_labels(model) > 1 ? newstag_model_label(model, 1) : "");
            return -1;
        }
        *mask |= 1ULL << i;
    }
    return 0;
}

int nt_filter_set_fields(nt_filter *f, char *list)
{
    char *tok, *save = NULL;

    f->nfields = 0;
    for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (f->nfields == NT_FILTER_MAX_FIELDS)
            return -1;
        f->fields[f->nfields++] = tok;
    }
    return f->nfields ? 0 : -1;
}

/* ---- output pieces ------------------------------------------------------- */

/* A score with 4 decimals, trailing zeros trimmed: 0.97, 0.0312, 0, 1. */
static int add_score(nt_buf *b, float s)
{
    char tmp[16];
    long v = lrintf(s * 10000.0f);
    int n;

    if (v <= 0)
        return nt_buf_add(b, "0", 1);
    if (v >= 10000)
        return nt_buf_add(b, "1", 1);
    n = snprintf(tmp, sizeof tmp, "0.%04ld", v);
    while (n > 0 && tmp[n - 1] == '0')
        n--;
    return nt_buf_add(b, tmp, (size_t)n);
}

/* Valid UTF-8 copy of raw input (bad bytes become U+FFFD), for echoing. */
static char *sanitize_utf8(const char *s, size_t n, size_t *out_len)
{
    char *out = malloc(n * 3 + 1);
    size_t i = 0, k = 0;

    if (!out)
        return NULL;
    while (i < n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              (utf8proc_ssize_t)(n - i), &cp);
        if (m <= 0) {
            cp = 0xFFFD;
            m = 1;
        }
        k += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out + k);
        i += (size_t)m;
    }
    out[k] = '\0';
    *out_len = k;
    return out;
}

/* A JSON string; invalid UTF-8 (in error texts that quote the input, say)
 * is repaired rather than refused. */
static int add_json_string(nt_buf *b, const char *s, size_t n)
{
    json_t *str = json_stringn(s, n);
    char *d;
    int rc;

    if (!str) {
        size_t clean_len;
        char *clean = sanitize_utf8(s, n, &clean_len);
        str = clean ? json_stringn(clean, clean_len) : NULL;
        free(clean);
    }
    if (!str)
        return -1;
    d = json_dumps(str, JSON_ENCODE_ANY);
    json_decref(str);
    if (!d)
        return -1;
    rc = nt_buf_addstr(b, d);
    free(d);
    return rc;
}

/* {"labels":[...],"scores":{...}} */
static int add_topics(nt_buf *b, const nt_filter *f, const float *scores,
                      uint64_t chosen)
{
    size_t L = newstag_model_num_labels(f->model), l;
    int first = 1, rc = nt_buf_addstr(b, "{\"labels\":[");

    for (l = 0; l < L && rc == 0; l++)
        if (chosen & (1ULL << l)) {
            rc |= nt_buf_addstr(b, first ? "\"" : ",\"");
            rc |= nt_buf_addstr(b, newstag_model_label(f->model, l));
            rc |= nt_buf_add(b, "\"", 1);
            first = 0;
        }
    rc |= nt_buf_addstr(b, "],\"scores\":{");
    for (l = 0; l < L && rc == 0; l++) {
        rc |= nt_buf_addstr(b, l ? ",\"" : "\"");
        rc |= nt_buf_addstr(b, newstag_model_label(f->model, l));
        rc |= nt_buf_add(b, "\":", 2);
        rc |= add_score(b, scores[l]);
    }
    rc |= nt_buf_add(b, "}}", 2);
    return rc ? -1 : 0;
}

static int error_line(nt_buf *out, const char *msg, size_t lineno,
                      const char *line, size_t len, int truncated)
{
    char num[32];
    size_t clean_len, echo = len;
    char *clean;
    int rc = 0;

    if (echo > ECHO_MAX_BYTES) {
        echo = ECHO_MAX_BYTES;
        while (echo > 0 && ((unsigned char)line[echo] & 0xC0) == 0x80)
            echo--;
        truncated = 1;
    }
    if (!(clean = sanitize_utf8(line, echo, &clean_len)))
        return -1;
    snprintf(num, sizeof num, "%zu", lineno);
    rc |= nt_buf_addstr(out, "{\"error\":");
    rc |= add_json_string(out, msg, strlen(msg));
    rc |= nt_buf_addstr(out, ",\"line\":");
    rc |= nt_buf_addstr(out, num);
    rc |= nt_buf_addstr(out, ",\"input\":");
    rc |= add_json_string(out, clean, clean_len);
    if (truncated)
        rc |= nt_buf_addstr(out, ",\"input_truncated\":true");
    rc |= nt_buf_add(out, "}", 1);
    free(clean);
    return rc ? -1 : 0;
}

/* ---- the line handler ------------------------------------------------------ */

static uint64_t choose_labels(const nt_filter *f, const float *scores)
{
    size_t L = newstag_model_num_labels(f->model), l;
    uint64_t chosen = 0;

    for (l = 0; l < L; l++) {
        double t = f->threshold >= 0 ? f->threshold
                                     : newstag_model_threshold(f->model, l);
        if (scores[l] >= t)
            chosen |= 1ULL << l;
    }
    return chosen;
}

/* TAB, CR or LF between tokens: echoing them would break line-based
 * consumers (Hadoop splits at TAB), so such items are re-serialized. */
static int has_raw_space(const char *s, size_t n)
{
    return memchr(s, '\t', n) || memchr(s, '\n', n) || memchr(s, '\r', n);
}

/* Append the item with the topics key added. */
static int item_line(nt_buf *out, const nt_filter *f, json_t *obj,
                     const char *line, size_t len, const float *scores,
                     uint64_t chosen)
{
    nt_buf topics = {0};
    int rc = 0;

    if (add_topics(&topics, f, scores, chosen) < 0) {
        nt_buf_free(&topics);
        return -1;
    }
    if (f->rsyslog) {
        rc |= nt_buf_addstr(out, "{\"$!\":{");
        rc |= add_json_string(out, f->key, strlen(f->key));
        rc |= nt_buf_add(out, ":", 1);
        rc |= nt_buf_add(out, topics.s, topics.n);
        rc |= nt_buf_add(out, "}}", 2);
    } else if (!json_object_get(obj, f->key) && !has_raw_space(line, len)) {
        /* echo the original bytes, topics appended before the last '}' */
        size_t end = len;
        while (end > 0 && line[end - 1] != '}')
            end--;
        rc |= nt_buf_add(out, line, end - 1);
        if (json_object_size(obj) > 0)
            rc |= nt_buf_add(out, ",", 1);
        rc |= add_json_string(out, f->key, strlen(f->key));
        rc |= nt_buf_add(out, ":", 1);
        rc |= nt_buf_add(out, topics.s, topics.n);
        rc |= nt_buf_add(out, "}", 1);
    } else {
        json_error_t jerr;
        json_t *t = json_loadb(topics.s, topics.n, 0, &jerr);
        char *d;
        if (!t || json_object_set_new(obj, f->key, t) < 0) {
            nt_buf_free(&topics);
            return -1;
        }
        d = json_dumps(obj, JSON_COMPACT);
        rc |= d ? nt_buf_addstr(out, d) : -1;
        free(d);
    }
    nt_buf_free(&topics);
    return rc ? -1 : 0;
}

int nt_filter_line(const nt_filter *f, newstag_ctx *ctx, const char *line,
                   size_t len, size_t lineno, int input_truncated,
                   nt_buf *out)
{
    json_error_t jerr;
    json_t *obj;
    float scores[NEWSTAG_MAX_LABELS];
    newstag_error err;
    uint64_t chosen;
    char msg[300];
    char *text;
    int rc;

    if (input_truncated)
        return error_line(out, "line too long; it was skipped", lineno, line, len,
                          1) < 0 ? NT_LINE_NOMEM : NT_LINE_OUTPUT;
    obj = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!obj || !json_is_object(obj)) {
        if (obj)
            snprintf(msg, sizeof msg, "expected a JSON object, got %s",
                     json_is_array(obj) ? "an array" : json_is_string(obj) ? "a string"
                     : json_is_number(obj) ? "a number" : json_is_null(obj) ? "null"
                     : "a boolean");
        else if (len == 0)
            snprintf(msg, sizeof msg, "empty line");
        else
            snprintf(msg, sizeof msg, "invalid JSON at column %d: %s", jerr.column,
                     jerr.text);
        json_decref(obj);
        return error_line(out, msg, lineno, line, len, 0) < 0 ? NT_LINE_NOMEM
                                                             : NT_LINE_OUTPUT;
    }
    text = nt_item_text(obj, f->nfields ? f->fields : NULL, f->nfields);
    if (!text) {
        json_decref(obj);
        return NT_LINE_NOMEM;
    }
    newstag_ctx_set_max_bytes(ctx, f->max_text_bytes);
    rc = newstag_classify(ctx, text, strlen(text), scores, NULL, &err);
    free(text);
    if (rc < 0) {
        json_decref(obj);
        return NT_LINE_NOMEM;
    }
    chosen = choose_labels(f, scores);
    if ((f->keep_mask && !(chosen & f->keep_mask)) || (chosen & f->drop_mask)) {
        json_decref(obj);
        return NT_LINE_OMITTED;
    }
    rc = item_line(out, f, obj, line, len, scores, chosen);
    json_decref(obj);
    return rc < 0 ? NT_LINE_NOMEM : NT_LINE_OUTPUT;
}
