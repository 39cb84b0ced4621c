/*
 * average.h - the mean of a network's weights over its last epochs
 * (internal to the trainer). See average.c.
 */
#ifndef NEWSTAG_AVERAGE_H
#define NEWSTAG_AVERAGE_H

#include <stddef.h>

typedef struct nt_weight_history nt_weight_history;

/* Room for the weights of the last `span` epochs (at least 1) of a network
 * with `connections` weights; NULL when out of memory. */
nt_weight_history *nt_weight_history_new(unsigned span, size_t connections);
void nt_weight_history_free(nt_weight_history *h);

/* Record one epoch's weights; the oldest of `span` epochs is forgotten. */
void nt_weight_history_push(nt_weight_history *h, const float *weights);

/* The mean of the recorded epochs (the last `span`, or all when fewer have
 * been recorded) into `out`; nothing when none has been recorded. */
void nt_weight_history_mean(const nt_weight_history *h, float *out);

#endif
