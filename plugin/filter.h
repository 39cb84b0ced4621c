/*
 * filter.h - the JSON-in/JSON-out item filter shared by `newstag classify`
 * and the plugin: one input line (one JSON item) in, one output line out.
 */
#ifndef NEWSTAG_FILTER_H
#define NEWSTAG_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "newstag.h"

#define NT_FILTER_MAX_FIELDS 32

typedef struct nt_filter {
    const newstag_model *model;
    const char *fields[NT_FILTER_MAX_FIELDS];  /* NULL entries: defaults */
    size_t nfields;
    char key[128];              /* output key, default "topics" */
    double threshold;           /* < 0: the model's per-label thresholds */
    uint64_t keep_mask;         /* output only items with one of these */
    uint64_t drop_mask;         /* omit items with any of these */
    int rsyslog;                /* answer {"$!": {...}} only */
    size_t max_text_bytes;      /* bytes of item text considered */
} nt_filter;

/* A growable output buffer. */
typedef struct nt_buf {
    char *s;
    size_t n, cap;
} nt_buf;

int nt_buf_add(nt_buf *b, const char *s, size_t n);
int nt_buf_addstr(nt_buf *b, const char *s);
void nt_buf_free(nt_buf *b);

/* Set defaults (fields, key "topics", model thresholds). */
void nt_filter_init(nt_filter *f, const newstag_model *model);
/* Parse "a,b,c" label names into a mask; -1 and a message on unknown. */
int nt_filter_label_mask(const newstag_model *model, const char *list,
                         uint64_t *mask, char *msg, size_t msglen);
/* Parse "title,summary" into f->fields (the string is kept, not copied). */
int nt_filter_set_fields(nt_filter *f, char *list);

enum { NT_LINE_OUTPUT = 1, NT_LINE_OMITTED = 0, NT_LINE_NOMEM = -1 };

/*
 * Handle one line (without its newline). Appends exactly one output line
 * (without newline) to `out` and returns NT_LINE_OUTPUT, or returns
 * NT_LINE_OMITTED when --keep/--drop filtered the item out. `lineno` is used
 * in error objects. `input_truncated` marks a line that was cut for length.
 */
int nt_filter_line(const nt_filter *f, newstag_ctx *ctx, const char *line,
                   size_t len, size_t lineno, int input_truncated,
                   nt_buf *out);

#endif
