/*
 * epoch.c - one iRPROP- training epoch of a FANN network, computed on two
 * cores.
 *
 * libfann's fann_train_epoch_irpropm runs, for every training row, fann_run,
 * fann_compute_MSE, fann_backpropagate_MSE and fann_update_slopes_batch,
 * then one fann_update_weights_irpropm over the summed slopes. The rows are
 * independent until that last step, so here the rows are cut into two fixed
 * halves, each half runs those same libfann functions on its own copy of
 * the network (in its own thread), and the two slope sums and error sums are
 * added in a fixed order into the main network before libfann's own
 * fann_update_weights_irpropm. libfann does all the arithmetic; the result
 * does not depend on thread timing, so training stays deterministic.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fann.h>
#include <fann_internal.h>

#include "epoch.h"

typedef struct shard {
    struct fann *ann;
    struct fann_train_data *data;
    unsigned begin, end;
} shard;

struct nt_epoch_runner {
    shard shards[NT_EPOCH_SHARDS];
};

nt_epoch_runner *nt_epoch_runner_new(struct fann *ann,
                                     struct fann_train_data *data)
{
    nt_epoch_runner *r = calloc(1, sizeof *r);
    unsigned s, n = fann_length_train_data(data);

    if (!r)
        return NULL;
    for (s = 0; s < NT_EPOCH_SHARDS; s++) {
        r->shards[s].data = data;
        r->shards[s].begin = (unsigned)((unsigned long long)n * s / NT_EPOCH_SHARDS);
        r->shards[s].end = (unsigned)((unsigned long long)n * (s + 1) / NT_EPOCH_SHARDS);
        if (!(r->shards[s].ann = fann_copy(ann))) {
            nt_epoch_runner_free(r);
            return NULL;
        }
    }
    return r;
}

void nt_epoch_runner_free(nt_epoch_runner *r)
{
    unsigned s;

    if (!r)
        return;
    for (s = 0; s < NT_EPOCH_SHARDS; s++)
        if (r->shards[s].ann)
            fann_destroy(r->shards[s].ann);
    free(r);
}

/* Forward and backward passes over one shard's rows; slopes accumulate. */
static void *run_shard(void *arg)
{
    shard *s = arg;
    struct fann *ann = s->ann;
    unsigned i;

    fann_reset_MSE(ann);
    if (ann->train_slopes)
        memset(ann->train_slopes, 0, ann->total_connections * sizeof *ann->train_slopes);
    for (i = s->begin; i < s->end; i++) {
        fann_run(ann, s->data->input[i]);
        fann_compute_MSE(ann, s->data->output[i]);
        fann_backpropagate_MSE(ann);
        fann_update_slopes_batch(ann, ann->first_layer + 1, ann->last_layer - 1);
    }
    return NULL;
}

/* L2 weight decay: the penalty (decay / 2) * rows * sum(w^2) joins the
 * error. libfann's slopes hold minus the error's gradient, so each slope
 * loses decay * rows * w. Once the rows are fitted their gradients fade
 * and the penalty is what is left, so iRPROP- stops growing weights that
 * only memorize single items. */
static void add_weight_decay(struct fann *ann, float decay, unsigned rows)
{
    unsigned k;
    float scale = decay * (float)rows;

    for (k = 0; k < ann->total_connections; k++)
        ann->train_slopes[k] -= scale * ann->weights[k];
}

float nt_epoch_run(nt_epoch_runner *r, struct fann *ann, float decay)
{
    pthread_t threads[NT_EPOCH_SHARDS];
    int started[NT_EPOCH_SHARDS] = {0};
    unsigned s, k, n = ann->total_connections;

    if (ann->prev_train_slopes == NULL)
        fann_clear_train_arrays(ann);
    if (!ann->train_slopes)
        return -1;
    for (s = 0; s < NT_EPOCH_SHARDS; s++)
        memcpy(r->shards[s].ann->weights, ann->weights, n * sizeof *ann->weights);
    /* shard 0 runs here; the others in threads (or here, if none starts) */
    for (s = 1; s < NT_EPOCH_SHARDS; s++)
        started[s] = pthread_create(&threads[s], NULL, run_shard, &r->shards[s]) == 0;
    run_shard(&r->shards[0]);
    for (s = 1; s < NT_EPOCH_SHARDS; s++) {
        if (started[s])
            pthread_join(threads[s], NULL);
        else
            run_shard(&r->shards[s]);
    }
    fann_reset_MSE(ann);
    memset(ann->train_slopes, 0, n * sizeof *ann->train_slopes);
    for (s = 0; s < NT_EPOCH_SHARDS; s++) {
        const struct fann *part = r->shards[s].ann;
        if (!part->train_slopes)
            continue;                  /* an empty shard */
        for (k = 0; k < n; k++)
            ann->train_slopes[k] += part->train_slopes[k];
        ann->MSE_value += part->MSE_value;
        ann->num_MSE += part->num_MSE;
        ann->num_bit_fail += part->num_bit_fail;
    }
    if (decay > 0)
        add_weight_decay(ann, decay, fann_length_train_data(r->shards[0].data));
    fann_update_weights_irpropm(ann, 0, n);
    return fann_get_MSE(ann);
}
