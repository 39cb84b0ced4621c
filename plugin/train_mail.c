/*
 * train_mail.c - labeled mail folders as training items (see train_mail.h),
 * in the manner of bogofilter's registering of spam and ham: every message
 * of FOLDER is an item labeled LABEL.
 *
 * All folders of one split are read into a set before anything goes into
 * the dataset, because a message met again in a later folder adds that
 * folder's label to the item made the first time. The set finds copies by
 * Message-ID or, for messages without one, by their decoded text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "mail.h"
#include "mailbox.h"
#include "train_mail.h"
#include "../model/internal.h"

#define MSGID_MAX 998         /* longest Message-ID looked at */

typedef struct mail_item {
    char *text;
    char *message_id;         /* NULL: the item is known by its text */
    uint64_t hash;
    uint64_t labels;          /* bits over mail_set.labels */
} mail_item;

typedef struct mail_set {
    mail_item *items;
    size_t n, cap;
    size_t *slots;            /* open addressing: item index + 1, 0 empty */
    size_t mask;
    size_t num_labels;
    char labels[NEWSTAG_MAX_LABELS][NEWSTAG_LABEL_MAX];
} mail_set;

/* What one folder gave. */
typedef struct folder_counts {
    size_t used, seen_before, no_text;
} folder_counts;

/* ---- "LABEL=FOLDER" ---------------------------------------------------------- */

static int is_no_topic(const char *label)
{
    return !*label || strcmp(label, CLI_MAIL_NO_TOPIC) == 0;
}

/* Split spec into label and folder; -1 when there is no '='. */
static int split_spec(const char *spec, char *label, size_t label_size,
                      const char **folder)
{
    const char *eq = strchr(spec, '=');

    if (!eq)
        return -1;
    snprintf(label, label_size, "%.*s", (int)(eq - spec), spec);
    *folder = eq + 1;
    return (size_t)(eq - spec) < label_size ? 0 : -1;
}

int cli_mail_check_spec(const char *spec, const char *option)
{
    char label[NEWSTAG_LABEL_MAX];
    const char *folder;
    const char *eq = strchr(spec, '=');

    if (!eq || !eq[1]) {
        cli_error("%s takes LABEL=FOLDER (an mbox file or a Maildir), not \"%s\"",
                  option, spec);
        return -1;
    }
    if (split_spec(spec, label, sizeof label, &folder) < 0 ||
        (!is_no_topic(label) && !nt_valid_label(label))) {
        cli_error("%s: bad label name \"%.*s\" (use a-z, 0-9 and _, starting with a "
                  "letter; \"" CLI_MAIL_NO_TOPIC "\" or nothing for mail with no topic)",
                  option, (int)(eq - spec), spec);
        return -1;
    }
    return 0;
}

/* The folder path with a leading "~/" read as $HOME (as a shell would). */
static char *expand_home(const char *folder)
{
    const char *home = getenv("HOME");
    char *p;

    if ((folder[0] != '~' || (folder[1] && folder[1] != '/')) || !home || !*home)
        return strdup(folder);
    if ((p = malloc(strlen(home) + strlen(folder))))
        sprintf(p, "%s%s", home, folder + 1);
    return p;
}

/* ---- the set ------------------------------------------------------------------ */

static void set_free(mail_set *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        free(s->items[i].text);
        free(s->items[i].message_id);
    }
    free(s->items);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* The bit of a label in the set; 0 for no topic, -1 past the limit. */
static int64_t label_bit(mail_set *s, const char *label)
{
    size_t i;

    if (is_no_topic(label))
        return 0;
    for (i = 0; i < s->num_labels; i++)
        if (strcmp(s->labels[i], label) == 0)
            return (int64_t)(1ULL << i);
    if (s->num_labels == NEWSTAG_MAX_LABELS)
        return -1;
    snprintf(s->labels[s->num_labels], NEWSTAG_LABEL_MAX, "%s", label);
    return (int64_t)(1ULL << s->num_labels++);
}

static uint64_t item_hash(const char *id, const char *text)
{
    return id ? nt_hash64(id, strlen(id), 1) : nt_hash64(text, strlen(text), 2);
}

static int same_message(const mail_item *it, const char *id, const char *text)
{
    if (id || it->message_id)
        return id && it->message_id && strcmp(id, it->message_id) == 0;
    return strcmp(it->text, text) == 0;
}

/* The item for this message, or NULL; *slot gets where it is or would go. */
static mail_item *set_find(const mail_set *s, uint64_t h, const char *id,
                           const char *text, size_t *slot)
{
    size_t i = (size_t)h & s->mask;

    for (; s->slots[i]; i = (i + 1) & s->mask) {
        mail_item *it = &s->items[s->slots[i] - 1];
        if (it->hash == h && same_message(it, id, text))
            return it;
    }
    *slot = i;
    return NULL;
}

/* Keep the table at most half full. */
static int set_grow(mail_set *s)
{
    size_t size = s->slots ? (s->mask + 1) * 2 : 1024, i;
    size_t *slots;

    if (s->slots && (s->n + 1) * 2 <= s->mask + 1)
        return 0;
    if (!(slots = calloc(size, sizeof *slots)))
        return -1;
    for (i = 0; i < s->n; i++) {
        size_t k = (size_t)s->items[i].hash & (size - 1);
        while (slots[k])
            k = (k + 1) & (size - 1);
        slots[k] = i + 1;
    }
    free(s->slots);
    s->slots = slots;
    s->mask = size - 1;
    return 0;
}

/* Add a message (taking text and id), or add its label to the copy met
 * before. Returns 1 new, 0 seen before, -1 out of memory. */
static int set_add(mail_set *s, char *text, char *id, uint64_t bit)
{
    uint64_t h = item_hash(id, text);
    size_t slot;
    mail_item *it;

    if (set_grow(s) < 0)
        return -1;
    if ((it = set_find(s, h, id, text, &slot)) != NULL) {
        it->labels |= bit;
        free(text);
        free(id);
        return 0;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        mail_item *p = realloc(s->items, cap * sizeof *p);
        if (!p)
            return -1;
        s->items = p;
        s->cap = cap;
    }
    s->items[s->n] = (mail_item){text, id, h, bit};
    s->slots[slot] = ++s->n;
    return 1;
}

/* ---- one message ---------------------------------------------------------------- */

/* Does the text hold anything the feature extractor reads? -1: memory. */
static int has_words(const char *text, size_t len)
{
    newstag_text_stats st;
    char *norm = newstag_normalize(text, len, 0, &st, NULL);

    if (!norm)
        return -1;
    free(norm);
    return st.syllables > 0;
}

/* The Message-ID field's value, unfolded: "<...>" when it has one. */
static int message_id(const char *msg, size_t len, char **out)
{
    char value[MSGID_MAX + 1];
    size_t p = 0, k = 0, e, a, b;
    int in_field = 0;

    *out = NULL;
    for (; p < len; p = e) {
        const char *nl = memchr(msg + p, '\n', len - p);
        e = nl ? (size_t)(nl - msg) + 1 : len;
        if (msg[p] == '\n' || (msg[p] == '\r' && e - p == 2))
            break;                                 /* end of the header block */
        if (in_field && (msg[p] == ' ' || msg[p] == '\t')) {
            a = p;
        } else if (!in_field && e - p > 11 && strncasecmp(msg + p, "Message-ID:", 11) == 0) {
            in_field = 1;
            a = p + 11;
        } else if (in_field) {
            break;
        } else {
            continue;
        }
        for (b = a; b < e && k < MSGID_MAX; b++)
            if (msg[b] != '\r' && msg[b] != '\n')
                value[k++] = msg[b];
    }
    value[k] = '\0';
    {
        char *lt = strchr(value, '<'), *gt = lt ? strchr(lt, '>') : NULL;
        char *start = value + strspn(value, " \t");
        size_t n = strcspn(start, " \t");
        if (lt && gt)
            start = lt, n = (size_t)(gt - lt) + 1;
        if (n == 0)
            return 0;
        return (*out = strndup(start, n)) ? 0 : -1;
    }
}

/* Read one message into the set. -1: out of memory. */
static int add_message(mail_set *s, const char *msg, size_t len, uint64_t bit,
                       folder_counts *c)
{
    nt_buf text = {0};
    nt_mail_stats ms;
    char *id;
    int words, rc;

    if (nt_mail_text(msg, len, NEWSTAG_DEFAULT_MAX_BYTES, &text, &ms) < 0 ||
        (words = has_words(text.s, text.n)) < 0) {
        nt_buf_free(&text);
        return -1;
    }
    if (!words) {
        c->no_text++;
        nt_buf_free(&text);
        return 0;
    }
    if (message_id(msg, len, &id) < 0) {
        nt_buf_free(&text);
        return -1;
    }
    if ((rc = set_add(s, text.s, id, bit)) < 0) {
        nt_buf_free(&text);
        free(id);
        return -1;
    }
    c->used++;
    if (rc == 0)
        c->seen_before++;
    return 0;
}

/* ---- one folder --------------------------------------------------------------- */

static int open_error_code(const newstag_error *err)
{
    switch (err->code) {
    case NEWSTAG_ERR_IO: return EX_NOINPUT;
    case NEWSTAG_ERR_NOMEM: return EX_OSERR;
    default: return EX_DATAERR;
    }
}

static void print_summary(const char *option, const char *spec,
                          const nt_mailbox *box, const folder_counts *c)
{
    const nt_mailbox_stats *st = nt_mailbox_get_stats(box);
    size_t skipped = c->no_text + st->too_large + st->vanished;
    const char *sep = " (";

    fprintf(stderr, "newstag: %s %s: %s, %zu messages: %zu used", option, spec,
            nt_mailbox_kind_name(nt_mailbox_kind_of(box)),
            st->messages + st->too_large + st->vanished, c->used);
    if (c->seen_before)
        fprintf(stderr, " (%zu seen before)", c->seen_before);
    fprintf(stderr, ", %zu skipped", skipped);
    if (c->no_text)
        fprintf(stderr, "%s%zu without text", sep, c->no_text), sep = ", ";
    if (st->too_large)
        fprintf(stderr, "%s%zu over %u MiB", sep, st->too_large,
                NT_MAILBOX_MAX_MESSAGE >> 20), sep = ", ";
    if (st->vanished)
        fprintf(stderr, "%s%zu vanished while read", sep, st->vanished), sep = ", ";
    fputs(skipped ? ")\n" : "\n", stderr);
}

static int read_folder(mail_set *s, const char *spec, const char *option)
{
    char label[NEWSTAG_LABEL_MAX], *path;
    const char *folder, *msg;
    folder_counts c = {0};
    newstag_error err;
    nt_mailbox *box;
    int64_t bit;
    size_t len;
    int rc;

    if (split_spec(spec, label, sizeof label, &folder) < 0)
        return EX_USAGE;                      /* cli_mail_check_spec said why */
    if ((bit = label_bit(s, label)) < 0) {
        cli_error("%s %s: more than %d labels", option, spec, NEWSTAG_MAX_LABELS);
        return EX_DATAERR;
    }
    if (!(path = expand_home(folder))) {
        cli_error("out of memory");
        return EX_OSERR;
    }
    box = nt_mailbox_open(path, 0, &err);
    free(path);
    if (!box) {
        cli_error("%s", err.text);
        return open_error_code(&err);
    }
    while ((rc = nt_mailbox_next(box, &msg, &len, &err)) == 1)
        if (add_message(s, msg, len, (uint64_t)bit, &c) < 0) {
            nt_mailbox_close(box);
            cli_error("out of memory reading %s", folder);
            return EX_OSERR;
        }
    if (rc < 0) {
        cli_error("%s", err.text);
        nt_mailbox_close(box);
        return err.code == NEWSTAG_ERR_NOMEM ? EX_OSERR : EX_IOERR;
    }
    print_summary(option, spec, box, &c);
    nt_mailbox_close(box);
    return 0;
}

static int add_to_dataset(const mail_set *s, newstag_dataset *ds)
{
    const char *names[NEWSTAG_MAX_LABELS];
    newstag_error err;
    size_t i, l, k;

    for (i = 0; i < s->n; i++) {
        for (l = k = 0; l < s->num_labels; l++)
            if (s->items[i].labels & (1ULL << l))
                names[k++] = s->labels[l];
        if (newstag_dataset_add(ds, s->items[i].text, names, k, &err) < 0) {
            cli_error("%s", err.text);
            return cli_exit_code(&err);
        }
    }
    return 0;
}

int cli_mail_read_folders(newstag_dataset *ds, char *const *specs, int n,
                          const char *option)
{
    mail_set s;
    int i, rc = 0;

    memset(&s, 0, sizeof s);
    for (i = 0; rc == 0 && i < n; i++)
        rc = read_folder(&s, specs[i], option);
    if (rc == 0)
        rc = add_to_dataset(&s, ds);
    set_free(&s);
    return rc;
}
