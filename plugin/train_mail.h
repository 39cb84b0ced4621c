/*
 * train_mail.h - labeled mail folders as training items, for
 * `newstag train --from-mail LABEL=FOLDER` and `--dev-from-mail`.
 */
#ifndef NEWSTAG_TRAIN_MAIL_H
#define NEWSTAG_TRAIN_MAIL_H

#include "newstag.h"

/* The label that stands for "no topic" (as does an empty label). */
#define CLI_MAIL_NO_TOPIC "none"

/*
 * Check a "LABEL=FOLDER" argument of `option` before anything is read.
 * Prints why and returns -1 when it is bad.
 */
int cli_mail_check_spec(const char *spec, const char *option);

/*
 * Read every message of the n folders into ds. A message's text is what
 * `newstag mail` classifies; its labels are the labels of every folder it
 * is found in (the same Message-ID or, without one, the same text), and it
 * is added once, in the order first met. Messages without words are
 * skipped. One summary line per folder goes to stderr. Returns 0, or an
 * exit code after printing why.
 */
int cli_mail_read_folders(newstag_dataset *ds, char *const *specs, int n,
                          const char *option);

#endif
