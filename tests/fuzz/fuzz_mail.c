/* fuzz_mail.c - libFuzzer harness: MIME text extraction and header
 * rewriting on arbitrary messages. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugin/mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nt_buf text = {0}, out = {0};
    nt_mail_stats st;
    const char *fields = "X-Newstag-Topics: budget\nX-Newstag-Scores: budget=1.00\n";

    if (nt_mail_text((const char *)data, size, 65536, &text, &st) < 0)
        abort();
    if (nt_mail_rewrite((const char *)data, size, fields, &out) < 0)
        abort();
    /* never loses input: the output is at least the input minus removed
     * X-Newstag fields plus ours; it always holds our Topics field */
    if (!out.s || !memmem(out.s, out.n, "X-Newstag-Topics: budget", 24))
        abort();
    nt_buf_free(&text);
    nt_buf_free(&out);
    return 0;
}
