#!/usr/bin/python3
"""Makes tests/train/fixture_pix2pix.json: one pix2pix iteration computed by PyTorch on a tiny
image-to-image model (U-Net-like G from cond with batch norm, instance norm, a skip concat
and upsample + a reflect-padded conv; a PatchGAN D on (image, cond) pairs giving a 2x2 map
of logits), as src/train/gan.c runs it: G(cond) (training mode); the D step with G frozen,
D's loss 0.5 * (BCE(D(y, x), 1) + BCE(D(G(x), x), 0)), each the mean over the map, D(real)
forward first, Adam; the G step through the frozen D, 1 * BCE(D(G(x), x), 1) + 100 *
L1(G(x), y), Adam. Stored: the model text, the initial weights and statistics (PyTorch's own
initialisation, seed 0), the inputs, the losses, both nets' gradients and the weights and
running statistics after the iteration. tests/train/test_fixture_pix2pix.c compares clgan
with it; CI needs no PyTorch. Regenerate with Debian's python3-torch (not pyenv's python3):

    /usr/bin/python3 tests/train/make_fixture_pix2pix.py tests/train/fixture_pix2pix.json
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples"))
import clgan_torch  # noqa: E402

MODEL = """model tiny-pix2pix
image 1 8 8

generator
  input cond
  e1: conv 4 k=4 s=2 p=1
  a1: leakyrelu 0.2
  conv 8 k=4 s=2 p=1 bias=0
  batchnorm
  relu
  convt 4 k=4 s=2 p=1
  instancenorm
  r: relu
  s: concat in=r,a1
  upsample 2
  conv 1 k=3 p=1 pm=reflect
  tanh

discriminator
  input image cond
  concat in=image,cond
  conv 8 k=4 s=2 p=1 pad=reflect
  batchnorm
  leakyrelu 0.2
  conv 1 k=3 s=2 p=1
"""
B, LR, BETAS, EPS, LAMBDA, ADV, DSCALE = 4, 2e-4, (0.5, 0.999), 1e-8, 100.0, 1.0, 0.5


def flat(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).double().tolist()]


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    g, d = clgan_torch.build(MODEL, 1, "fixture model")
    g.train(), d.train()
    x = torch.rand(B, 1, 8, 8) * 2 - 1
    y = torch.rand(B, 1, 8, 8) * 2 - 1
    init = {**{"generator." + k: flat(v) for k, v in g.state_dict().items() if "num_batches" not in k},
            **{"discriminator." + k: flat(v) for k, v in d.state_dict().items() if "num_batches" not in k}}
    opt_g = torch.optim.Adam(g.parameters(), lr=LR, betas=BETAS, eps=EPS)
    opt_d = torch.optim.Adam(d.parameters(), lr=LR, betas=BETAS, eps=EPS)
    fake = g(cond=x)
    # D step, G frozen
    d.zero_grad()
    out_real = d(image=y, cond=x)
    l_real = F.binary_cross_entropy_with_logits(out_real, torch.ones_like(out_real))
    out_fake = d(image=fake.detach(), cond=x)
    l_fake = F.binary_cross_entropy_with_logits(out_fake, torch.zeros_like(out_fake))
    (DSCALE * (l_real + l_fake)).backward()
    grads = {"discriminator." + k: flat(p.grad) for k, p in d.named_parameters()}
    opt_d.step()
    # G step through the frozen D
    g.zero_grad()
    for p in d.parameters():
        p.requires_grad_(False)
    out_g = d(image=fake, cond=x)
    l_adv = F.binary_cross_entropy_with_logits(out_g, torch.ones_like(out_g))
    l_l1 = F.l1_loss(fake, y)
    (ADV * l_adv + LAMBDA * l_l1).backward()
    grads.update({"generator." + k: flat(p.grad) for k, p in g.named_parameters()})
    opt_g.step()
    after = {**{"generator." + k: flat(v) for k, v in g.state_dict().items() if "num_batches" not in k},
             **{"discriminator." + k: flat(v) for k, v in d.state_dict().items() if "num_batches" not in k}}
    fx = {"format": "clgan-fixture-pix2pix-1", "generated_by": "tests/train/make_fixture_pix2pix.py",
          "torch": torch.__version__, "model": MODEL, "batch": B, "lr": LR, "content_weight": LAMBDA,
          "adv_weight": ADV, "d_loss_scale": DSCALE, "cond": flat(x), "target": flat(y),
          "loss_d": float(DSCALE * (l_real + l_fake)), "loss_g_adv": float(l_adv), "l1": float(l_l1),
          "d_real": float(torch.sigmoid(out_real).mean()), "d_fake": float(torch.sigmoid(out_fake).mean()),
          "init": init, "grad": grads, "after": after}
    with open(sys.argv[1], "w") as f:
        json.dump(fx, f, indent=0)
        f.write("\n")
    print("loss_d %.6f loss_g_adv %.6f l1 %.6f" % (fx["loss_d"], fx["loss_g_adv"], fx["l1"]))


if __name__ == "__main__":
    main()
