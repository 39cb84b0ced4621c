/*
 * mailbox.h - the messages of a mail folder, one at a time: an mbox file
 * (mboxo or mboxrd, LF or CRLF line endings), a file holding one message,
 * or a Maildir directory (cur/ and new/).
 */
#ifndef NEWSTAG_MAILBOX_H
#define NEWSTAG_MAILBOX_H

#include <stddef.h>

#include "newstag.h"

/* Messages larger than this are skipped (and counted), not read. */
#define NT_MAILBOX_MAX_MESSAGE (64u * 1024u * 1024u)

typedef enum {
    NT_MAILBOX_MBOX,        /* "From " lines separate the messages */
    NT_MAILBOX_MESSAGE,     /* a file with no From_ line: one message */
    NT_MAILBOX_MAILDIR      /* a directory with cur/ and new/ */
} nt_mailbox_kind;

typedef struct nt_mailbox_stats {
    size_t messages;        /* messages handed out by nt_mailbox_next */
    size_t too_large;       /* skipped: larger than the size cap */
    size_t vanished;        /* skipped: a Maildir file gone before it was read */
} nt_mailbox_stats;

typedef struct nt_mailbox nt_mailbox;

/*
 * Open a mail folder; which kind it is comes from stat and, for a file,
 * from its first line. Fails (err names the folder) when the path is
 * missing or unreadable (NEWSTAG_ERR_IO), is not a mailbox or holds no
 * message at all (NEWSTAG_ERR_INPUT). `max_message` 0 means
 * NT_MAILBOX_MAX_MESSAGE.
 */
nt_mailbox *nt_mailbox_open(const char *path, size_t max_message,
                            newstag_error *err);

/*
 * The next message: returns 1 with *msg and *len set (the bytes belong to
 * the mailbox and stay valid until the next call), 0 after the last one,
 * -1 with err set when reading fails. mbox messages come without their
 * From_ line and the blank line that separates them, with ">From " quoting
 * undone; Maildir messages in the order of their unique names (so a
 * message keeps its place when it moves from new/ to cur/).
 */
int nt_mailbox_next(nt_mailbox *box, const char **msg, size_t *len,
                    newstag_error *err);

nt_mailbox_kind nt_mailbox_kind_of(const nt_mailbox *box);
/* "mbox", "message file" or "Maildir". */
const char *nt_mailbox_kind_name(nt_mailbox_kind kind);
const nt_mailbox_stats *nt_mailbox_get_stats(const nt_mailbox *box);
void nt_mailbox_close(nt_mailbox *box);

#endif
