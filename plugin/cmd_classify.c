/*
 * cmd_classify.c - `newstag classify`: JSON Lines on stdin, the same items
 * with their topics on stdout, exactly one output line per input line
 * (only --keep and --drop leave lines out), in order.
 *
 * Lines are read in bounded memory: a line longer than --max-line is not
 * parsed but answered with an error object. Output is flushed after every
 * line unless stdout is a regular file, so the command works in lockstep
 * as a subprocess stage. A closed downstream pipe ends the run quietly.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "filter.h"

#define DEFAULT_MAX_LINE (64u * 1024u * 1024u)

static void help(void)
{
    printf(
"usage: newstag classify [-m MODEL] [--fields F1,F2] [--key KEY]\n"
"                        [--threshold X] [--keep L1,L2] [--drop L1,L2]\n"
"                        [--format json|rsyslog] [--max-bytes N] [--max-line N]\n\n"
"Reads JSON Lines on stdin and writes each item with a KEY (default\n"
"\"topics\") holding {\"labels\": [...], \"scores\": {...}}.\n\n"
"  -m, --model DIR    model directory (default: $NEWSTAG_MODEL, then the\n"
"                     installed default model)\n"
"  --fields LIST      fields holding text (default: title,summary,\n"
"                     description,text,content,body)\n"
"  --key KEY          output key (default: topics)\n"
"  --threshold X      one threshold for every label (default: the model's)\n"
"  --keep LIST        output only items with at least one of these labels\n"
"  --drop LIST        leave out items with any of these labels\n"
"  --format rsyslog   answer with {\"$!\": {KEY: ...}} only (rsyslog mmexternal)\n"
"  --max-bytes N      bytes of an item's text considered (default %u)\n"
"  --max-line N       longest input line parsed (default %u); longer lines\n"
"                     get an error object\n\n"
"A line that is not a JSON object gets {\"error\", \"line\", \"input\"}.\n"
"Exit: 0 at end of input, 64 usage, 74 I/O error, 78 model problem.\n",
        NEWSTAG_DEFAULT_MAX_BYTES, DEFAULT_MAX_LINE);
}

/* Bounded line reader over a file descriptor. */
typedef struct reader {
    int fd;
    char buf[65536];
    size_t pos, len;
    int eof;
    nt_buf line;
    size_t max_line;
} reader;

/* Returns 1 with a line (in r->line), 0 at end, -1 on read error.
 * *too_long is set when the line exceeded max_line (its head is kept). */
static int read_line(reader *r, int *too_long)
{
    int got = 0;

    r->line.n = 0;
    *too_long = 0;
    for (;;) {
        char *nl;
        size_t take;
        if (r->pos == r->len) {
            ssize_t n;
            if (r->eof)
                return got || r->line.n ? 1 : 0;
            do
                n = read(r->fd, r->buf, sizeof r->buf);
            while (n < 0 && errno == EINTR);
            if (n < 0)
                return -1;
            if (n == 0) {
                r->eof = 1;
                continue;
            }
            r->pos = 0, r->len = (size_t)n;
        }
        got = 1;
        nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
        take = (nl ? (size_t)(nl - r->buf) : r->len) - r->pos;
        if (r->line.n + take > r->max_line) {
            *too_long = 1;
            take = r->line.n < r->max_line ? r->max_line - r->line.n : 0;
        }
        if (take && nt_buf_add(&r->line, r->buf + r->pos, take) < 0)
            return -1;
        if (nl) {
            r->pos = (size_t)(nl - r->buf) + 1;
            if (!r->line.s)
                nt_buf_add(&r->line, "", 0);
            return 1;
        }
        r->pos = r->len;
    }
}

static int write_out(const char *s, size_t n, int flush)
{
    if (fwrite(s, 1, n, stdout) != n || fputc('\n', stdout) == EOF)
        return -1;
    return flush ? fflush(stdout) : 0;
}

static int output_failed(void)
{
    if (errno == EPIPE)
        return 0;                        /* the reader went away: stop quietly */
    cli_error("cannot write output: %s", strerror(errno));
    return EX_IOERR;
}

static int run(nt_filter *f, size_t max_line)
{
    static reader r;
    newstag_error err;
    newstag_ctx *ctx = newstag_ctx_new(f->model, &err);
    nt_buf out = {0};
    struct stat st;
    size_t lineno = 0;
    int flush, too_long, rc = 0, got;

    if (!ctx) {
        cli_error("%s", err.text);
        return EX_OSERR;
    }
    flush = !(fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode));
    r.fd = STDIN_FILENO;
    r.max_line = max_line;
    while ((got = read_line(&r, &too_long)) > 0) {
        size_t n = r.line.n;
        const char *s = r.line.s ? r.line.s : "";
        lineno++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (lineno == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
            s += 3, n -= 3;              /* a UTF-8 byte order mark */
        out.n = 0;
        got = nt_filter_line(f, ctx, s, n, lineno, too_long, &out);
        if (got == NT_LINE_NOMEM) {
            cli_error("out of memory at line %zu", lineno);
            rc = EX_OSERR;
            break;
        }
        if (got == NT_LINE_OUTPUT && write_out(out.s, out.n, flush) < 0) {
            rc = output_failed();
            break;
        }
    }
    if (got < 0 && rc == 0) {
        cli_error("cannot read input: %s", strerror(errno));
        rc = EX_IOERR;
    }
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
        rc = output_failed();
    nt_buf_free(&out);
    nt_buf_free(&r.line);
    newstag_ctx_free(ctx);
    return rc;
}

int cmd_classify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"fields", required_argument, 0, 'f'},
        {"key", required_argument, 0, 'k'}, {"threshold", required_argument, 0, 't'},
        {"keep", required_argument, 0, 'K'}, {"drop", required_argument, 0, 'D'},
        {"format", required_argument, 0, 'F'}, {"max-bytes", required_argument, 0, 'B'},
        {"max-line", required_argument, 0, 'L'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *model_path = NULL, *keep = NULL, *drop = NULL;
    char *fields = NULL, *end;
    char msg[256] = "bad --fields: give 1 to 32 comma-separated names";
    nt_filter f;
    newstag_model *model;
    double threshold = -1;
    unsigned long max_bytes = NEWSTAG_DEFAULT_MAX_BYTES, max_line = DEFAULT_MAX_LINE;
    int c, rsyslog = 0, code = 0;
    const char *key = "topics";

    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'f': fields = optarg; break;
        case 'k': key = optarg; break;
        case 't':
            if (cli_parse_threshold(optarg, &threshold) < 0)
                return EX_USAGE;
            break;
        case 'K': keep = optarg; break;
        case 'D': drop = optarg; break;
        case 'F':
            if (strcmp(optarg, "rsyslog") == 0)
                rsyslog = 1;
            else if (strcmp(optarg, "json") != 0) {
                cli_error("--format takes json or rsyslog");
                return EX_USAGE;
            }
            break;
        case 'B': case 'L': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || v == 0) {
                cli_error("--%s takes a positive number", c == 'B' ? "max-bytes" : "max-line");
                return EX_USAGE;
            }
            *(c == 'B' ? &max_bytes : &max_line) = v;
            break;
        }
        case 'h': help(); return 0;
        default: return EX_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("classify reads stdin; unexpected argument '%s'", argv[optind]);
        return EX_USAGE;
    }
    if (!*key || strlen(key) >= sizeof f.key) {
        cli_error("--key must be 1 to %zu bytes", sizeof f.key - 1);
        return EX_USAGE;
    }
    if (!(model = cli_load_model(model_path, &code)))
        return code;
    nt_filter_init(&f, model);
    snprintf(f.key, sizeof f.key, "%s", key);
    f.threshold = threshold;
    f.rsyslog = rsyslog;
    f.max_text_bytes = max_bytes;
    static char rsyslog_fields[] = "msg,title,summary,description,text,content,body";
    if (rsyslog && !fields)
        fields = rsyslog_fields;
    if ((fields && nt_filter_set_fields(&f, fields) < 0) ||
        (keep && nt_filter_label_mask(model, keep, &f.keep_mask, msg, sizeof msg) < 0) ||
        (drop && nt_filter_label_mask(model, drop, &f.drop_mask, msg, sizeof msg) < 0)) {
        cli_error("%s", msg);
        newstag_model_free(model);
        return EX_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    code = run(&f, max_line);
    newstag_model_free(model);
    return code;
}
