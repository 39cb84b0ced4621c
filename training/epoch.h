/*
 * epoch.h - a FANN iRPROP- epoch computed on two cores (internal to the
 * trainer). See epoch.c.
 */
#ifndef NEWSTAG_EPOCH_H
#define NEWSTAG_EPOCH_H

struct fann;
struct fann_train_data;

/* The rows are always cut into this many shards, whatever the machine, so
 * a model does not depend on how many cores trained it. */
#define NT_EPOCH_SHARDS 2

typedef struct nt_epoch_runner nt_epoch_runner;

/* Per-shard copies of `ann` for training on `data`; NULL when out of memory. */
nt_epoch_runner *nt_epoch_runner_new(struct fann *ann,
                                     struct fann_train_data *data);
void nt_epoch_runner_free(nt_epoch_runner *r);

/* One batch iRPROP- epoch of `ann` over all rows, with L2 weight decay
 * `decay` per row (0: none); returns the MSE, or -1 when memory runs out. */
float nt_epoch_run(nt_epoch_runner *r, struct fann *ann, float decay);

#endif
