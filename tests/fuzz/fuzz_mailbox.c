/* fuzz_mailbox.c - libFuzzer harness: reading an arbitrary file as a mail
 * folder (mbox or single message), as `newstag train --from-mail` does.
 * The input becomes an in-memory file; every message is read back, with a
 * small size cap so that the skip path runs too. Invariants: the messages
 * never hold more bytes than the file, and each is handed out whole. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../plugin/mailbox.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    size_t total = 0;
    nt_mailbox *box;
    newstag_error err;
    const char *msg;
    size_t len;
    int rc;

    if (fd < 0)
        return 0;
    box = nt_mailbox_open(path, 4096, &err);
    if (box) {
        while ((rc = nt_mailbox_next(box, &msg, &len, &err)) == 1) {
            if (len > 4096 || (len && !msg))
                abort();
            total += len;
        }
        if (rc < 0 || total > size)
            abort();
        nt_mailbox_close(box);
    } else if (!err.text[0]) {
        abort();                          /* a refusal always says why */
    }
    close(fd);
    return 0;
}
