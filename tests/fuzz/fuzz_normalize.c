/* fuzz_normalize.c - libFuzzer harness: text normalization and n-gram
 * features on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "newstag.h"
#include "../../model/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nt_feature_config cfg = {2, NEWSTAG_ACCENTS_BOTH};
    nt_grams g = {0};
    char *a = newstag_normalize((const char *)data, size, 0, NULL, NULL);
    char *b = newstag_normalize((const char *)data, size, 1, NULL, NULL);
    char *c;

    /* normalizing is idempotent */
    if (a && (c = newstag_normalize(a, strlen(a), 0, NULL, NULL)) != NULL) {
        if (strcmp(a, c) != 0)
            abort();
        free(c);
    }
    nt_extract_grams(&cfg, (const char *)data, size, 4096, &g, NULL);
    nt_grams_free(&g);
    free(a);
    free(b);
    return 0;
}
