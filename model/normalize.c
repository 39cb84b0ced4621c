/*
 * normalize.c - turn raw news text into canonical Vietnamese syllables.
 *
 * The same word reaches us in many spellings: NFC or NFD, upper or lower
 * case, old-style or new-style tone placement (hoà / hòa), with HTML tags and
 * entities around it, sometimes with invalid UTF-8. This file maps all of
 * them to one canonical token, so that every later stage sees one form:
 *
 *   1. HTML tags are skipped (block tags end a segment), entities decoded.
 *   2. Each code point is decomposed and case folded by utf8proc (NFKD +
 *      casefold); invalid UTF-8 becomes U+FFFD and is counted.
 *   3. Letters and marks are collected per syllable. The five Vietnamese tone
 *      marks are lifted off the letters, the vowel-quality marks (circumflex,
 *      breve, horn) stay on their letter, other combining marks are dropped.
 *   4. At the end of a syllable the tone is put back on the vowel chosen by
 *      one fixed rule (so hoà and hòa meet), and the syllable is recomposed
 *      to NFC by utf8proc. Optionally a diacritic-free twin is produced too
 *      (all marks dropped, đ -> d), for text typed without accents.
 *
 * Punctuation and symbols end a segment (no n-gram spans them); digits form
 * number tokens that are all written as "0".
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "internal.h"

#define TOKEN_MAX_LETTERS 48
#define TAG_MAX_BYTES 2048

enum { Q_CIRCUMFLEX = 1, Q_BREVE = 2, Q_HORN = 4 };

typedef struct letter {
    int32_t cp;        /* base code point, case folded */
    uint8_t quality;   /* Q_* marks on this letter */
} letter;

typedef struct tokenizer {
    nt_token_fn fn;
    void *user;
    int want_strip;
    newstag_text_stats *stats;
    letter letters[TOKEN_MAX_LETTERS];
    int nletters;
    int32_t tone;          /* 0 or one of the five tone marks */
    int is_number;
    int pending_sep;       /* '.' or ',' after digits: inside a number? */
    int last_was_boundary; /* suppress repeated boundaries */
} tokenizer;

static int is_tone_mark(int32_t cp)
{
    return cp == 0x0300 || cp == 0x0301 || cp == 0x0303 || cp == 0x0309 ||
           cp == 0x0323;
}

static uint8_t quality_of(int32_t cp)
{
    switch (cp) {
    case 0x0302: return Q_CIRCUMFLEX;
    case 0x0306: return Q_BREVE;
    case 0x031B: return Q_HORN;
    default: return 0;
    }
}

static int is_vowel(int32_t cp)
{
    return cp == 'a' || cp == 'e' || cp == 'i' || cp == 'o' || cp == 'u' ||
           cp == 'y';
}

/*
 * Which letter carries the tone. Any fixed rule makes old and new spellings
 * meet; this one follows the "new style" (hoà, thuỷ, khoẻ) so that the
 * normalized text reads naturally.
 */
static int tone_position(const letter *l, int n)
{
    int v[TOKEN_MAX_LETTERS];
    int nv = 0, i, start = 0;

    if (n >= 2 && l[0].cp == 'q' && l[1].cp == 'u')
        start = 2;                       /* qu-: u is part of the onset */
    else if (n >= 3 && l[0].cp == 'g' && l[1].cp == 'i' && is_vowel(l[2].cp))
        start = 2;                       /* gi- before a vowel */
    for (i = start; i < n; i++) {
        if (is_vowel(l[i].cp))
            v[nv++] = i;
        else if (nv > 0)
            break;                       /* the coda starts */
    }
    if (nv == 0) {
        for (i = 0; i < n; i++)          /* gì, qu? fall back to any vowel */
            if (is_vowel(l[i].cp))
                return i;
        return n - 1;
    }
    for (i = nv - 1; i >= 0; i--)
        if (l[v[i]].quality)
            return v[i];
    if (nv == 1)
        return v[0];
    if (v[nv - 1] + 1 < n)               /* closed syllable: last vowel */
        return v[nv - 1];
    if (nv >= 3)
        return v[1];
    if ((l[v[0]].cp == 'o' && (l[v[1]].cp == 'a' || l[v[1]].cp == 'e')) ||
        (l[v[0]].cp == 'u' && l[v[1]].cp == 'y'))
        return v[1];
    return v[0];
}

/* Append one letter (with its marks in canonical order) as UTF-32. */
static int emit_letter(const letter *l, int32_t tone, int32_t *out)
{
    int k = 0;

    out[k++] = l->cp;
    if (l->quality & Q_HORN)
        out[k++] = 0x031B;               /* combining class 216 */
    if (tone == 0x0323)
        out[k++] = tone;                 /* combining class 220 */
    if (l->quality & Q_CIRCUMFLEX)
        out[k++] = 0x0302;               /* class 230, before the tone */
    if (l->quality & Q_BREVE)
        out[k++] = 0x0306;
    if (tone && tone != 0x0323)
        out[k++] = tone;
    return k;
}

static size_t utf32_to_utf8(const int32_t *cps, size_t n, char *out)
{
    size_t len = 0, i;

    for (i = 0; i < n; i++)
        len += (size_t)utf8proc_encode_char(cps[i], (utf8proc_uint8_t *)out + len);
    out[len] = '\0';
    return len;
}

static void flush_token(tokenizer *t)
{
    int32_t cps[TOKEN_MAX_LETTERS * 5];
    char keep[TOKEN_MAX_LETTERS * 5 * 4 + 1];
    char strip[TOKEN_MAX_LETTERS * 4 + 1];
    size_t keep_len, strip_len = 0;
    int i, k = 0, pos;

    if (t->nletters == 0)
        return;
    if (t->is_number) {
        t->fn(t->user, "0", 1, t->want_strip ? "0" : NULL, 1);
    } else {
        pos = t->tone ? tone_position(t->letters, t->nletters) : -1;
        for (i = 0; i < t->nletters; i++)
            k += emit_letter(&t->letters[i], i == pos ? t->tone : 0, cps + k);
        k = (int)utf8proc_normalize_utf32(cps, k, UTF8PROC_COMPOSE);
        keep_len = utf32_to_utf8(cps, (size_t)(k < 0 ? 0 : k), keep);
        if (t->want_strip) {
            for (i = 0; i < t->nletters; i++) {
                int32_t c = t->letters[i].cp == 0x0111 ? 'd' : t->letters[i].cp;
                strip_len += (size_t)utf8proc_encode_char(
                    c, (utf8proc_uint8_t *)strip + strip_len);
            }
            strip[strip_len] = '\0';
        }
        t->fn(t->user, keep, keep_len, t->want_strip ? strip : NULL, strip_len);
    }
    if (t->stats)
        t->stats->syllables++;
    t->nletters = 0;
    t->tone = 0;
    t->is_number = 0;
    t->last_was_boundary = 0;
}

static void boundary(tokenizer *t)
{
    flush_token(t);
    if (!t->last_was_boundary) {
        t->fn(t->user, NULL, 0, NULL, 0);
        t->last_was_boundary = 1;
    }
}

static void add_letter(tokenizer *t, int32_t cp, int number)
{
    if (t->nletters > 0 && t->is_number != number)
        flush_token(t);
    if (t->nletters == TOKEN_MAX_LETTERS)
        return;                          /* over-long token: keep its head */
    t->is_number = number;
    t->letters[t->nletters].cp = cp;
    t->letters[t->nletters].quality = 0;
    t->nletters++;
}

static void add_mark(tokenizer *t, int32_t cp)
{
    uint8_t q;

    if (t->nletters == 0 || t->is_number)
        return;                          /* a stray mark: ignore */
    if (is_tone_mark(cp)) {
        t->tone = cp;
        return;
    }
    q = quality_of(cp);
    if (q)
        t->letters[t->nletters - 1].quality |= q;
}

/* Feed one decoded (NFKD, case-folded) code point. */
static void feed_decomposed(tokenizer *t, int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        add_letter(t, cp, 0);
        break;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        add_mark(t, cp);
        break;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        add_letter(t, cp, 1);
        break;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
        if (cp == '\n' || cp == '\r')
            boundary(t);
        else
            flush_token(t);
        break;
    default:                             /* punctuation, symbols, ... */
        boundary(t);
        break;
    }
}

static void feed_codepoint(tokenizer *t, int32_t cp)
{
    utf8proc_int32_t buf[32];
    utf8proc_ssize_t n, i;
    int boundclass = 0;

    /* Keep "1.500" and "3,5" as one number token; "2026, thu" is a break. */
    if (t->pending_sep) {
        t->pending_sep = 0;
        if (!(cp >= '0' && cp <= '9'))
            boundary(t);
    }
    if ((cp == '.' || cp == ',') && t->is_number && t->nletters > 0) {
        t->pending_sep = 1;
        return;
    }
    n = utf8proc_decompose_char(cp, buf, 32,
                                UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT |
                                UTF8PROC_CASEFOLD, &boundclass);
    if (n < 0 || n > 32) {
        feed_decomposed(t, 0xFFFD);
        return;
    }
    for (i = 0; i < n; i++)
        feed_decomposed(t, buf[i]);
}

/* ---- HTML ---------------------------------------------------------------- */

typedef struct entity { const char *name; int32_t cp; } entity;

/* Named entities that occur in Vietnamese feeds (HTML 4 Latin-1 letters used
 * by Vietnamese, and common punctuation). */
static const entity ENTITIES[] = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''},
    {"nbsp", 0xA0}, {"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026},
    {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
    {"laquo", 0xAB}, {"raquo", 0xBB}, {"middot", 0xB7}, {"bull", 0x2022},
    {"copy", 0xA9}, {"reg", 0xAE}, {"deg", 0xB0}, {"percnt", '%'},
    {"Agrave", 0xC0}, {"Aacute", 0xC1}, {"Acirc", 0xC2}, {"Atilde", 0xC3},
    {"Egrave", 0xC8}, {"Eacute", 0xC9}, {"Ecirc", 0xCA}, {"Igrave", 0xCC},
    {"Iacute", 0xCD}, {"ETH", 0xD0}, {"Ograve", 0xD2}, {"Oacute", 0xD3},
    {"Ocirc", 0xD4}, {"Otilde", 0xD5}, {"Ugrave", 0xD9}, {"Uacute", 0xDA},
    {"Yacute", 0xDD}, {"agrave", 0xE0}, {"aacute", 0xE1}, {"acirc", 0xE2},
    {"atilde", 0xE3}, {"egrave", 0xE8}, {"eacute", 0xE9}, {"ecirc", 0xEA},
    {"igrave", 0xEC}, {"iacute", 0xED}, {"eth", 0xF0}, {"ograve", 0xF2},
    {"oacute", 0xF3}, {"ocirc", 0xF4}, {"otilde", 0xF5}, {"ugrave", 0xF9},
    {"uacute", 0xFA}, {"yacute", 0xFD},
};

/* Decode "&...;" at s (s[0] == '&'). Returns bytes consumed, 0 if none. */
static size_t decode_entity(const char *s, size_t avail, int32_t *cp)
{
    size_t i, end;
    long v = 0;

    for (end = 1; end < avail && end < 12 && s[end] != ';'; end++)
        ;
    if (end >= avail || s[end] != ';' || end < 2)
        return 0;
    if (s[1] == '#') {
        int hex = end > 2 && (s[2] == 'x' || s[2] == 'X');
        for (i = hex ? 3 : 2; i < end; i++) {
            char c = s[i];
            int d = c >= '0' && c <= '9' ? c - '0'
                  : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                return 0;
            v = v * (hex ? 16 : 10) + d;
        }
        if (i == (hex ? 3u : 2u))
            return 0;
        *cp = utf8proc_codepoint_valid((utf8proc_int32_t)v) ? (int32_t)v : 0xFFFD;
        return end + 1;
    }
    for (i = 0; i < sizeof ENTITIES / sizeof ENTITIES[0]; i++) {
        size_t n = strlen(ENTITIES[i].name);
        if (n == end - 1 && memcmp(s + 1, ENTITIES[i].name, n) == 0) {
            *cp = ENTITIES[i].cp;
            return end + 1;
        }
    }
    return 0;
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int tag_name_is(const char *s, size_t n, const char *name)
{
    size_t k = strlen(name), i;

    if (n < k)
        return 0;
    for (i = 0; i < k; i++)
        if (ascii_lower((unsigned char)s[i]) != name[i])
            return 0;
    return n == k || !((s[k] >= 'a' && s[k] <= 'z') ||
                       (s[k] >= 'A' && s[k] <= 'Z') ||
                       (s[k] >= '0' && s[k] <= '9'));
}

static int is_block_tag(const char *name, size_t n)
{
    static const char *const BLOCK[] = {
        "p", "br", "div", "li", "ul", "ol", "tr", "td", "th", "table",
        "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section",
        "article", "header", "footer", "hr", "title", "figcaption",
    };
    size_t i;

    for (i = 0; i < sizeof BLOCK / sizeof BLOCK[0]; i++)
        if (tag_name_is(name, n, BLOCK[i]))
            return 1;
    return 0;
}

/* Find the end of a raw-text element such as </script>. */
static size_t skip_raw_element(const char *s, size_t avail, const char *name)
{
    size_t i, k = strlen(name);

    for (i = 0; i + 2 + k < avail; i++)
        if (s[i] == '<' && s[i + 1] == '/' && tag_name_is(s + i + 2, avail - i - 2, name))
            return i;
    return avail;
}

/*
 * If s starts an HTML tag or comment, return the bytes it spans (0 if not a
 * tag). *block is set when the tag should end a segment.
 */
static size_t html_tag_length(const char *s, size_t avail, int *block)
{
    size_t i, name_at;
    char c;

    *block = 0;
    if (avail < 3)
        return 0;
    c = s[1];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' ||
          c == '!' || c == '?'))
        return 0;
    if (avail >= 4 && memcmp(s, "<!--", 4) == 0) {
        const char *end = NULL;
        for (i = 4; i + 2 < avail; i++)
            if (s[i] == '-' && s[i + 1] == '-' && s[i + 2] == '>') {
                end = s + i + 3;
                break;
            }
        return end ? (size_t)(end - s) : 0;
    }
    for (i = 1; i < avail && i < TAG_MAX_BYTES; i++)
        if (s[i] == '>')
            break;
    if (i >= avail || s[i] != '>')
        return 0;
    name_at = c == '/' ? 2 : 1;
    *block = is_block_tag(s + name_at, i - name_at);
    i++;
    if (c != '/') {
        if (tag_name_is(s + 1, avail - 1, "script"))
            i += skip_raw_element(s + i, avail - i, "script"), *block = 1;
        else if (tag_name_is(s + 1, avail - 1, "style"))
            i += skip_raw_element(s + i, avail - i, "style"), *block = 1;
    }
    return i;
}

/* ---- driver ------------------------------------------------------------ */

void nt_tokenize(const char *text, size_t len, size_t max_bytes,
                 int want_strip, nt_token_fn fn, void *user,
                 newstag_text_stats *stats)
{
    tokenizer t;
    size_t pos = 0, limit = len;

    memset(&t, 0, sizeof t);
    t.fn = fn;
    t.user = user;
    t.want_strip = want_strip;
    t.stats = stats;
    t.last_was_boundary = 1;
    if (max_bytes && limit > max_bytes) {
        limit = max_bytes;
        while (limit > 0 && ((unsigned char)text[limit] & 0xC0) == 0x80)
            limit--;                     /* cut at a character boundary */
        if (stats)
            stats->truncated = 1;
    }
    while (pos < limit) {
        const char *s = text + pos;
        size_t avail = limit - pos, n;
        utf8proc_int32_t cp;
        int block;

        if (*s == '<' && (n = html_tag_length(s, avail, &block)) > 0) {
            if (block)
                boundary(&t);
            else
                flush_token(&t);
            pos += n;
            continue;
        }
        if (*s == '&' && (n = decode_entity(s, avail, &cp)) > 0) {
            feed_codepoint(&t, cp);
            pos += n;
            continue;
        }
        n = (size_t)utf8proc_iterate((const utf8proc_uint8_t *)s,
                                     (utf8proc_ssize_t)avail, &cp);
        if ((utf8proc_ssize_t)n <= 0 || cp < 0) {
            if (stats)
                stats->invalid_utf8++;
            cp = 0xFFFD;
            n = 1;
        }
        if (cp == 0)
            cp = ' ';                    /* NUL bytes separate like spaces */
        feed_codepoint(&t, cp);
        pos += n;
    }
    flush_token(&t);
    if (stats)
        stats->bytes_used += limit;
}

/* ---- public: normalized text ------------------------------------------- */

typedef struct text_buf {
    char *s;
    size_t n, cap;
    int strip;
    int oom;
} text_buf;

static void buf_append(text_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        char *p;
        while (cap < b->n + n + 1)
            cap *= 2;
        p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void collect_token(void *user, const char *keep, size_t keep_len,
                          const char *strip, size_t strip_len)
{
    text_buf *b = user;

    if (!keep) {
        if (b->n > 0)
            buf_append(b, " |", 2);
        return;
    }
    if (b->n > 0)
        buf_append(b, " ", 1);
    if (b->strip)
        buf_append(b, strip, strip_len);
    else
        buf_append(b, keep, keep_len);
}

char *newstag_normalize(const char *text, size_t len, int strip_accents,
                        newstag_text_stats *stats, newstag_error *err)
{
    text_buf b = {0};

    nt_clear(err);
    if (!text && len) {
        nt_fail(err, NEWSTAG_ERR_ARGUMENT, "text is NULL");
        return NULL;
    }
    b.strip = strip_accents;
    if (stats)
        memset(stats, 0, sizeof *stats);
    buf_append(&b, "", 0);
    nt_tokenize(text, len, 0, strip_accents, collect_token, &b, stats);
    if (b.n >= 2 && memcmp(b.s + b.n - 2, " |", 2) == 0)
        b.s[b.n -= 2] = '\0';
    if (b.oom) {
        free(b.s);
        nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory normalizing text");
        return NULL;
    }
    return b.s;
}
