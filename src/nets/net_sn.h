/* Spectral normalisation inside a network (layers with sn=1): the normalised weights
 * W / sigma each forward uses, and the backward into weight_orig. Used by src/nets/net.c.
 * Tests: tests/ops_nn/test_sn.c (ops), tests/train/test_fixture.c (PyTorch), test_model.c */
#ifndef CLGAN_NET_SN_H
#define CLGAN_NET_SN_H

#include "clgan/net.h"

/* Floats of the per-network spectral-norm buffer: per sn layer W / sigma and its work
 * (rows + 2), then one weight-gradient scratch as large as the largest sn weight. */
size_t clgan_net_sn_floats(const clgan_net_desc *d);
/* Allocates net->sn (nothing for a network without sn layers). */
clgan_status clgan_net_sn_create(clgan_net *net);
/* Layer i's weight for this forward: sigma from u, v (power: one power iteration first,
 * updating u and v, as PyTorch in training mode), then W / sigma, returned in *w. */
clgan_status clgan_net_sn_forward(clgan_net *net, int i, int power, clgan_view *w);
/* Where layer i's conv/linear backward writes d loss / d (W / sigma). */
clgan_view clgan_net_sn_grad(const clgan_net *net);
/* eq=1 layers (equalised learning rate) go the same way: their forward weight is W * c
 * (c = clgan_net_eq_scale), the backward multiplies the gradient by c. */
float clgan_net_eq_scale(const clgan_layer_desc *l);
/* d loss / d weight_orig of layer i from that gradient, into the gradient arena. */
clgan_status clgan_net_sn_backward(clgan_net *net, int i, int accumulate);

#endif
