#!/usr/bin/python3
"""Makes tests/train/fixture_penalty.json: one WGAN-GP and one R1 D step of a small D,
computed by PyTorch (autograd's double backward, create_graph=True), for
tests/train/test_fixture_penalty.c. Self-contained: the D weights, the real and fake batches
and the interpolation weights a are drawn here (numpy, seed 15) and stored whole, with the
losses and every gradient of D, the penalty's included. The step runs in float64 from the
float32 inputs (the reference), and in float32 (its distance from float64, per gradient
tensor, is recorded: the rounding a float32 implementation may show).

    /usr/bin/python3 tests/train/make_fixture_penalty.py tests/train/fixture_penalty.json
    /usr/bin/python3 tests/train/make_fixture_penalty.py tests/train/fixture_penalty_mbstd.json mbstd

The second is a ProGAN-like D: equalised-lr convs, 2x2 average pooling and minibatch stddev
(groups of 2: two groups in the batch of 4) before its last block, as progan32's D; its
double backward goes through the stddev's Hessian-vector term.

WGAN-GP (Gulrajani et al. 2017; drift as Karras et al. 2018):
  x_hat = real * a + fake * (1 - a), a one per sample
  L_D = mean D(fake) - mean D(real) + lambda mean_i (||grad_x D(x_hat)_i|| - 1)^2
        + eps mean D(real)^2
R1 (Mescheder et al. 2018), with the non-saturating (BCE) loss, lazy every k (weight k):
  L_D = BCE(D(real), 1) + BCE(D(fake), 0) + k * gamma / 2 * mean_i ||grad_x D(real)_i||^2
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples"))
import clgan_torch  # noqa: E402

# the generator both fixture models share (the D step never runs it; it makes the model whole)
TINY_G = """latent 4
image 1 8 8
generator
  linear 64
  reshape 1 8 8
  tanh
discriminator
"""
MODEL = "model penalty-fixture\n" + TINY_G + """  conv 8 k=3 s=1 p=1
  leakyrelu 0.2
  a: avgpool 2
  bc: conv 8 k=3 s=1 p=1
  b: leakyrelu 0.2
  s: add in=a,b
  up: upsample 2
  cat: concat in=up,image
  conv 16 k=4 s=2 p=1 eq=1
  leakyrelu 0.2
  flatten
  linear 1 eq=1
"""
MODEL_MBSTD = "model penalty-fixture-mbstd\n" + TINY_G + """  conv 8 k=3 s=1 p=1 eq=1
  leakyrelu 0.2
  avgpool 2
  mbstd 2
  conv 8 k=3 s=1 p=1 eq=1
  leakyrelu 0.2
  conv 8 k=4 eq=1
  leakyrelu 0.2
  flatten
  linear 1 eq=1
"""
# per model: the weights of its eq=1 layers, stored N(0, 1) as clgan initialises them
EQ_WEIGHTS = {"plain": ("8.weight", "11.weight"),
              "mbstd": ("0.weight", "4.weight", "6.weight", "9.weight")}
BATCH, LAMBDA, DRIFT, GAMMA, EVERY = 4, 10.0, 1e-3, 5.0, 2


def f32(v):
    return float("%.9g" % float(np.float32(v)))


def step(d, real, fake, alpha, kind):
    d.zero_grad()
    out = {}
    if kind == "wgan-gp":
        a = alpha.reshape(-1, 1, 1, 1)
        xh = (real * a + fake * (1 - a)).detach().requires_grad_(True)
        g, = torch.autograd.grad(d(image=xh).sum(), xh, create_graph=True)
        nrm = g.reshape(BATCH, -1).norm(dim=1)
        pen = LAMBDA * ((nrm - 1) ** 2).mean()
        o_r, o_f = d(image=real).reshape(-1), d(image=fake).reshape(-1)
        drift = DRIFT * (o_r ** 2).mean()
        l_r, l_f = -o_r.mean(), o_f.mean()
    else:
        x = real.detach().requires_grad_(True)
        o_r = d(image=x).reshape(-1)
        g, = torch.autograd.grad(o_r.sum(), x, create_graph=True)
        nrm = g.reshape(BATCH, -1).norm(dim=1)
        pen = EVERY * GAMMA / 2 * (g.reshape(BATCH, -1) ** 2).sum(1).mean()
        o_f = d(image=fake).reshape(-1)
        drift = torch.zeros((), dtype=real.dtype)
        l_r = F.binary_cross_entropy_with_logits(o_r, torch.ones_like(o_r))
        l_f = F.binary_cross_entropy_with_logits(o_f, torch.zeros_like(o_f))
    (l_r + l_f + drift + pen).backward()
    out["loss_real"], out["loss_fake"] = float(l_r), float(l_f)
    out["drift"], out["penalty"], out["grad_norm_x"] = float(drift), float(pen), float(nrm.mean())
    out["grads"] = [[k, p.grad.detach().reshape(-1).double().numpy()] for k, p in d.named_parameters()]
    return out


def main():
    torch.set_num_threads(1)
    rs = np.random.RandomState(15)
    which = sys.argv[2] if len(sys.argv) > 2 else "plain"
    model = MODEL_MBSTD if which == "mbstd" else MODEL
    _, d = clgan_torch.build(model, 1, "fixture model")
    params = []
    for k, p in d.named_parameters():
        std = 1.0 if k in EQ_WEIGHTS[which] else 0.3
        v = rs.normal(0.0, std, size=tuple(p.shape)).astype(np.float32)
        params.append([k, list(p.shape), v])
    real = rs.uniform(-1, 1, size=(BATCH, 1, 8, 8)).astype(np.float32)
    fake = rs.uniform(-1, 1, size=(BATCH, 1, 8, 8)).astype(np.float32)
    alpha = rs.uniform(0, 1, size=(BATCH,)).astype(np.float32)
    fx = {"format": "clgan-penalty-fixture-1", "generated_by": "tests/train/make_fixture_penalty.py",
          "torch": torch.__version__, "model": model, "batch": BATCH,
          "params": [[k, s, [f32(x) for x in v.reshape(-1)]] for k, s, v in params],
          "real": [f32(x) for x in real.reshape(-1)], "fake": [f32(x) for x in fake.reshape(-1)],
          "alpha": [f32(x) for x in alpha]}
    for kind in ("wgan-gp", "r1"):
        res = {}
        for dt in (torch.float64, torch.float32):
            dd = d.to(dt)
            with torch.no_grad():
                for (k, p), (_, _, v) in zip(dd.named_parameters(), params):
                    p.copy_(torch.from_numpy(v).to(dt))
            res[dt] = step(dd, torch.from_numpy(real).to(dt), torch.from_numpy(fake).to(dt),
                           torch.from_numpy(alpha).to(dt), kind)
        r64, r32 = res[torch.float64], res[torch.float32]
        rec = {k: r64[k] for k in ("loss_real", "loss_fake", "drift", "penalty", "grad_norm_x")}
        rec["grads"] = []
        for (k, g64), (_, g32) in zip(r64["grads"], r32["grads"]):
            spread = float(np.abs(g64 - g32).max() / max(np.abs(g64).max(), 1e-30))
            rec["grads"].append({"name": k, "values": [float("%.12g" % x) for x in g64],
                                 "float32_spread": spread})
            print("%s %-12s max|g| %.4g  float32 vs float64: %.2e of max" % (
                kind, k, np.abs(g64).max(), spread))
        rec.update(kind=kind, **({"lambda": LAMBDA, "drift_eps": DRIFT} if kind == "wgan-gp"
                                 else {"gamma": GAMMA, "every": EVERY, "loss": "ns"}))
        print(kind, {k: rec[k] for k in ("loss_real", "loss_fake", "drift", "penalty", "grad_norm_x")})
        fx[kind] = rec
    with open(sys.argv[1], "w") as f:
        json.dump(fx, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
