/*
 * mailbox.c - reading a mail folder one message at a time (see mailbox.h).
 *
 * mbox: the file goes through a fixed buffer a line at a time, so memory
 * stays bounded whatever the line lengths. A message runs until the next
 * From_ line: a line starting "From " that follows a blank line. The
 * blank line before a From_ line (and at the end of the file) is the
 * separator, not part of the message. One '>' is removed from each line
 * matching ^>+From  (mboxrd; this also undoes mboxo's quoting of
 * "From "). A message that outgrows the cap is read past, not kept.
 *
 * Which kind a file is comes from its first line that is not blank: a
 * From_ line makes it an mbox, a header field a single message; anything
 * else is not a mailbox.
 *
 * Maildir: the names in cur/ and new/ (not tmp/, no dot files) are listed
 * when the folder is opened and sorted by their unique part, the name
 * without ":2,FLAGS", so the order does not change when a mail reader
 * moves a message from new/ to cur/.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filter.h"
#include "mailbox.h"
#include "../model/internal.h"

#define MBOX_BUF 65536
#define HEAD_MAX 80           /* bytes of a line kept to classify it */
#define KEEP_CAPACITY (1u << 20)

struct nt_mailbox {
    nt_mailbox_kind kind;
    char *path;
    size_t max_message;
    nt_mailbox_stats stats;
    nt_buf msg;             /* the current message */
    int keep;               /* 0: the current message outgrew the cap */
    int handed;             /* msg was handed out; start afresh */
    /* mbox and message files */
    FILE *f;
    char *buf;
    size_t pos, end;
    int started;            /* a message is open (its start has been read) */
    int prev_blank;         /* the line before was blank */
    size_t prev_len;        /* ... and this long */
    /* Maildir */
    char **names;           /* "cur/NAME" and "new/NAME", sorted */
    size_t nnames, names_cap, next;
};

typedef struct line_info {
    char head[HEAD_MAX];    /* the first bytes of the line */
    size_t head_n;
    size_t len;             /* the whole line with its line ending */
    size_t start;           /* where it starts in msg (when kept) */
} line_info;

const char *nt_mailbox_kind_name(nt_mailbox_kind kind)
{
    switch (kind) {
    case NT_MAILBOX_MBOX: return "mbox";
    case NT_MAILBOX_MESSAGE: return "message file";
    default: return "Maildir";
    }
}

nt_mailbox_kind nt_mailbox_kind_of(const nt_mailbox *box)
{
    return box->kind;
}

const nt_mailbox_stats *nt_mailbox_get_stats(const nt_mailbox *box)
{
    return &box->stats;
}

/* Forget the current message; give back a large buffer. */
static void reset_message(nt_mailbox *b)
{
    if (b->msg.cap > KEEP_CAPACITY)
        nt_buf_free(&b->msg);
    b->msg.n = 0;
    b->keep = 1;
}

/* ---- lines of an mbox file ------------------------------------------------ */

static int is_blank_line(const line_info *li)
{
    return (li->len == 1 && li->head[0] == '\n') ||
           (li->len == 2 && li->head[0] == '\r' && li->head[1] == '\n');
}

static int is_from_line(const line_info *li)
{
    return li->head_n >= 5 && memcmp(li->head, "From ", 5) == 0;
}

/* "Name:" with a name of letters, digits and '-' as mail header fields
 * have in practice (not just any printable ASCII, which would let a JSON
 * line pass): the first line of a message. */
static int is_header_field(const line_info *li)
{
    size_t i;

    for (i = 0; i < li->head_n; i++) {
        char c = li->head[i];
        if (c == ':')
            return i > 0;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (i > 0 && ((c >= '0' && c <= '9') || c == '-'))))
            return 0;
    }
    return 0;
}

/* Add bytes of the current line to the message, unless it outgrew the cap. */
static int keep_bytes(nt_mailbox *b, const char *s, size_t k, newstag_error *err)
{
    if (!b->keep)
        return 0;
    if (b->msg.n + k > b->max_message) {
        b->keep = 0;
        nt_buf_free(&b->msg);
        return 0;
    }
    if (nt_buf_add(&b->msg, s, k) < 0)
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory reading %s", b->path);
    return 0;
}

/*
 * Read one line into the message (see keep_bytes) and describe it in li.
 * Returns 1, 0 at the end of the file, -1 with err set.
 */
static int read_line(nt_mailbox *b, line_info *li, newstag_error *err)
{
    li->len = li->head_n = 0;
    li->start = b->msg.n;
    for (;;) {
        const char *s, *nl;
        size_t k;
        if (b->pos == b->end) {
            b->pos = 0;
            b->end = fread(b->buf, 1, MBOX_BUF, b->f);
            if (b->end == 0) {
                if (ferror(b->f))
                    return nt_fail(err, NEWSTAG_ERR_IO, "mail folder %s: read error: %s",
                                   b->path, strerror(errno));
                return li->len > 0;
            }
        }
        s = b->buf + b->pos;
        nl = memchr(s, '\n', b->end - b->pos);
        k = nl ? (size_t)(nl - s) + 1 : b->end - b->pos;
        if (li->head_n == li->len && li->head_n < HEAD_MAX) {
            size_t take = HEAD_MAX - li->head_n < k ? HEAD_MAX - li->head_n : k;
            memcpy(li->head + li->head_n, s, take);
            li->head_n += take;
        }
        if (keep_bytes(b, s, k, err) < 0)
            return -1;
        li->len += k;
        b->pos += k;
        if (nl)
            return 1;
    }
}

/* mboxrd: a kept line ">>From x" becomes ">From x", ">From x" "From x". */
static void unquote_from(nt_mailbox *b, const line_info *li)
{
    char *s;
    size_t n, q = 0;

    if (!b->keep)                        /* a message over the cap keeps no bytes */
        return;
    s = b->msg.s + li->start;
    n = b->msg.n - li->start;
    if (n == 0 || s[0] != '>')
        return;
    while (q < n && s[q] == '>')
        q++;
    if (n - q >= 5 && memcmp(s + q, "From ", 5) == 0) {
        memmove(s, s + 1, n - 1);
        b->msg.n--;
    }
}

/* Drop the blank separator line that ends an mbox message. */
static void drop_separator(nt_mailbox *b)
{
    if (b->kind == NT_MAILBOX_MBOX && b->prev_blank && b->keep &&
        b->msg.n >= b->prev_len)
        b->msg.n -= b->prev_len;
}

/*
 * The message collected so far is complete: hand it out (1) or, when it
 * outgrew the cap, count it and go on (0).
 */
static int finish_message(nt_mailbox *b, const char **msg, size_t *len)
{
    drop_separator(b);
    b->prev_blank = 0;
    if (!b->keep) {
        b->stats.too_large++;
        reset_message(b);
        return 0;
    }
    if (!b->msg.s && nt_buf_add(&b->msg, "", 0) < 0)
        return -1;
    b->msg.s[b->msg.n] = '\0';
    b->stats.messages++;
    b->handed = 1;
    *msg = b->msg.s;
    *len = b->msg.n;
    return 1;
}

static int mbox_next(nt_mailbox *b, const char **msg, size_t *len,
                     newstag_error *err)
{
    line_info li;
    int rc;

    for (;;) {
        if ((rc = read_line(b, &li, err)) < 0)
            return -1;
        if (rc == 0) {
            if (!b->started)
                return 0;
            b->started = 0;
            if ((rc = finish_message(b, msg, len)) != 0)
                return rc < 0 ? nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory") : 1;
            return 0;
        }
        if (b->kind == NT_MAILBOX_MBOX && b->prev_blank && is_from_line(&li)) {
            if (b->keep)
                b->msg.n = li.start;          /* the From_ line is not kept */
            rc = finish_message(b, msg, len);
            if (rc != 0)
                return rc < 0 ? nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory") : 1;
            continue;
        }
        if (b->kind == NT_MAILBOX_MBOX)
            unquote_from(b, &li);
        b->prev_blank = is_blank_line(&li);
        b->prev_len = li.len;
    }
}

/* Read up to the first line that is not blank and decide the kind. */
static int open_file(nt_mailbox *b, newstag_error *err)
{
    line_info li;
    int rc;

    if (!(b->f = fopen(b->path, "rb")))
        return nt_fail(err, NEWSTAG_ERR_IO, "mail folder %s: %s", b->path, strerror(errno));
    if (!(b->buf = malloc(MBOX_BUF)))
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
    do {
        reset_message(b);
        if ((rc = read_line(b, &li, err)) < 0)
            return -1;
        if (rc == 0)
            return nt_fail(err, NEWSTAG_ERR_INPUT,
                           "mail folder %s: empty mbox file (no messages)", b->path);
    } while (is_blank_line(&li));
    b->started = 1;
    if (is_from_line(&li)) {
        b->kind = NT_MAILBOX_MBOX;
        reset_message(b);                     /* the From_ line is not kept */
    } else if (is_header_field(&li)) {
        b->kind = NT_MAILBOX_MESSAGE;
    } else {
        return nt_fail(err, NEWSTAG_ERR_INPUT,
                       "mail folder %s: not a mailbox (an mbox starts with a \"From \" "
                       "line, a message with a header field)", b->path);
    }
    return 0;
}

/* ---- Maildir ---------------------------------------------------------------- */

/* The length of a Maildir name's unique part ("NAME" of "NAME:2,S"). */
static size_t unique_len(const char *name)
{
    const char *colon = strchr(name, ':');

    return colon ? (size_t)(colon - name) : strlen(name);
}

static int cmp_maildir_names(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    const char *bx = x + 4, *by = y + 4;          /* past "cur/" or "new/" */
    size_t ux = unique_len(bx), uy = unique_len(by);
    int c = memcmp(bx, by, ux < uy ? ux : uy);

    if (c)
        return c;
    if (ux != uy)
        return ux < uy ? -1 : 1;
    if ((c = strcmp(bx, by)) != 0)
        return c;
    return strcmp(x, y);
}

static int add_name(nt_mailbox *b, const char *sub, const char *name)
{
    char *rel;

    if (b->nnames == b->names_cap) {
        size_t cap = b->names_cap ? b->names_cap * 2 : 64;
        char **p = realloc(b->names, cap * sizeof *p);
        if (!p)
            return -1;
        b->names = p;
        b->names_cap = cap;
    }
    if (!(rel = malloc(strlen(sub) + strlen(name) + 2)))
        return -1;
    sprintf(rel, "%s/%s", sub, name);
    b->names[b->nnames++] = rel;
    return 0;
}

static char *join_path(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);

    if (p)
        sprintf(p, "%s/%s", dir, name);
    return p;
}

/* List the message files of cur/ or new/. */
static int list_subdir(nt_mailbox *b, const char *sub, newstag_error *err)
{
    char *dir = join_path(b->path, sub);
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (!dir)
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
    if (!(d = opendir(dir))) {
        rc = nt_fail(err, NEWSTAG_ERR_IO, "mail folder %s: %s/: %s", b->path, sub,
                     strerror(errno));
        free(dir);
        return rc;
    }
    errno = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (e->d_type != DT_REG && e->d_type != DT_LNK && e->d_type != DT_UNKNOWN)
            continue;
        if (add_name(b, sub, e->d_name) < 0)
            rc = nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
        errno = 0;
    }
    if (rc == 0 && errno)
        rc = nt_fail(err, NEWSTAG_ERR_IO, "mail folder %s: %s/: %s", b->path, sub,
                     strerror(errno));
    closedir(d);
    free(dir);
    return rc;
}

static int is_dir(const char *dir, const char *sub)
{
    char *p = join_path(dir, sub);
    struct stat st;
    int yes = p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);

    free(p);
    return yes;
}

static int open_maildir(nt_mailbox *b, newstag_error *err)
{
    b->kind = NT_MAILBOX_MAILDIR;
    if (!is_dir(b->path, "cur") || !is_dir(b->path, "new"))
        return nt_fail(err, NEWSTAG_ERR_INPUT,
                       "mail folder %s: not a mailbox (a directory, but not a Maildir: "
                       "it needs cur/ and new/)", b->path);
    if (list_subdir(b, "cur", err) < 0 || list_subdir(b, "new", err) < 0)
        return -1;
    if (b->nnames == 0)
        return nt_fail(err, NEWSTAG_ERR_INPUT,
                       "mail folder %s: the Maildir is empty (no messages in cur/ or new/)",
                       b->path);
    qsort(b->names, b->nnames, sizeof *b->names, cmp_maildir_names);
    return 0;
}

/* Read one open Maildir file into msg: 1, 0 when it is over the cap, -1. */
static int read_maildir_file(nt_mailbox *b, int fd, const char *rel,
                             newstag_error *err)
{
    char chunk[65536];
    ssize_t n;

    reset_message(b);
    for (;;) {
        do
            n = read(fd, chunk, sizeof chunk);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return nt_fail(err, NEWSTAG_ERR_IO, "mail folder %s: %s: %s", b->path, rel,
                           strerror(errno));
        if (n == 0)
            break;
        if (keep_bytes(b, chunk, (size_t)n, err) < 0)
            return -1;
        if (!b->keep)
            return 0;
    }
    if (!b->msg.s && nt_buf_add(&b->msg, "", 0) < 0)
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
    return 1;
}

static int maildir_next(nt_mailbox *b, const char **msg, size_t *len,
                        newstag_error *err)
{
    while (b->next < b->nnames) {
        const char *rel = b->names[b->next++];
        char *full = join_path(b->path, rel);
        struct stat st;
        int fd, rc;

        if (!full)
            return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
        fd = open(full, O_RDONLY | O_CLOEXEC);
        free(full);
        if (fd < 0 && errno == ENOENT) {
            b->stats.vanished++;              /* moved or deleted meanwhile */
            continue;
        }
        if (fd < 0)
            return nt_fail(err, NEWSTAG_ERR_IO, "mail folder %s: %s: %s", b->path, rel,
                           strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            continue;
        }
        if ((unsigned long long)st.st_size > b->max_message) {
            b->stats.too_large++;
            close(fd);
            continue;
        }
        rc = read_maildir_file(b, fd, rel, err);
        close(fd);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            b->stats.too_large++;             /* it grew while we read it */
            continue;
        }
        b->stats.messages++;
        b->handed = 1;
        *msg = b->msg.s;
        *len = b->msg.n;
        return 1;
    }
    return 0;
}

/* ---- the public side ---------------------------------------------------------- */

nt_mailbox *nt_mailbox_open(const char *path, size_t max_message,
                            newstag_error *err)
{
    nt_mailbox *b = calloc(1, sizeof *b);
    struct stat st;
    int rc;

    nt_clear(err);
    if (!b || !(b->path = strdup(path))) {
        free(b);
        nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    b->max_message = max_message ? max_message : NT_MAILBOX_MAX_MESSAGE;
    b->keep = 1;
    if (stat(path, &st) < 0)
        rc = nt_fail(err, NEWSTAG_ERR_IO, "mail folder %s: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = open_maildir(b, err);
    else if (S_ISREG(st.st_mode))
        rc = open_file(b, err);
    else
        rc = nt_fail(err, NEWSTAG_ERR_INPUT,
                     "mail folder %s: not a mailbox (neither a file nor a directory)", path);
    if (rc < 0) {
        nt_mailbox_close(b);
        return NULL;
    }
    return b;
}

int nt_mailbox_next(nt_mailbox *box, const char **msg, size_t *len,
                    newstag_error *err)
{
    if (box->handed) {
        reset_message(box);
        box->handed = 0;
    }
    if (box->kind == NT_MAILBOX_MAILDIR)
        return maildir_next(box, msg, len, err);
    return mbox_next(box, msg, len, err);
}

void nt_mailbox_close(nt_mailbox *box)
{
    size_t i;

    if (!box)
        return;
    if (box->f)
        fclose(box->f);
    free(box->buf);
    for (i = 0; i < box->nnames; i++)
        free(box->names[i]);
    free(box->names);
    nt_buf_free(&box->msg);
    free(box->path);
    free(box);
}
