/* fuzz_manifest.c - libFuzzer harness: the model loader given an arbitrary
 * manifest.json next to real feature and network files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "newstag.h"

static char dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[128];
    FILE *f;
    newstag_error err;
    newstag_model *m;

    if (!dir[0]) {
        const char *src = getenv("NEWSTAG_FUZZ_MODEL");
        char cmd[512];
        snprintf(dir, sizeof dir, "/tmp/newstag-fuzz-manifest-%d", (int)getpid());
        snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s && rm -f %s/network.bin",
                 dir, src ? src : "model/default", dir, dir);
        if (system(cmd) != 0)
            abort();
    }
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    if (!(f = fopen(path, "wb")))
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    m = newstag_model_load(dir, &err);
    if (!m && err.code == NEWSTAG_OK)
        abort();                         /* a failure always says why */
    newstag_model_free(m);
    return 0;
}
