/*
 * cmd_mail.c - `newstag mail`: a mail filter in the manner of bogofilter's
 * passthrough mode. One message on stdin; the same message on stdout, byte
 * for byte, with X-Newstag-Topics and X-Newstag-Scores in its header block
 * (and any X-Newstag-* field the sender wrote removed).
 *
 * It fails open: whatever goes wrong, the message still goes out (with an
 * X-Newstag-Error field when one can be added) and the exit code says what
 * happened. Memory is bounded: the first MAIL_ANALYZE_MAX bytes are read and
 * analyzed, anything beyond is streamed through untouched.
 */
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mail.h"

#define MAIL_ANALYZE_MAX (32u * 1024u * 1024u)

enum { MAIL_TOPICS = 0, MAIL_NO_TOPIC = 1, MAIL_ERROR = 3 };

static void help(void)
{
    printf(
"usage: newstag mail [-m MODEL] [-e | -T] [-p] < message > message\n\n"
"Reads one RFC 5322 message and writes it back unchanged except for its\n"
"header block, where every X-Newstag-* field is removed and these added:\n"
"  X-Newstag-Topics: budget, elections      (empty when none)\n"
"  X-Newstag-Scores: party_building=0.02; budget=0.97; ...; version=%s\n"
"Subject and text parts (MIME, base64, quoted-printable, any charset iconv\n"
"knows, windows-1258 included) are classified; attachments are skipped.\n\n"
"  -m, --model DIR      model directory\n"
"  -p, --passthrough    write the message (always on; for bogofilter habits)\n"
"  -e, --embed          exit 0 whether or not a topic was found (default)\n"
"  -T, --topic-exit     exit 0 when a topic was found, 1 when none\n\n"
"Exit: 0 tagged, 1 no topic (with -T), 3 a problem: the message was still\n"
"written, unchanged but for an X-Newstag-Error field, 74 output failed.\n"
"procmail:  :0fw\n           | newstag mail\n",
        NEWSTAG_VERSION);
}

/* Read up to max bytes of stdin; *more is set when input goes on. */
static int read_message(nt_buf *msg, size_t max, int *more)
{
    char buf[65536];

    *more = 0;
    for (;;) {
        size_t room = max - msg->n, want = room < sizeof buf ? room : sizeof buf;
        ssize_t n;
        if (want == 0) {
            *more = 1;
            return 0;
        }
        do
            n = read(STDIN_FILENO, buf, want);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return -1;
        if (n == 0)
            return msg->s || nt_buf_add(msg, "", 0) == 0 ? 0 : -1;
        if (nt_buf_add(msg, buf, (size_t)n) < 0)
            return -1;
    }
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w, n -= (size_t)w;
    }
    return 0;
}

/* Copy the rest of stdin to stdout (messages larger than we analyze). */
static int stream_rest(void)
{
    char buf[65536];
    ssize_t n;

    for (;;) {
        do
            n = read(STDIN_FILENO, buf, sizeof buf);
        while (n < 0 && errno == EINTR);
        if (n == 0)
            return 0;
        if (n < 0 || write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
            return -1;
    }
}

static int add_score_fields(nt_buf *f, const newstag_model *m, const float *s)
{
    size_t L = newstag_model_num_labels(m), l;
    int first = 1, rc = nt_buf_addstr(f, "X-Newstag-Topics:");
    char num[32];

    for (l = 0; l < L; l++)
        if (s[l] >= newstag_model_threshold(m, l)) {
            rc |= nt_buf_addstr(f, first ? " " : ", ");
            rc |= nt_buf_addstr(f, newstag_model_label(m, l));
            first = 0;
        }
    rc |= nt_buf_addstr(f, "\nX-Newstag-Scores:");
    for (l = 0; l < L; l++) {
        long v = lrintf(s[l] * 100.0f);
        snprintf(num, sizeof num, "%ld.%02ld", v / 100, v % 100);
        rc |= nt_buf_addstr(f, l ? "; " : " ");
        rc |= nt_buf_addstr(f, newstag_model_label(m, l));
        rc |= nt_buf_add(f, "=", 1);
        rc |= nt_buf_addstr(f, num);
    }
    rc |= nt_buf_addstr(f, "; version=" NEWSTAG_VERSION "\n");
    return rc ? -1 : (first ? MAIL_NO_TOPIC : MAIL_TOPICS);
}

/* Classify and build our header fields. Returns MAIL_* and fills fields;
 * on a problem, fields holds an X-Newstag-Error line. */
static int tag(const char *model_path, const nt_buf *msg, nt_buf *fields)
{
    newstag_model *model;
    newstag_ctx *ctx = NULL;
    newstag_error err;
    nt_mail_stats st;
    nt_buf text = {0};
    float scores[NEWSTAG_MAX_LABELS];
    char where[4096];
    int rc = MAIL_ERROR;

    if (newstag_model_locate(model_path, where, sizeof where) < 0) {
        nt_buf_addstr(fields, "X-Newstag-Error: no model found\n");
        cli_error("no model found: give -m MODEL or set NEWSTAG_MODEL");
        return MAIL_ERROR;
    }
    if (!(model = newstag_model_load(where, &err))) {
        nt_buf_addstr(fields, "X-Newstag-Error: model could not be loaded\n");
        cli_error("cannot load model %s: %s", where, err.text);
        return MAIL_ERROR;
    }
    if (nt_mail_text(msg->s, msg->n, NEWSTAG_DEFAULT_MAX_BYTES, &text, &st) < 0 ||
        !(ctx = newstag_ctx_new(model, &err)) ||
        newstag_classify(ctx, text.s, text.n, scores, NULL, &err) < 0) {
        nt_buf_addstr(fields, "X-Newstag-Error: out of memory\n");
        cli_error("out of memory reading the message");
    } else {
        rc = add_score_fields(fields, model, scores);
        if (rc < 0) {
            fields->n = 0;
            nt_buf_addstr(fields, "X-Newstag-Error: out of memory\n");
            rc = MAIL_ERROR;
        }
    }
    nt_buf_free(&text);
    newstag_ctx_free(ctx);
    newstag_model_free(model);
    return rc;
}

int cmd_mail(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"passthrough", no_argument, 0, 'p'},
        {"embed", no_argument, 0, 'e'}, {"topic-exit", no_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *model_path = NULL;
    nt_buf msg = {0}, fields = {0}, out = {0};
    int c, topic_exit = 0, more = 0, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "m:peTh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'p': break;
        case 'e': topic_exit = 0; break;
        case 'T': topic_exit = 1; break;
        case 'h': help(); return 0;
        default: return EX_USAGE;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (read_message(&msg, MAIL_ANALYZE_MAX, &more) < 0) {
        cli_error("cannot read the message: %s", strerror(errno));
        /* pass on what we have, then whatever is left */
        rc = (msg.n && write_all(STDOUT_FILENO, msg.s, msg.n) < 0) || stream_rest() < 0
                 ? EX_IOERR : MAIL_ERROR;
        nt_buf_free(&msg);
        return rc;
    }
    rc = tag(model_path, &msg, &fields);
    if (nt_mail_rewrite(msg.s, msg.n, fields.s ? fields.s : "", &out) < 0) {
        cli_error("out of memory; message passed through unchanged");
        nt_buf_free(&out);
        out.s = msg.s, out.n = msg.n, msg.s = NULL;
        rc = MAIL_ERROR;
    }
    if (write_all(STDOUT_FILENO, out.s, out.n) < 0 || (more && stream_rest() < 0)) {
        cli_error("cannot write the message: %s", strerror(errno));
        rc = EX_IOERR;
    }
    nt_buf_free(&msg);
    nt_buf_free(&fields);
    nt_buf_free(&out);
    if (rc == MAIL_NO_TOPIC && !topic_exit)
        rc = MAIL_TOPICS;
    return rc;
}
