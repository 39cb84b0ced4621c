/* fuzz_classify.c - libFuzzer harness: the classify line handler (JSON in,
 * one JSON line out) with the shipped model. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugin/filter.h"

static newstag_model *model;
static newstag_ctx *ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nt_filter f;
    nt_buf out = {0};
    json_t *o;

    if (!model) {
        const char *m = getenv("NEWSTAG_FUZZ_MODEL");
        model = newstag_model_load(m ? m : "model/default", NULL);
        if (!model || !(ctx = newstag_ctx_new(model, NULL)))
            abort();
    }
    nt_filter_init(&f, model);
    if (nt_filter_line(&f, ctx, (const char *)data, size, 1, 0, &out) != NT_LINE_OUTPUT)
        abort();
    /* the output is always one valid JSON object on one line */
    o = json_loadb(out.s, out.n, JSON_ALLOW_NUL, NULL);
    if (!json_is_object(o) || memchr(out.s, '\n', out.n))
        abort();
    json_decref(o);
    nt_buf_free(&out);
    return 0;
}
