/*
 * json-floor.c - the least any JSON Lines classifier built on jansson can
 * spend: read each line and parse it with json_loadb (the flags newstag
 * uses), nothing else. bench/json-floor compares it with newstag classify.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long items = 0, bad = 0;

    while ((n = getline(&line, &cap, stdin)) > 0) {
        json_error_t e;
        json_t *j = json_loadb(line, (size_t)n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        if (j)
            items++;
        else
            bad++;
        json_decref(j);
    }
    free(line);
    printf("%ld items parsed, %ld not JSON\n", items, bad);
    return 0;
}
