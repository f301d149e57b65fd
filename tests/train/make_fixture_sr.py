#!/usr/bin/python3
"""Makes tests/train/fixture_sr.json: one super-resolution GAN iteration with the
relativistic-average loss (ESRGAN; BasicSR's ESRGANModel.optimize_parameters), computed by
PyTorch on a tiny x2 SRResNet-like model (conv head + PReLU, one residual block with a
per-channel PReLU, conv + pixel shuffle + PReLU, conv tail, plus the MATLAB-bicubic
enlargement of the input: `upsample 2 mode=bicubic`) and a VGG-style D (conv, stride-2 conv,
batch norm, linear to one logit), as src/train/gan.c runs it:
  G(cond) (training mode);
  D step: C(fake) (no gradient), C(real); 0.5 * BCE(C(real) - mean C(fake), 1) backward; C(fake)
  again; 0.5 * BCE(C(fake) - mean C(real), 0) backward; Adam;
  G step through D (Adam-updated, frozen): C(real) (no gradient), C(G(x));
  ADV * (BCE(C(real) - mean C(G), 0) + BCE(C(G) - mean C(real), 1)) / 2 + L1(G(x), y); Adam.
Stored: the model text, the initial weights and statistics (PyTorch's initialisation, seed 0),
the inputs, the losses, both nets' gradients, the weights and running statistics after.
tests/train/test_fixture_sr.c compares clgan with it; CI needs no PyTorch. Regenerate with
Debian's python3-torch:

    /usr/bin/python3 tests/train/make_fixture_sr.py tests/train/fixture_sr.json
    /usr/bin/python3 tests/train/make_fixture_sr.py tests/train/fixture_sr_feat.json feat

The "feat" variant has SRGAN's non-saturating loss (D: 0.5 * (BCE(C(real), 1) + BCE(C(fake),
0)), real first; G: BCE(C(G), 1)) and the feature loss of src/train/gan_feat.c: FEAT_W * mean
|F(G(x)) - F(y)|, F = D's output at the node 'feat' (its LeakyReLU after batch norm), D
frozen after its Adam step, F(y) and F(G(x)) each with its own batch statistics.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples"))
import clgan_torch  # noqa: E402

MODEL = """model tiny-sr
image 3 8 8
cond 3 4 4

generator
  input cond
  conv 4 k=3 s=1 p=1
  h0: prelu
  conv 4 k=3 s=1 p=1
  prelu per_channel=1
  r: conv 4 k=3 s=1 p=1
  b: add in=h0,r
  conv 12 k=3 s=1 p=1
  pixelshuffle 2
  prelu
  o: conv 3 k=3 s=1 p=1
  up: upsample 2 in=cond mode=bicubic
  add in=o,up

discriminator
  input image
  conv 8 k=3 s=1 p=1
  leakyrelu 0.2
  conv 8 k=4 s=2 p=1 bias=0
  batchnorm
  feat: leakyrelu 0.2
  flatten
  linear 1
"""
B, LR, BETAS, EPS, CW, ADV, DSCALE = 4, 2e-4, (0.5, 0.999), 1e-8, 1.0, 0.5, 0.5
FEAT_W = 2.0  # the "feat" variant: SRGAN's BCE (ns) + L1 + FEAT_W * L1 of D's 'feat' output


def flat(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).double().tolist()]


def bce(x, target):
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, float(target)))


def feat_variant(g, d, x, y, fake, init, opt_g, opt_d):
    d.zero_grad()
    real_d = d(image=y)
    l_real = bce(real_d, 1)
    fake_d = d(image=fake.detach())
    l_fake = bce(fake_d, 0)
    (DSCALE * (l_real + l_fake)).backward()
    grads = {"discriminator." + k: flat(p.grad) for k, p in d.named_parameters()}
    opt_d.step()
    g.zero_grad()
    for p in d.parameters():
        p.requires_grad_(False)
    out_g = d(image=fake)
    l_adv = bce(out_g, 1)
    # the feature forwards: batch statistics, D's running statistics untouched (clgan runs
    # them on a copy of D): momentum 0 for their duration
    got = []
    bns = [m for m in d.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in bns:
        m.momentum = 0.0
    hook = d["feat"].register_forward_hook(lambda m, i, o: got.append(o))
    d(image=y)
    d(image=fake)
    hook.remove()
    for m in bns:
        m.momentum = 0.1
    l_feat = F.l1_loss(got[1], got[0].detach())
    l_l1 = F.l1_loss(fake, y)
    (ADV * l_adv + CW * l_l1 + FEAT_W * l_feat).backward()
    grads.update({"generator." + k: flat(p.grad) for k, p in g.named_parameters()})
    opt_g.step()
    after = {**{"generator." + k: flat(v) for k, v in g.state_dict().items() if "num_batches" not in k},
             **{"discriminator." + k: flat(v) for k, v in d.state_dict().items() if "num_batches" not in k}}
    fx = {"format": "clgan-fixture-sr-1", "generated_by": "tests/train/make_fixture_sr.py feat",
          "torch": torch.__version__, "model": MODEL, "batch": B, "lr": LR, "content_weight": CW,
          "adv_weight": ADV, "d_loss_scale": DSCALE, "g_loss": "ns", "feature_weight": FEAT_W,
          "feature": float(l_feat), "cond": flat(x), "target": flat(y),
          "loss_d": float(DSCALE * (l_real + l_fake)), "loss_g_adv": float(l_adv), "l1": float(l_l1),
          "d_real": float(torch.sigmoid(real_d).mean()), "d_fake": float(torch.sigmoid(fake_d).mean()),
          "output": flat(fake), "init": init, "grad": grads, "after": after}
    return fx


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    g, d = clgan_torch.build(MODEL, 3, "fixture model")
    g.train(), d.train()
    x = torch.rand(B, 3, 4, 4) * 2 - 1
    y = torch.rand(B, 3, 8, 8) * 2 - 1
    init = {**{"generator." + k: flat(v) for k, v in g.state_dict().items() if "num_batches" not in k},
            **{"discriminator." + k: flat(v) for k, v in d.state_dict().items() if "num_batches" not in k}}
    opt_g = torch.optim.Adam(g.parameters(), lr=LR, betas=BETAS, eps=EPS)
    opt_d = torch.optim.Adam(d.parameters(), lr=LR, betas=BETAS, eps=EPS)
    fake = g(cond=x)
    if len(sys.argv) > 2 and sys.argv[2] == "feat":
        return feat_variant(g, d, x, y, fake, init, opt_g, opt_d)
    # D step (BasicSR's order), G frozen
    d.zero_grad()
    fake_d = d(image=fake.detach()).detach()
    real_d = d(image=y)
    l_real = bce(real_d - fake_d.mean(), 1)
    (DSCALE * l_real).backward()
    fake_d2 = d(image=fake.detach())
    l_fake = bce(fake_d2 - real_d.detach().mean(), 0)
    (DSCALE * l_fake).backward()
    p_real = torch.sigmoid(real_d - fake_d.mean()).mean()
    p_fake = torch.sigmoid(fake_d2 - real_d.detach().mean()).mean()
    grads = {"discriminator." + k: flat(p.grad) for k, p in d.named_parameters()}
    opt_d.step()
    # G step through the frozen D
    g.zero_grad()
    for p in d.parameters():
        p.requires_grad_(False)
    real_g = d(image=y).detach()
    fake_g = d(image=fake)
    l_adv = (bce(real_g - fake_g.mean(), 0) + bce(fake_g - real_g.mean(), 1)) / 2
    l_l1 = F.l1_loss(fake, y)
    (ADV * l_adv + CW * l_l1).backward()
    grads.update({"generator." + k: flat(p.grad) for k, p in g.named_parameters()})
    opt_g.step()
    after = {**{"generator." + k: flat(v) for k, v in g.state_dict().items() if "num_batches" not in k},
             **{"discriminator." + k: flat(v) for k, v in d.state_dict().items() if "num_batches" not in k}}
    fx = {"format": "clgan-fixture-sr-1", "generated_by": "tests/train/make_fixture_sr.py",
          "torch": torch.__version__, "model": MODEL, "batch": B, "lr": LR, "content_weight": CW,
          "adv_weight": ADV, "d_loss_scale": DSCALE, "g_loss": "ragan", "cond": flat(x), "target": flat(y),
          "loss_d": float(DSCALE * (l_real + l_fake)), "loss_g_adv": float(l_adv), "l1": float(l_l1),
          "d_real": float(p_real), "d_fake": float(p_fake), "output": flat(fake),
          "init": init, "grad": grads, "after": after}
    return fx


def write(fx):
    with open(sys.argv[1], "w") as f:
        json.dump(fx, f, indent=0)
        f.write("\n")
    print("loss_d %.6f loss_g_adv %.6f l1 %.6f" % (fx["loss_d"], fx["loss_g_adv"], fx["l1"]))


if __name__ == "__main__":
    write(main())
