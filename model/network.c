/*
 * network.c - the FANN network: locale-proof file I/O through libfann, and
 * a sparse forward pass over libfann's weights.
 *
 * libfann writes and reads its .net files with printf/scanf, which follow the
 * C library's locale: under a comma-decimal locale such as vi_VN.UTF-8 stock
 * FANN writes files it cannot read back. Every libfann file call here runs
 * with the "C" locale selected for the calling thread only (uselocale), so
 * the host's global locale is never touched.
 *
 * fann_run computes every input of the first layer and keeps its state inside
 * the network, so it is neither fast for sparse input nor reentrant. After
 * loading we copy the weights into plain arrays and evaluate only the active
 * inputs; the result matches fann_run (tests/test_network.c checks it).
 */
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <fann.h>

#include "internal.h"

static locale_t c_locale_begin(locale_t *old)
{
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);

    *old = c ? uselocale(c) : (locale_t)0;
    return c;
}

static void c_locale_end(locale_t c, locale_t old)
{
    if (c) {
        uselocale(old);
        freelocale(c);
    }
}

struct fann *nt_fann_load(const char *path, newstag_error *err)
{
    locale_t old, c;
    struct fann *ann;

    fann_set_error_log(NULL, NULL);      /* libfann must not print */
    c = c_locale_begin(&old);
    ann = fann_create_from_file(path);
    c_locale_end(c, old);
    if (!ann)
        nt_fail(err, NEWSTAG_ERR_MODEL, "%s: libfann could not read the network",
                path);
    return ann;
}

int nt_fann_save(struct fann *ann, const char *path, newstag_error *err)
{
    locale_t old, c;
    int rc;

    fann_set_error_log((struct fann_error *)ann, NULL);
    c = c_locale_begin(&old);
    rc = fann_save(ann, path);
    c_locale_end(c, old);
    if (rc != 0)
        return nt_fail(err, NEWSTAG_ERR_IO, "%s: libfann could not write the network",
                       path);
    return 0;
}

void nt_weights_free(nt_weights *w)
{
    free(w->w1);
    free(w->b1);
    free(w->w2);
    free(w->b2);
    free(w->w3);
    memset(w, 0, sizeof *w);
}

static int check_shape(struct fann *ann, unsigned layers[3],
                       newstag_error *err)
{
    unsigned l, n;

    if (fann_get_num_layers(ann) != 3)
        return nt_fail(err, NEWSTAG_ERR_MODEL,
                       "network must have 3 layers, it has %u",
                       fann_get_num_layers(ann));
    if (fann_get_connection_rate(ann) < 1.0f)
        return nt_fail(err, NEWSTAG_ERR_MODEL,
                       "network must be fully connected");
    fann_get_layer_array(ann, layers);
    for (l = 1; l < 3; l++)
        for (n = 0; n < layers[l]; n++)
            if (fann_get_activation_function(ann, (int)l, (int)n) != FANN_SIGMOID)
                return nt_fail(err, NEWSTAG_ERR_MODEL,
                               "network layer %u must use FANN_SIGMOID", l);
    if (layers[0] == 0 || layers[1] == 0 || layers[2] == 0 ||
        layers[2] > NEWSTAG_MAX_LABELS)
        return nt_fail(err, NEWSTAG_ERR_MODEL, "network has an empty layer");
    return 0;
}

/*
 * Neuron numbering (fann_get_connection_array):
 *   layered:  inputs 0..I-1, bias I; hidden I+1..I+H, bias I+H+1;
 *             outputs I+H+2..; the outputs see the hidden layer only.
 *   shortcut: inputs 0..I-1, bias I (the only bias); hidden I+1..I+H;
 *             outputs I+H+1..; the outputs also see every input (w3).
 */
static void place_weight(nt_weights *w, int shortcut, unsigned from,
                         unsigned to, float wt)
{
    unsigned I = w->inputs, H = w->hidden, out0 = I + H + (shortcut ? 1 : 2);
    unsigned out_bias = shortcut ? I : I + H + 1;

    if (to >= I + 1 && to <= I + H) {
        if (from < I)
            w->w1[(size_t)from * H + (to - I - 1)] = wt;
        else if (from == I)
            w->b1[to - I - 1] = wt;
    } else if (to >= out0 && to < out0 + w->outputs) {
        if (from >= I + 1 && from <= I + H)
            w->w2[(size_t)(from - I - 1) * w->outputs + (to - out0)] = wt;
        else if (from == out_bias)
            w->b2[to - out0] = wt;
        else if (shortcut && from < I)
            w->w3[(size_t)from * w->outputs + (to - out0)] = wt;
    }
}

int nt_weights_from_fann(struct fann *ann, nt_weights *w, newstag_error *err)
{
    unsigned layers[3], I, H, O, total, i;
    int shortcut = fann_get_network_type(ann) == FANN_NETTYPE_SHORTCUT;
    struct fann_connection *con;

    memset(w, 0, sizeof *w);
    if (check_shape(ann, layers, err) < 0)
        return -1;
    I = layers[0], H = layers[1], O = layers[2];
    total = fann_get_total_connections(ann);
    con = malloc((size_t)total * sizeof *con);
    w->w1 = calloc((size_t)I * H, sizeof *w->w1);
    w->b1 = calloc(H, sizeof *w->b1);
    w->w2 = calloc((size_t)H * O, sizeof *w->w2);
    w->b2 = calloc(O, sizeof *w->b2);
    if (shortcut)
        w->w3 = calloc((size_t)I * O, sizeof *w->w3);
    if (!con || !w->w1 || !w->b1 || !w->w2 || !w->b2 || (shortcut && !w->w3)) {
        free(con);
        nt_weights_free(w);
        return nt_fail(err, NEWSTAG_ERR_NOMEM, "out of memory loading weights");
    }
    w->inputs = I;
    w->hidden = H;
    w->outputs = O;
    fann_get_connection_array(ann, con);
    for (i = 0; i < total; i++)
        place_weight(w, shortcut, con[i].from_neuron, con[i].to_neuron, con[i].weight);
    free(con);
    w->steep_hidden = fann_get_activation_steepness(ann, 1, 0);
    w->steep_output = fann_get_activation_steepness(ann, 2, 0);
    return 0;
}

/* FANN_SIGMOID exactly as fann_run computes it, including its clipping. */
static float fann_sigmoid(float sum, float steepness)
{
    float s = steepness * sum, max_sum = 150.0f / steepness;

    if (s > max_sum)
        s = max_sum;
    else if (s < -max_sum)
        s = -max_sum;
    return 1.0f / (1.0f + expf(-2.0f * s));
}

void nt_forward_sparse(const nt_weights *w, const nt_sparse *x,
                       float *hidden, float *out)
{
    unsigned H = w->hidden, O = w->outputs, h, o;
    size_t k;

    memcpy(hidden, w->b1, H * sizeof *hidden);
    memcpy(out, w->b2, O * sizeof *out);
    for (k = 0; k < x->n; k++) {
        const float *row = w->w1 + (size_t)x->idx[k] * H;
        float v = x->val[k];
        for (h = 0; h < H; h++)
            hidden[h] += v * row[h];
        if (w->w3) {                     /* a shortcut network's direct path */
            const float *direct = w->w3 + (size_t)x->idx[k] * O;
            for (o = 0; o < O; o++)
                out[o] += v * direct[o];
        }
    }
    for (h = 0; h < H; h++)
        hidden[h] = fann_sigmoid(hidden[h], w->steep_hidden);
    for (o = 0; o < O; o++) {
        float s = out[o];
        for (h = 0; h < H; h++)
            s += hidden[h] * w->w2[(size_t)h * O + o];
        out[o] = fann_sigmoid(s, w->steep_output);
    }
}

unsigned nt_fann_hidden(struct fann *ann)
{
    unsigned layers[3];

    if (fann_get_num_layers(ann) != 3)
        return 0;
    fann_get_layer_array(ann, layers);
    return layers[1];
}
