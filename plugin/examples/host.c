/*
 * host.c - a minimal host for the newstag filter plugin.
 *
 *   cc -o host plugin/examples/host.c -Iinclude -ldl
 *   ./host build/newstag_filter.so '{}' < items.jsonl
 *
 * Loads the plugin, opens a handle with the given JSON configuration and
 * passes every input line through process().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "newstag_plugin.h"

int main(int argc, char **argv)
{
    const struct newstag_plugin_api *(*entry)(void);
    const struct newstag_plugin_api *api;
    char err[512], *line = NULL;
    size_t cap = 0;
    ssize_t n;
    void *so, *h;

    if (argc < 2) {
        fprintf(stderr, "usage: %s PLUGIN.so [CONFIG_JSON] < items.jsonl\n", argv[0]);
        return 64;
    }
    if (!(so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL))) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 69;
    }
    *(void **)&entry = dlsym(so, "newstag_plugin_entry");
    if (!entry || !(api = entry()) || api->abi_version != NEWSTAG_PLUGIN_ABI_VERSION) {
        fprintf(stderr, "%s: not a newstag plugin of ABI %d\n", argv[1],
                NEWSTAG_PLUGIN_ABI_VERSION);
        return 69;
    }
    if (!(h = api->open(argc > 2 ? argv[2] : "{}", err, sizeof err))) {
        fprintf(stderr, "open: %s\n", err);
        return 78;
    }
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        size_t out_len;
        char *out;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (!(out = api->process(h, line, (size_t)n, &out_len))) {
            fprintf(stderr, "out of memory\n");
            break;
        }
        fwrite(out, 1, out_len, stdout);
        putchar('\n');
        api->free_output(out);
    }
    free(line);
    api->close(h);
    dlclose(so);
    return 0;
}
