/*
 * mail.c - the mail adapter behind `newstag mail`.
 *
 * Two jobs, kept apart:
 *   - reading: find the text a person would read in a message — the Subject
 *     (RFC 2047 encoded words) and the text/plain and text/html parts of a
 *     MIME tree of any shape, decoded from base64 or quoted-printable and
 *     converted to UTF-8 with iconv (windows-1258, ISO-8859-x, ...).
 *     Attachments and other types are skipped; depth, part count and text
 *     size are capped so hostile messages stay cheap.
 *   - rewriting: copy the message byte for byte, except that every
 *     X-Newstag-* field (with its folded lines) is removed from the header
 *     block and our fields are added at its end, in the message's own line
 *     ending.
 * Nothing here fails on bad input: malformed parts are read as far as they
 * make sense and the rest is ignored.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail.h"

/* ---- lines and header blocks ------------------------------------------- */

/* End of the line starting at p (index just past its '\n', or len). */
static size_t line_end(const char *s, size_t len, size_t p)
{
    const char *nl = memchr(s + p, '\n', len - p);

    return nl ? (size_t)(nl - s) + 1 : len;
}

/* Is the line [p, e) empty (just "\n" or "\r\n")? */
static int is_blank(const char *s, size_t p, size_t e)
{
    return (e - p == 1 && s[p] == '\n') || (e - p == 2 && s[p] == '\r' && s[p + 1] == '\n') ||
           (e == p);
}

/* A header field line: a name of printable ASCII without ':' then ':'. */
static int is_field_line(const char *s, size_t p, size_t e)
{
    size_t i;

    for (i = p; i < e; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ':')
            return i > p;
        if (c <= 32 || c >= 127)
            return 0;
    }
    return 0;
}

static int is_continuation(const char *s, size_t p, size_t e)
{
    return e > p && (s[p] == ' ' || s[p] == '\t');
}

/*
 * The header block is [0, *hdr_end); the body starts at *body. When the
 * block ends with a blank line, *hdr_end points at that line. A message
 * without a blank line ends its header block at the first line that is not
 * a field (or at the end).
 */
static void split_header(const char *s, size_t len, size_t *hdr_end,
                         size_t *body)
{
    size_t p = 0, e;

    if (len >= 5 && memcmp(s, "From ", 5) == 0)
        p = line_end(s, len, 0);         /* mbox envelope line */
    while (p < len) {
        e = line_end(s, len, p);
        if (is_blank(s, p, e)) {
            *hdr_end = p;
            *body = e;
            return;
        }
        if (!is_field_line(s, p, e) && !(p > 0 && is_continuation(s, p, e))) {
            *hdr_end = *body = p;
            return;
        }
        p = e;
    }
    *hdr_end = *body = len;
}

/* The value of header field `name` (unfolded, first occurrence) or NULL. */
static char *header_value(const char *s, size_t hdr_len, const char *name)
{
    size_t n = strlen(name), p = 0, e;

    while (p < hdr_len) {
        e = line_end(s, hdr_len, p);
        if (e - p > n && s[p + n] == ':' && strncasecmp(s + p, name, n) == 0) {
            nt_buf v = {0};
            size_t q = p + n + 1;
            for (;;) {
                size_t k = e;
                while (k > q && (s[k - 1] == '\n' || s[k - 1] == '\r'))
                    k--;
                if (nt_buf_add(&v, s + q, k - q) < 0 || nt_buf_add(&v, " ", 1) < 0) {
                    nt_buf_free(&v);
                    return NULL;
                }
                if (e >= hdr_len || !is_continuation(s, e, line_end(s, hdr_len, e)))
                    break;
                q = e;
                e = line_end(s, hdr_len, e);
            }
            return v.s;
        }
        p = e;
    }
    return NULL;
}

/* Parameter `param` of a structured value ("text/plain; charset=utf-8"). */
static int header_param(const char *value, const char *param, char *out,
                        size_t outlen)
{
    size_t n = strlen(param);
    const char *p = value;

    while ((p = strchr(p, ';')) != NULL) {
        size_t k = 0;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, param, n) != 0 || (p[n] != '=' && p[n] != '*'))
            continue;
        p += n;
        if (*p == '*')                   /* RFC 2231: name*=charset''value */
            while (*p && *p != '=')
                p++;
        if (*p != '=')
            continue;
        p++;
        if (*p == '"') {
            for (p++; *p && *p != '"' && k + 1 < outlen; p++) {
                if (*p == '\\' && p[1])
                    p++;
                out[k++] = *p;
            }
        } else {
            const char *q = strstr(p, "''");
            if (q && q < p + 40 && !strchr(p, ';'))
                p = q + 2;
            for (; *p && *p != ';' && *p != ' ' && *p != '\t' && k + 1 < outlen; p++)
                out[k++] = *p;
        }
        out[k] = '\0';
        return k > 0;
    }
    return 0;
}

/* ---- decoding -------------------------------------------------------------- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Tolerant base64: skips junk, stops at '=', keeps what a truncated input
 * allows. */
static int decode_base64(const char *s, size_t len, nt_buf *out)
{
    unsigned acc = 0;
    int bits = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        int v;
        if (s[i] == '=')
            break;
        if ((v = b64_value((unsigned char)s[i])) < 0)
            continue;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            char c = (char)((acc >> (bits - 8)) & 0xFF);
            bits -= 8;
            if (nt_buf_add(out, &c, 1) < 0)
                return -1;
        }
    }
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Quoted-printable; `underscore_space` for RFC 2047 Q encoding. */
static int decode_qp(const char *s, size_t len, int underscore_space,
                     nt_buf *out)
{
    size_t i = 0;

    while (i < len) {
        char c = s[i];
        if (c == '=' && i + 1 < len && (s[i + 1] == '\n' ||
                                        (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n'))) {
            i += s[i + 1] == '\n' ? 2 : 3;      /* soft line break */
            continue;
        }
        if (c == '=' && i + 2 < len && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            c = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 3;
        } else {
            if (c == '_' && underscore_space)
                c = ' ';
            i++;
        }
        if (nt_buf_add(out, &c, 1) < 0)
            return -1;
    }
    return 0;
}

/* Convert to UTF-8 with iconv; bytes it cannot convert are skipped.
 * Unknown charsets are passed as they are (the normalizer repairs UTF-8). */
static int to_utf8(const char *charset, const char *s, size_t len, nt_buf *out)
{
    iconv_t cd;
    char buf[4096];
    char *in = (char *)s;
    size_t left = len;

    if (!charset || !*charset || strcasecmp(charset, "utf-8") == 0 ||
        strcasecmp(charset, "us-ascii") == 0 || strcasecmp(charset, "utf8") == 0)
        return nt_buf_add(out, s, len);
    cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1)
        return nt_buf_add(out, s, len);
    while (left > 0) {
        char *o = buf;
        size_t room = sizeof buf;
        size_t r = iconv(cd, &in, &left, &o, &room);
        if (nt_buf_add(out, buf, (size_t)(o - buf)) < 0) {
            iconv_close(cd);
            return -1;
        }
        if (r == (size_t)-1) {
            if (errno == E2BIG)
                continue;
            if (errno == EILSEQ) {           /* skip the bad byte */
                in++, left--;
                continue;
            }
            break;                           /* EINVAL: truncated at the end */
        }
    }
    {
        char *o = buf;
        size_t room = sizeof buf;
        iconv(cd, NULL, NULL, &o, &room);    /* flush shift state */
        nt_buf_add(out, buf, (size_t)(o - buf));
    }
    iconv_close(cd);
    return 0;
}

/* RFC 2047: =?charset?B?...?= and =?charset?Q?...?=; whitespace between two
 * encoded words is dropped. */
static int decode_words(const char *s, nt_buf *out)
{
    const char *p = s;
    int last_was_word = 0;

    while (*p) {
        const char *q1, *q2, *end;
        if (p[0] == '=' && p[1] == '?' && (q1 = strchr(p + 2, '?')) &&
            (q1[1] == 'B' || q1[1] == 'b' || q1[1] == 'Q' || q1[1] == 'q') &&
            q1[2] == '?' && (end = strstr(q1 + 3, "?=")) && q1 - p < 64) {
            char charset[64];
            nt_buf raw = {0};
            int rc;
            q2 = q1 + 3;
            snprintf(charset, sizeof charset, "%.*s", (int)(q1 - p - 2), p + 2);
            if (strchr(charset, '*'))
                *strchr(charset, '*') = '\0';        /* RFC 2231 language */
            rc = (q1[1] == 'B' || q1[1] == 'b')
                     ? decode_base64(q2, (size_t)(end - q2), &raw)
                     : decode_qp(q2, (size_t)(end - q2), 1, &raw);
            if (rc == 0 && raw.n)
                rc = to_utf8(charset, raw.s, raw.n, out);
            nt_buf_free(&raw);
            if (rc < 0)
                return -1;
            p = end + 2;
            last_was_word = 1;
            continue;
        }
        if (last_was_word && (*p == ' ' || *p == '\t')) {
            const char *w = p;
            while (*w == ' ' || *w == '\t')
                w++;
            if (w[0] == '=' && w[1] == '?') {
                p = w;
                continue;
            }
        }
        last_was_word = 0;
        if (nt_buf_add(out, p, 1) < 0)
            return -1;
        p++;
    }
    return 0;
}

/* ---- the MIME walk --------------------------------------------------------- */

typedef struct walk {
    nt_buf *text;
    size_t max_text;
    nt_mail_stats *stats;
    int oom;
} walk;

static int text_full(const walk *w)
{
    return w->text->n >= w->max_text;
}

static void add_text(walk *w, const char *s, size_t n)
{
    if (text_full(w))
        return;
    if (n > w->max_text - w->text->n)
        n = w->max_text - w->text->n;
    if (nt_buf_add(w->text, s, n) < 0 || nt_buf_add(w->text, "\n", 1) < 0)
        w->oom = 1;
}

static void text_part(walk *w, const char *hdr, size_t hdr_len,
                      const char *body, size_t body_len, const char *ctype)
{
    char *cte = header_value(hdr, hdr_len, "Content-Transfer-Encoding");
    char charset[64] = "";
    nt_buf raw = {0}, utf8 = {0};
    int rc = 0;

    if (ctype)
        header_param(ctype, "charset", charset, sizeof charset);
    if (cte && strcasestr(cte, "base64"))
        rc = decode_base64(body, body_len, &raw);
    else if (cte && strcasestr(cte, "quoted-printable"))
        rc = decode_qp(body, body_len, 0, &raw);
    else
        rc = nt_buf_add(&raw, body, body_len);
    if (rc == 0 && raw.n)
        rc = to_utf8(charset, raw.s, raw.n, &utf8);
    if (rc < 0)
        w->oom = 1;
    else if (utf8.n) {
        add_text(w, utf8.s, utf8.n);
        w->stats->text_parts++;
    }
    nt_buf_free(&raw);
    nt_buf_free(&utf8);
    free(cte);
}

static void walk_entity(walk *w, const char *s, size_t len, int depth);

/* Is the line at p a delimiter "--boundary" (or the close "--boundary--")? */
static int delimiter_at(const char *s, size_t len, size_t p, const char *b,
                        size_t bl, int *close)
{
    if (p + 2 + bl > len || s[p] != '-' || s[p + 1] != '-' ||
        memcmp(s + p + 2, b, bl) != 0)
        return 0;
    *close = p + 4 + bl <= len && s[p + 2 + bl] == '-' && s[p + 3 + bl] == '-';
    return 1;
}

static void walk_multipart(walk *w, const char *s, size_t len,
                           const char *boundary, int depth)
{
    size_t bl = strlen(boundary), p = 0, part_start = 0;
    int in_part = 0, close;

    while (p < len && !text_full(w) && !w->oom) {
        size_t e = line_end(s, len, p);
        if (delimiter_at(s, len, p, boundary, bl, &close)) {
            if (in_part) {
                size_t end = p;          /* the CRLF before "--" belongs to it */
                if (end > part_start && s[end - 1] == '\n')
                    end--;
                if (end > part_start && s[end - 1] == '\r')
                    end--;
                if (++w->stats->parts > NT_MAIL_MAX_PARTS) {
                    w->stats->limits_hit = 1;
                    return;
                }
                walk_entity(w, s + part_start, end - part_start, depth + 1);
            }
            if (close)
                return;
            in_part = 1;
            part_start = e;
        }
        p = e;
    }
    if (in_part && part_start < len && ++w->stats->parts <= NT_MAIL_MAX_PARTS)
        walk_entity(w, s + part_start, len - part_start, depth + 1);  /* unterminated */
}

static void walk_entity(walk *w, const char *s, size_t len, int depth)
{
    size_t hdr_end, body;
    char *ctype, *disp;
    char boundary[256];

    if (depth > NT_MAIL_MAX_DEPTH) {
        w->stats->limits_hit = 1;
        return;
    }
    split_header(s, len, &hdr_end, &body);
    ctype = header_value(s, hdr_end, "Content-Type");
    disp = header_value(s, hdr_end, "Content-Disposition");
    if (disp && strncasecmp(disp + strspn(disp, " \t"), "attachment", 10) == 0) {
        /* an attachment: not read */
    } else if (ctype && strncasecmp(ctype + strspn(ctype, " \t"), "multipart/", 10) == 0) {
        if (header_param(ctype, "boundary", boundary, sizeof boundary))
            walk_multipart(w, s + body, len - body, boundary, depth);
    } else if (ctype && strncasecmp(ctype + strspn(ctype, " \t"), "message/rfc822", 14) == 0) {
        walk_entity(w, s + body, len - body, depth + 1);
    } else if (!ctype || strncasecmp(ctype + strspn(ctype, " \t"), "text/plain", 10) == 0 ||
               strncasecmp(ctype + strspn(ctype, " \t"), "text/html", 9) == 0) {
        text_part(w, s, hdr_end, s + body, len - body, ctype);
    }
    free(ctype);
    free(disp);
}

int nt_mail_text(const char *msg, size_t len, size_t max_text, nt_buf *text,
                 nt_mail_stats *stats)
{
    walk w = {text, max_text, stats, 0};
    size_t hdr_end, body;
    char *subject;

    memset(stats, 0, sizeof *stats);
    split_header(msg, len, &hdr_end, &body);
    subject = header_value(msg, hdr_end, "Subject");
    if (subject) {
        nt_buf dec = {0};
        if (decode_words(subject, &dec) < 0)
            w.oom = 1;
        else if (dec.n)
            add_text(&w, dec.s, dec.n);
        nt_buf_free(&dec);
        free(subject);
    }
    stats->parts = 1;
    walk_entity(&w, msg, len, 0);
    if (!text->s && nt_buf_add(text, "", 0) < 0)
        w.oom = 1;
    return w.oom ? -1 : 0;
}

/* ---- rewriting the header block -------------------------------------------- */

static int is_newstag_field(const char *s, size_t p, size_t e)
{
    return e - p >= 10 && strncasecmp(s + p, "X-Newstag-", 10) == 0;
}

/* Add the fields, converting "\n" to the message's line ending. */
static int add_fields(nt_buf *out, const char *fields, int crlf)
{
    const char *p = fields, *nl;

    while ((nl = strchr(p, '\n')) != NULL) {
        if (nt_buf_add(out, p, (size_t)(nl - p)) < 0 ||
            nt_buf_add(out, crlf ? "\r\n" : "\n", crlf ? 2 : 1) < 0)
            return -1;
        p = nl + 1;
    }
    return nt_buf_addstr(out, p);
}

int nt_mail_rewrite(const char *msg, size_t len, const char *fields,
                    nt_buf *out)
{
    size_t hdr_end, body, p = 0, first_nl;
    int crlf, dropping = 0;
    const char *nl = memchr(msg, '\n', len);

    split_header(msg, len, &hdr_end, &body);
    first_nl = nl ? (size_t)(nl - msg) : len;
    crlf = nl && first_nl > 0 && msg[first_nl - 1] == '\r';
    while (p < hdr_end) {
        size_t e = line_end(msg, hdr_end, p);
        if (is_continuation(msg, p, e) && p > 0) {
            if (!dropping && nt_buf_add(out, msg + p, e - p) < 0)
                return -1;
        } else {
            dropping = is_newstag_field(msg, p, e);
            if (!dropping && nt_buf_add(out, msg + p, e - p) < 0)
                return -1;
        }
        p = e;
    }
    /* the last header line may lack its line ending (header-only message) */
    if (out->n > 0 && out->s[out->n - 1] != '\n' &&
        nt_buf_add(out, crlf ? "\r\n" : "\n", crlf ? 2 : 1) < 0)
        return -1;
    if (add_fields(out, fields, crlf) < 0)
        return -1;
    return nt_buf_add(out, msg + hdr_end, len - hdr_end);
}
