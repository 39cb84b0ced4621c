/* fuzz_dataset.c - libFuzzer harness: reading an arbitrary file as labeled
 * training data (JSON Lines and fastText lines), as `newstag train` and
 * `newstag eval` do. Invariants: a refusal always says why; an accepted
 * file gives items whose labels are valid label names. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "newstag.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    size_t i;
    newstag_dataset *ds;
    newstag_error err;

    if (fd < 0)
        return 0;
    if (!(ds = newstag_dataset_new()))
        abort();
    if (newstag_dataset_read_file(ds, path, &err) < 0) {
        if (!err.text[0])
            abort();
    } else {
        for (i = 0; i < newstag_dataset_num_labels(ds); i++) {
            const char *l = newstag_dataset_label(ds, i);
            if (!l || !*l || strlen(l) >= NEWSTAG_LABEL_MAX)
                abort();
        }
        for (i = 0; i < newstag_dataset_size(ds); i++)
            if (!newstag_dataset_text(ds, i))
                abort();
    }
    newstag_dataset_free(ds);
    close(fd);
    return 0;
}
