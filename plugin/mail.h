/*
 * mail.h - the mail adapter: reading the text of an RFC 5322 / MIME message
 * and rewriting its header block, for `newstag mail`.
 */
#ifndef NEWSTAG_MAIL_H
#define NEWSTAG_MAIL_H

#include <stddef.h>

#include "filter.h"

/* Limits that keep hostile messages cheap. */
#define NT_MAIL_MAX_DEPTH 32       /* nested multiparts followed */
#define NT_MAIL_MAX_PARTS 1000     /* MIME parts looked at */

typedef struct nt_mail_stats {
    size_t parts;          /* MIME parts seen */
    size_t text_parts;     /* text/plain or text/html parts used */
    int limits_hit;        /* depth or part limit reached */
} nt_mail_stats;

/*
 * Append the text to classify — the decoded Subject and every text/plain
 * and text/html part (decoded, converted to UTF-8), at most `max_text`
 * bytes — to `text`. Returns 0, or -1 when memory runs out.
 */
int nt_mail_text(const char *msg, size_t len, size_t max_text, nt_buf *text,
                 nt_mail_stats *stats);

/*
 * Write msg to out with every X-Newstag-* field removed from its header
 * block (folded lines included) and `fields` inserted at the end of the
 * header block. `fields` holds complete field lines each ending in "\n";
 * they are written with the message's own line ending (CRLF stays CRLF).
 * Everything else is copied byte for byte. Returns 0 or -1 (memory).
 */
int nt_mail_rewrite(const char *msg, size_t len, const char *fields,
                    nt_buf *out);

#endif
