/*
 * plugin.c - the filter plugin (build/newstag_filter.so): the JSON-in /
 * JSON-out item filter of `newstag classify` behind the ABI of
 * include/newstag_plugin.h.
 *
 * One handle holds the immutable model and the filter settings. Scratch
 * state (newstag_ctx) comes from a small mutex-protected pool, so any number
 * of threads can call process() on one handle; the lock is held only to
 * take or return a context, never while classifying.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "filter.h"
#include "newstag_plugin.h"

typedef struct ctx_node {
    newstag_ctx *ctx;
    struct ctx_node *next;
} ctx_node;

typedef struct plugin_handle {
    newstag_model *model;
    nt_filter filter;
    char *fields;               /* storage for filter.fields */
    pthread_mutex_t lock;
    ctx_node *free_ctx;
} plugin_handle;

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* "fields" may be "a,b" or ["a","b"]; stored as "a,b" for the filter. */
static char *fields_string(json_t *v)
{
    nt_buf b = {0};
    size_t i;
    json_t *x;

    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (!json_is_array(v) || json_array_size(v) == 0)
        return NULL;
    json_array_foreach(v, i, x) {
        if (!json_is_string(x) || (i && nt_buf_add(&b, ",", 1) < 0) ||
            nt_buf_addstr(&b, json_string_value(x)) < 0) {
            nt_buf_free(&b);
            return NULL;
        }
    }
    return b.s;
}

static int configure(plugin_handle *h, json_t *cfg, char *err, size_t errlen)
{
    json_t *key = json_object_get(cfg, "key"), *thr = json_object_get(cfg, "threshold");
    json_t *fields = json_object_get(cfg, "fields"), *maxb = json_object_get(cfg, "max_bytes");

    nt_filter_init(&h->filter, h->model);
    if (key) {
        if (!json_is_string(key) || json_string_length(key) == 0 ||
            json_string_length(key) >= sizeof h->filter.key) {
            set_err(err, errlen, "config: \"key\" must be a non-empty string");
            return -1;
        }
        snprintf(h->filter.key, sizeof h->filter.key, "%s", json_string_value(key));
    }
    if (thr) {
        if (!json_is_number(thr) || json_number_value(thr) < 0 || json_number_value(thr) > 1) {
            set_err(err, errlen, "config: \"threshold\" must be a number in [0,1]");
            return -1;
        }
        h->filter.threshold = json_number_value(thr);
    }
    if (maxb) {
        if (!json_is_integer(maxb) || json_integer_value(maxb) < 1) {
            set_err(err, errlen, "config: \"max_bytes\" must be a positive integer");
            return -1;
        }
        h->filter.max_text_bytes = (size_t)json_integer_value(maxb);
    }
    if (fields) {
        if (!(h->fields = fields_string(fields)) ||
            nt_filter_set_fields(&h->filter, h->fields) < 0) {
            set_err(err, errlen, "config: \"fields\" must be a list of field names");
            return -1;
        }
    }
    return 0;
}

static void plugin_close(void *handle)
{
    plugin_handle *h = handle;
    ctx_node *n, *next;

    if (!h)
        return;
    for (n = h->free_ctx; n; n = next) {
        next = n->next;
        newstag_ctx_free(n->ctx);
        free(n);
    }
    pthread_mutex_destroy(&h->lock);
    newstag_model_free(h->model);
    free(h->fields);
    free(h);
}

/* No model configured: the usual places, then the source tree this shared
 * object was built in (<tree>/build/newstag_filter.so -> <tree>/model/default). */
static int locate_model(const char *configured, char *out, size_t outlen)
{
    Dl_info info;
    char dir[4096], *slash;
    int up;

    if (newstag_model_locate(configured, out, outlen) == 0)
        return 0;
    if (!dladdr((void *)locate_model, &info) || !info.dli_fname ||
        snprintf(dir, sizeof dir, "%s", info.dli_fname) >= (int)sizeof dir)
        return -1;
    for (up = 0; up < 3 && (slash = strrchr(dir, '/')) != NULL; up++) {
        *slash = '\0';
        if (snprintf(out, outlen, "%s/model/default/manifest.json", dir) < (int)outlen &&
            access(out, R_OK) == 0) {
            snprintf(out, outlen, "%s/model/default", dir);
            return 0;
        }
    }
    return -1;
}

static void *plugin_open(const char *config_json, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *cfg = json_loads(config_json && *config_json ? config_json : "{}", 0, &jerr);
    json_t *model = json_object_get(cfg, "model");
    plugin_handle *h;
    char path[4096], msg[700];
    newstag_error e;

    if (!json_is_object(cfg)) {
        snprintf(msg, sizeof msg, "config is not a JSON object: %s", cfg ? "" : jerr.text);
        set_err(err, errlen, msg);
        json_decref(cfg);
        return NULL;
    }
    if (model && !json_is_string(model)) {
        set_err(err, errlen, "config: \"model\" must be a path");
        json_decref(cfg);
        return NULL;
    }
    if (locate_model(json_string_value(model), path, sizeof path) < 0) {
        set_err(err, errlen, "no model found: set \"model\" or NEWSTAG_MODEL");
        json_decref(cfg);
        return NULL;
    }
    h = calloc(1, sizeof *h);
    if (!h || pthread_mutex_init(&h->lock, NULL) != 0) {
        free(h);
        set_err(err, errlen, "out of memory");
        json_decref(cfg);
        return NULL;
    }
    h->model = newstag_model_load(path, &e);
    if (!h->model) {
        snprintf(msg, sizeof msg, "cannot load model %.160s: %.500s", path, e.text);
        set_err(err, errlen, msg);
        pthread_mutex_destroy(&h->lock);
        free(h);
        json_decref(cfg);
        return NULL;
    }
    if (configure(h, cfg, err, errlen) < 0) {
        plugin_close(h);
        h = NULL;
    }
    json_decref(cfg);
    return h;
}

static ctx_node *take_ctx(plugin_handle *h)
{
    ctx_node *n;

    pthread_mutex_lock(&h->lock);
    n = h->free_ctx;
    if (n)
        h->free_ctx = n->next;
    pthread_mutex_unlock(&h->lock);
    if (n)
        return n;
    n = malloc(sizeof *n);
    if (n && !(n->ctx = newstag_ctx_new(h->model, NULL))) {
        free(n);
        n = NULL;
    }
    return n;
}

static void give_ctx(plugin_handle *h, ctx_node *n)
{
    pthread_mutex_lock(&h->lock);
    n->next = h->free_ctx;
    h->free_ctx = n;
    pthread_mutex_unlock(&h->lock);
}

/* An array: each element is handled as `newstag classify` would handle it
 * given on a line of its own (compact JSON). */
static int process_array(plugin_handle *h, newstag_ctx *ctx, json_t *arr,
                         nt_buf *out)
{
    size_t i;
    json_t *item;

    if (nt_buf_add(out, "[", 1) < 0)
        return -1;
    json_array_foreach(arr, i, item) {
        char *line = json_dumps(item, JSON_COMPACT | JSON_ENCODE_ANY);
        int rc;
        if (!line || (i && nt_buf_add(out, ",", 1) < 0)) {
            free(line);
            return -1;
        }
        rc = nt_filter_line(&h->filter, ctx, line, strlen(line), i + 1, 0, out);
        free(line);
        if (rc == NT_LINE_NOMEM)
            return -1;
    }
    return nt_buf_add(out, "]", 1);
}

static char *plugin_process(void *handle, const char *json, size_t len,
                            size_t *out_len)
{
    plugin_handle *h = handle;
    nt_buf out = {0};
    ctx_node *n;
    json_t *arr = NULL;
    size_t start = 0;
    int rc;

    if (!h || (!json && len))
        return NULL;
    if (!(n = take_ctx(h)))
        return NULL;
    while (start < len && (json[start] == ' ' || json[start] == '\t' ||
                           json[start] == '\n' || json[start] == '\r'))
        start++;
    if (start < len && json[start] == '[')
        arr = json_loadb(json, len, JSON_ALLOW_NUL, NULL);
    if (json_is_array(arr))
        rc = process_array(h, n->ctx, arr, &out);
    else
        rc = nt_filter_line(&h->filter, n->ctx, json ? json : "", len, 1, 0, &out) ==
             NT_LINE_NOMEM ? -1 : 0;
    json_decref(arr);
    give_ctx(h, n);
    if (rc < 0 || (!out.s && nt_buf_add(&out, "", 0) < 0)) {
        nt_buf_free(&out);
        return NULL;
    }
    if (out_len)
        *out_len = out.n;
    return out.s;
}

static void plugin_free_output(char *out)
{
    free(out);
}

static const struct newstag_plugin_api API = {
    NEWSTAG_PLUGIN_ABI_VERSION, "newstag", NEWSTAG_VERSION,
    plugin_open, plugin_process, plugin_free_output, plugin_close,
};

__attribute__((visibility("default")))
const struct newstag_plugin_api *newstag_plugin_entry(void)
{
    return &API;
}
