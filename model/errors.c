/*
 * errors.c - filling the caller's newstag_error struct.
 * The library reports every failure this way and never prints.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int nt_fail(newstag_error *err, newstag_code code, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof err->text, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void nt_clear(newstag_error *err)
{
    if (err) {
        err->code = NEWSTAG_OK;
        err->text[0] = '\0';
    }
}
