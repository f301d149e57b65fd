#!/usr/bin/python3
"""Makes tests/train/fixture_t2i.json: one matching-aware text-to-image iteration (GAN-INT-CLS
with StackGAN's conditioning augmentation) computed by PyTorch from clgan's own initial
checkpoint and inputs, for tests/train/test_fixture_t2i.c. The tiny model is written out by
hand here, module for module, from the model text in test_fixture_t2i.c (TINY).

Regenerate (from the source root, with Debian's python3-torch: /usr/bin/python3):

    build/tests/train/test_fixture_t2i --dump /tmp/clgan-fixture-t2i
    /usr/bin/python3 tests/train/make_fixture_t2i.py /tmp/clgan-fixture-t2i tests/train/fixture_t2i.json
    meson test -C build --print-errorlogs fixture_t2i

The iteration, as src/train/gan_text.c runs it:
  fake = G(z, text)                                  (G in training mode, once)
  D step: BCE(D(real, text), 1) + 0.5 BCE(D(fake.detach(), text), 0)
          + 0.5 BCE(D(real, wrong), 0)               (three training-mode forwards of D)
  G step: BCE(D(fake, text), 1) + 2 KL,  KL = -0.5 mean(1 + lv - mu^2 - e^lv)
  Adam (lr 2e-4, betas 0.5 0.999, eps 1e-8) on D after its step, on G after its.
The caption is nn.EmbeddingBag(10, 6, mode='sum') with per_sample_weights (the slot
weights; empty slots, id -1, dropped); condaug's eps is clgan's Philox draw, from the dump.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples"))
import clgan_torch  # noqa: E402

LR, BETAS, EPS = 2e-4, (0.5, 0.999), 1e-8


def bag_inputs(ids, weights):
    """EmbeddingBag input, offsets and per-sample weights of (n, slots) ids (-1: empty)."""
    flat, w, offsets = [], [], []
    for i in range(ids.shape[0]):
        offsets.append(len(flat))
        for k in range(ids.shape[1]):
            if int(ids[i, k]) >= 0:
                flat.append(int(ids[i, k]))
                w.append(float(weights[i, k]))
    return (torch.tensor(flat, dtype=torch.long), torch.tensor(offsets, dtype=torch.long),
            torch.tensor(w, dtype=torch.float32))


class G(nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(10, 6, mode="sum")
        self.t1 = nn.Linear(6, 6)
        self.mulv = nn.Linear(6, 8)
        self.l6 = nn.Linear(8, 32, bias=False)
        self.bn8 = nn.BatchNorm2d(2)
        self.ct10 = nn.ConvTranspose2d(2, 1, 4, 2, 1, bias=False)

    def forward(self, z, text, eps):
        e = self.bag(*text)
        h = F.leaky_relu(self.t1(e), 0.2)
        x = self.mulv(h)
        mu, lv = x[:, :4], x[:, 4:]
        c = mu + torch.exp(0.5 * lv) * eps
        kl = -0.5 * torch.mean(1 + lv - mu * mu - torch.exp(lv))
        y = self.l6(torch.cat([z, c], 1)).view(-1, 2, 4, 4)
        y = F.relu(self.bn8(y))
        return torch.tanh(self.ct10(y)), kl, lv

    def names(self):  # clgan's tensor names (named nodes by name, others by layer index)
        return {"bag.weight": self.bag.weight, "t1.weight": self.t1.weight, "t1.bias": self.t1.bias,
                "mulv.weight": self.mulv.weight, "mulv.bias": self.mulv.bias,
                "6.weight": self.l6.weight, "8.weight": self.bn8.weight, "8.bias": self.bn8.bias,
                "8.running_mean": self.bn8.running_mean, "8.running_var": self.bn8.running_var,
                "10.weight": self.ct10.weight}


class D(nn.Module):
    def __init__(self):
        super().__init__()
        self.c0 = nn.Conv2d(1, 4, 4, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.bag = nn.EmbeddingBag(10, 6, mode="sum")
        self.l4 = nn.Linear(6, 3)
        self.c8 = nn.Conv2d(7, 4, 1, bias=False)
        self.l11 = nn.Linear(64, 1)

    def forward(self, x, text):
        f = F.leaky_relu(self.bn1(self.c0(x)), 0.2)
        t = F.leaky_relu(self.l4(self.bag(*text)), 0.2)
        t = t.view(-1, 3, 1, 1).repeat(1, 1, 4, 4)  # upsample 4 (nearest) of a 1x1 map
        h = F.leaky_relu(self.c8(torch.cat([f, t], 1)), 0.2)
        return self.l11(h.flatten(1))

    def names(self):
        return {"0.weight": self.c0.weight, "1.weight": self.bn1.weight, "1.bias": self.bn1.bias,
                "1.running_mean": self.bn1.running_mean, "1.running_var": self.bn1.running_var,
                "bag.weight": self.bag.weight, "4.weight": self.l4.weight, "4.bias": self.l4.bias,
                "8.weight": self.c8.weight, "11.weight": self.l11.weight, "11.bias": self.l11.bias}


def load(net, init, prefix):
    names = net.names()
    with torch.no_grad():
        for k, t in names.items():
            src = init[prefix + "." + k]
            assert tuple(src.shape) == tuple(t.shape), (k, src.shape, t.shape)
            t.copy_(src)
    want = {k[len(prefix) + 1:] for k in init if k.startswith(prefix + ".") and
            not k.endswith("num_batches_tracked")}
    assert want == set(names), (prefix, sorted(want ^ set(names)))


def main():
    dump, out = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    init, meta = clgan_torch.read_safetensors(os.path.join(dump, "init.safetensors"))
    inp, _ = clgan_torch.read_safetensors(os.path.join(dump, "inputs.safetensors"))
    g, d = G(), D()
    load(g, init, "generator")
    load(d, init, "discriminator")
    g.train(), d.train()
    opt_g = torch.optim.Adam(g.parameters(), lr=LR, betas=BETAS, eps=EPS)
    opt_d = torch.optim.Adam(d.parameters(), lr=LR, betas=BETAS, eps=EPS)
    real, z, eps = inp["real"], inp["z"], inp["eps"]
    text = bag_inputs(inp["text_ids"], inp["text_weights"])
    wrong = bag_inputs(inp["wrong_ids"], inp["wrong_weights"])
    bce = F.binary_cross_entropy_with_logits

    fake, kl, lv = g(z, text, eps)
    d.zero_grad()
    o_real = d(real, text)
    l_real = bce(o_real, torch.ones_like(o_real))
    o_fake = d(fake.detach(), text)
    l_fake = bce(o_fake, torch.zeros_like(o_fake))
    o_wrong = d(real, wrong)
    l_wrong = bce(o_wrong, torch.zeros_like(o_wrong))
    (l_real + 0.5 * l_fake + 0.5 * l_wrong).backward()
    grad = {"discriminator." + k: p.grad.clone() for k, p in d.names().items() if p.grad is not None}
    opt_d.step()

    g.zero_grad()
    o_g = d(fake, text)
    l_g = bce(o_g, torch.ones_like(o_g))
    (l_g + 2.0 * kl).backward()
    grad.update({"generator." + k: p.grad.clone() for k, p in g.names().items() if p.grad is not None})
    opt_g.step()

    after = {"generator." + k: v.detach().clone() for k, v in g.names().items()}
    after.update({"discriminator." + k: v.detach().clone() for k, v in d.names().items()})
    sig = lambda o: float(torch.sigmoid(o).mean())  # noqa: E731
    fx = {"format": "clgan-fixture-t2i-1", "generated_by": "tests/train/make_fixture_t2i.py",
          "torch": torch.__version__, "model": "t2i-tiny", "batch": int(real.shape[0]),
          "seed": int(meta["seed"]),
          "loss_real": float(l_real), "loss_fake": float(l_fake), "loss_wrong": float(l_wrong),
          "loss_d": float(l_real + 0.5 * (l_fake + l_wrong)), "loss_g": float(l_g), "kl": float(kl),
          "min_logvar": float(lv.min()), "d_real": sig(o_real), "d_fake": sig(o_fake),
          "d_wrong": sig(o_wrong), "d_fake_after": sig(o_g),
          "grad": {k: [float(x) for x in v.reshape(-1)] for k, v in grad.items()},
          "after": {k: [float(x) for x in v.reshape(-1)] for k, v in after.items()}}
    with open(out + ".tmp", "w") as f:
        f.write(json.dumps(fx, separators=(",", ":")) + "\n")
    os.replace(out + ".tmp", out)
    print("loss_real %.8g loss_fake %.8g loss_wrong %.8g loss_d %.8g loss_g %.8g kl %.8g "
          "min logvar %.4g" % (fx["loss_real"], fx["loss_fake"], fx["loss_wrong"], fx["loss_d"],
                               fx["loss_g"], fx["kl"], fx["min_logvar"]))
    print("wrote %s" % out)


if __name__ == "__main__":
    main()
