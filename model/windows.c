/*
 * windows.c - scoring a long text by its windows as well as as a whole.
 *
 * The network learned mostly from feed items and articles of a few hundred
 * words. A long article dilutes its topic in an L2-normalized vector of
 * everything it says: a 1,300-word report whose third section is about the
 * budget scores lower on `budget` than a feed item on the same matter. So a
 * text longer than the model's window (manifest "window_syllables", 250 by
 * default) is also scored in windows of that many syllables, each starting
 * half a window after the one before, the last one ending at the text's
 * end; each label's score is the highest of the whole text's and the
 * windows'. Shorter texts are scored as a whole only, exactly as before.
 *
 * Windows are cut in the text's n-gram sequence, in proportion to its
 * syllables (every syllable emits the same number of n-grams, except at the
 * start of a segment).
 */
#include "internal.h"

void nt_windows_plan(nt_windows *w, size_t grams, size_t syllables,
                     unsigned window)
{
    w->count = 0;
    w->grams = grams;
    w->len = w->step = 0;
    if (window == 0 || syllables <= window || grams == 0)
        return;
    w->len = (size_t)((double)grams * window / (double)syllables);
    if (w->len < 2 || w->len >= grams)
        return;
    w->step = w->len / 2;
    /* starts 0, step, 2 step, ... before grams - len, then grams - len */
    w->count = (grams - w->len + w->step - 1) / w->step + 1;
}

void nt_window_range(const nt_windows *w, size_t i, size_t *from, size_t *to)
{
    size_t start = i * w->step;

    if (i + 1 >= w->count || start + w->len > w->grams)
        start = w->grams - w->len;
    *from = start;
    *to = start + w->len;
}

int nt_score_text(const nt_feature_config *fc, const nt_vocab *v,
                  const nt_weights *net, nt_grams *g, size_t syllables,
                  nt_sparse *vec, float *hidden, float *scores)
{
    float part[NEWSTAG_MAX_LABELS];
    nt_windows w;
    size_t i, l, from, to;

    if (nt_vectorize(v, g, vec) < 0)      /* also looks the grams up */
        return -1;
    nt_forward_sparse(net, vec, hidden, scores);
    nt_windows_plan(&w, g->n, syllables, fc->window);
    for (i = 0; i < w.count; i++) {
        nt_window_range(&w, i, &from, &to);
        if (nt_vectorize_range(v, g, from, to, vec) < 0)
            return -1;
        nt_forward_sparse(net, vec, hidden, part);
        for (l = 0; l < net->outputs; l++)
            if (part[l] > scores[l])
                scores[l] = part[l];
    }
    return 0;
}
