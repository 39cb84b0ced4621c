/*
 * dataset.h - the labeled-data structures shared by the trainer and the
 * evaluator (internal to libnewstag).
 */
#ifndef NEWSTAG_DATASET_H
#define NEWSTAG_DATASET_H

#include "../model/internal.h"

typedef struct nt_item {
    char *text;          /* title and body joined by a newline */
    uint64_t labels;     /* bit i set: the item has dataset label i */
} nt_item;

struct newstag_dataset {
    nt_item *items;
    size_t n, cap;
    size_t num_labels;
    char labels[NEWSTAG_MAX_LABELS][NEWSTAG_LABEL_MAX];
};

void nt_dataset_init(newstag_dataset *ds);

#endif
