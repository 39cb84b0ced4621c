/*
 * average.c - the mean of a network's weights over its last epochs.
 *
 * Batch iRPROP- moves every weight by its own step each epoch, and near the
 * best epoch many weights step back and forth across their best value. The
 * trainer can write the mean of the best epoch's weights and those of the
 * epochs just before it (`--average N`): one network, the same cost to run,
 * and on our held-out measures a little better than the best epoch alone
 * (docs/features.md, "Averaging the last epochs"). All epochs are of one
 * run from one start, so their hidden neurons correspond and the mean of
 * their weights is a network of the same kind.
 */
#include <stdlib.h>
#include <string.h>

#include "average.h"

struct nt_weight_history {
    unsigned span;        /* epochs kept */
    unsigned recorded;    /* epochs pushed so far */
    size_t connections;
    float *slots;         /* span rows of weights; epoch k in row k % span */
};

nt_weight_history *nt_weight_history_new(unsigned span, size_t connections)
{
    nt_weight_history *h = calloc(1, sizeof *h);

    if (!h)
        return NULL;
    h->span = span ? span : 1;
    h->connections = connections;
    h->slots = malloc((size_t)h->span * (connections ? connections : 1) * sizeof *h->slots);
    if (!h->slots) {
        free(h);
        return NULL;
    }
    return h;
}

void nt_weight_history_free(nt_weight_history *h)
{
    if (!h)
        return;
    free(h->slots);
    free(h);
}

void nt_weight_history_push(nt_weight_history *h, const float *weights)
{
    memcpy(h->slots + (size_t)(h->recorded % h->span) * h->connections, weights,
           h->connections * sizeof *weights);
    h->recorded++;
}

void nt_weight_history_mean(const nt_weight_history *h, float *out)
{
    unsigned n = h->recorded < h->span ? h->recorded : h->span, j;
    size_t k;

    if (n == 0)
        return;
    /* whichever epochs they are, the rows in use are rows 0 .. n-1 */
    for (k = 0; k < h->connections; k++) {
        double sum = 0;
        for (j = 0; j < n; j++)
            sum += h->slots[(size_t)j * h->connections + k];
        out[k] = (float)(sum / n);
    }
}
