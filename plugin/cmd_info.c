/*
 * cmd_info.c - `newstag info` (a model's manifest, readable) and
 * `newstag normalize` (text as the feature extractor sees it).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static void print_value(const char *indent, const char *key, json_t *v)
{
    char *s;

    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        char deeper[64];
        printf("%s%s:\n", indent, key);
        snprintf(deeper, sizeof deeper, "%s  ", indent);
        json_object_foreach(v, k, x)
            print_value(deeper, k, x);
        return;
    }
    s = json_is_string(v) ? strdup(json_string_value(v))
                          : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT |
                                              JSON_REAL_PRECISION(6));
    printf("%s%s: %s\n", indent, key, s ? s : "?");
    free(s);
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *model_path = NULL, *k;
    int c, code = 0, as_json = 0;
    newstag_model *model;
    json_t *root, *v;

    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'j': as_json = 1; break;
        case 'h':
            printf("usage: newstag info [-m MODEL] [--json]\n\n"
                   "Shows the model's manifest: labels, thresholds, features,\n"
                   "training data checksums and dev metrics.\n");
            return 0;
        default: return EX_USAGE;
        }
    }
    if (!(model = cli_load_model(model_path, &code)))
        return code;
    if (as_json) {
        puts(newstag_model_manifest_json(model));
    } else {
        root = json_loads(newstag_model_manifest_json(model), 0, NULL);
        printf("model: %s\n", newstag_model_path(model));
        json_object_foreach(root, k, v)
            print_value("", k, v);
        json_decref(root);
    }
    newstag_model_free(model);
    return cli_flush_stdout();
}

int cmd_normalize(int argc, char **argv)
{
    char *line = NULL, *out;
    size_t cap = 0;
    ssize_t n;
    int strip = argc > 1 && strcmp(argv[1], "--strip") == 0;
    newstag_error err;

    if (argc > 1 && !strip) {
        printf("usage: newstag normalize [--strip] < text\n\n"
               "Prints each input line as the feature extractor sees it.\n");
        return strcmp(argv[1], "--help") == 0 ? 0 : EX_USAGE;
    }
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (!(out = newstag_normalize(line, (size_t)n, strip, NULL, &err))) {
            cli_error("%s", err.text);
            free(line);
            return EX_OSERR;
        }
        puts(out);
        free(out);
    }
    free(line);
    return cli_flush_stdout();
}
