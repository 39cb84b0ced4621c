/*
 * newstag_plugin.h - the plugin ABI of build/newstag_filter.so.
 *
 * The shared object exports one symbol, newstag_plugin_entry(), which
 * returns a static table of functions. A host dlopen()s the object, checks
 * abi_version, opens a handle with a JSON configuration and passes JSON
 * items to process(). process() may be called concurrently from many threads
 * on one handle, and works whatever locale the host has set.
 *
 * config_json (all members optional; "{}" means defaults):
 *   {"model": "/path/to/model", "fields": ["title", "text"] or "title,text",
 *    "key": "topics", "threshold": 0.5, "max_bytes": 262144}
 *
 * process() takes one JSON item (or a JSON array of items) and returns what
 * `newstag classify` prints for it, without the newline: the item with the
 * key added, or {"error": ..., "line": 1, "input": ...} for bad input; for
 * an array, a JSON array of those. The result is NUL-terminated, its length
 * is stored in *out_len, and it is released with free_output(). It is NULL
 * only when memory runs out.
 */
#ifndef NEWSTAG_PLUGIN_H
#define NEWSTAG_PLUGIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NEWSTAG_PLUGIN_ABI_VERSION 1

struct newstag_plugin_api {
    unsigned abi_version;            /* NEWSTAG_PLUGIN_ABI_VERSION */
    const char *name;                /* "newstag" */
    const char *version;             /* library version */
    void *(*open)(const char *config_json, char *err, size_t errlen);
    char *(*process)(void *handle, const char *json, size_t len, size_t *out_len);
    void  (*free_output)(char *out);
    void  (*close)(void *handle);
};

const struct newstag_plugin_api *newstag_plugin_entry(void);

#ifdef __cplusplus
}
#endif
#endif /* NEWSTAG_PLUGIN_H */
