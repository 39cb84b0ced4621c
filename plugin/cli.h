/*
 * cli.h - what the `newstag` subcommands share: exit codes (sysexits
 * style), model loading and message helpers.
 */
#ifndef NEWSTAG_CLI_H
#define NEWSTAG_CLI_H

#include <stdio.h>
#include <sysexits.h>

#include "newstag.h"

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

int cmd_classify(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_normalize(int argc, char **argv);
int cmd_mail(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_install(int argc, char **argv);

/* Print "newstag: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Locate and load the model (-m, $NEWSTAG_MODEL, installed, source tree).
 * On failure prints why and returns NULL; *code gets the exit code. */
newstag_model *cli_load_model(const char *path, int *code);
/* Parse a threshold in [0, 1]; prints why and returns -1 when it is not. */
int cli_parse_threshold(const char *s, double *out);
/* Flush stdout at the end of a command: 0, or EX_IOERR with a message. */
int cli_flush_stdout(void);
/* Exit code for a library error. */
int cli_exit_code(const newstag_error *err);

#endif
