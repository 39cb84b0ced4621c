/*
 * main.c - the `newstag` command: a table of subcommands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_command COMMANDS[] = {
    {"classify", cmd_classify, "tag JSON Lines items on stdin"},
    {"train", cmd_train, "train a model from labeled items"},
    {"eval", cmd_eval, "measure a model on labeled items"},
    {"compare", cmd_compare, "compare two models on labeled items, with a verdict"},
    {"install-model", cmd_install, "install a model atomically (or --rollback)"},
    {"mail", cmd_mail, "tag one mail message (a filter for procmail and friends)"},
    {"info", cmd_info, "show a model's manifest"},
    {"normalize", cmd_normalize, "show text as the feature extractor sees it"},
};

#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *out)
{
    size_t i;

    fprintf(out, "usage: newstag COMMAND [OPTIONS]\n\n"
                 "Tags Vietnamese political news by topic.\n\ncommands:\n");
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-14s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(out, "\n'newstag COMMAND --help' describes a command; "
                 "'newstag --version' prints the version.\n");
}

void cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("newstag: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_flush_stdout(void)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    cli_error("cannot write output: %s", strerror(errno));
    return EX_IOERR;
}

int cli_parse_threshold(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (*end || !*s || !(v >= 0 && v <= 1)) {
        cli_error("--threshold takes a number between 0 and 1");
        return -1;
    }
    *out = v;
    return 0;
}

int cli_exit_code(const newstag_error *err)
{
    switch (err->code) {
    case NEWSTAG_ERR_NOMEM: return EX_OSERR;
    case NEWSTAG_ERR_IO: return EX_IOERR;
    case NEWSTAG_ERR_MODEL: case NEWSTAG_ERR_VERSION: return EX_CONFIG;
    case NEWSTAG_ERR_INPUT: return EX_DATAERR;
    case NEWSTAG_ERR_ARGUMENT: return EX_USAGE;
    default: return EX_SOFTWARE;
    }
}

newstag_model *cli_load_model(const char *path, int *code)
{
    char where[4096];
    newstag_error err;
    newstag_model *m;

    if (newstag_model_locate(path, where, sizeof where) < 0) {
        cli_error("no model found: give -m MODEL or set NEWSTAG_MODEL");
        *code = EX_CONFIG;
        return NULL;
    }
    m = newstag_model_load(where, &err);
    if (!m) {
        cli_error("cannot load model %s: %s", where, err.text);
        *code = cli_exit_code(&err);
    }
    return m;
}

int main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        usage(stderr);
        return EX_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("newstag %s (model format %d)\n", NEWSTAG_VERSION,
               NEWSTAG_MODEL_FORMAT_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0)
            return COMMANDS[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return EX_USAGE;
}
