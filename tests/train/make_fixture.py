#!/usr/bin/python3
"""Makes tests/train/fixture_dcgan28.json: one dcgan28 GAN iteration (D step, then G step)
and the losses of 10 fixed-input iterations, computed by PyTorch from clgan's own initial
checkpoint and inputs. tests/train/test_fixture.c compares clgan with it; CI needs no PyTorch.

Regenerate (from the source root, with Debian's python3-torch; not the pyenv python3):

    meson setup build-fix && ninja -C build-fix tests/train/test_fixture
    build-fix/tests/train/test_fixture --dump /tmp/clgan-fixture
    /usr/bin/python3 tests/train/make_fixture.py /tmp/clgan-fixture tests/train/fixture_dcgan28.json
    meson test -C build-fix --print-errorlogs fixture

`test_fixture --dump DIR` writes init.safetensors (the initial state, a clgan checkpoint:
it is loaded here with load_state_dict(strict=True), which is the PyTorch-compatibility test
of the checkpoint format), inputs.safetensors (real.<i>, z.<i> of 10 iterations) and
clgan_iter1.safetensors (clgan's own gradients of iteration 1); the last one is used only for
the element-wise agreement table printed here, never stored in the fixture.

Summaries (the same in test_fixture.c): per tensor n, sum, sum of squares (float64), 4
projections onto +-1 vectors (sign k of element i = bit k of lowbias32(i + 0x9e3779b9)) and
32 elements (indices 0, n-1 and 30 from lowbias32); tensors of <= 512 elements whole.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

NPROJ, NSAMPLE, FULL_MAX = 4, 32, 512
TINY_GRAD = 1e-4  # |g| <= TINY_GRAD * rms(g): Adam's first step may go either way
BATCH, ITERS, NZ = 64, 10, 100
LR, BETAS, EPS = 2e-4, (0.5, 0.999), 1e-8


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file, parsed by hand (F32 and I64 only)."""
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop("__metadata__", {})
    data = memoryview(raw)[8 + hlen:]
    dtypes = {"F32": torch.float32, "I64": torch.int64}
    out = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        buf = bytearray(data[a:b])  # a writable copy: frombuffer shares it
        x = torch.frombuffer(buf, dtype=dtypes[t["dtype"]]) if b > a else torch.zeros(0, dtype=dtypes[t["dtype"]])
        out[name] = x.reshape(t["shape"])
    return out, meta


def dcgan28(channels=1):
    """dcgan28 as the issue defines it, layer for layer (indices = checkpoint names)."""
    g = nn.Sequential(
        nn.Linear(NZ, 256 * 7 * 7, bias=False), nn.Unflatten(1, (256, 7, 7)),
        nn.BatchNorm2d(256), nn.ReLU(),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, channels, 4, 2, 1, bias=False), nn.Tanh())
    d = nn.Sequential(
        nn.Conv2d(channels, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    return g, d


def lowbias32(x):
    x = x.astype(np.uint64) & 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x


def f32(v):
    """A float32 value as the shortest decimal that reads back as the same float32."""
    return float("%.9g" % float(np.float32(v)))


def summary(t):
    x = t.detach().reshape(-1).double().numpy()
    n = x.size
    h = lowbias32(np.arange(n, dtype=np.uint64) + 0x9E3779B9)
    s = {"n": n, "sum": float(x.sum()), "sumsq": float((x * x).sum()),
         "proj": [float(np.where((h >> k) & 1, x, -x).sum()) for k in range(NPROJ)]}
    if n <= FULL_MAX:
        s["values"] = [f32(v) for v in x]
    else:
        idx = [0, n - 1] + [int(v) % n for v in lowbias32(np.arange(NSAMPLE - 2, dtype=np.uint64) ^ 0x5BD1E995)]
        s["idx"] = idx
        s["val"] = [f32(x[i]) for i in idx]
    return s


def bce(logits, target):
    return F.binary_cross_entropy_with_logits(
        logits.reshape(-1), torch.full((logits.shape[0],), target, dtype=logits.dtype))


def load_nets(init, channels, dtype=torch.float32):
    g, d = dcgan28(channels)
    for net, prefix in ((g, "generator."), (d, "discriminator.")):
        sd = {k[len(prefix):]: v for k, v in init.items() if k.startswith(prefix)}
        net.load_state_dict(sd, strict=True)  # every name and shape must match
    return g.to(dtype).train(), d.to(dtype).train()


def state(g, d):
    return {**{"generator." + k: v.clone() for k, v in g.state_dict().items()},
            **{"discriminator." + k: v.clone() for k, v in d.state_dict().items()}}


def run(init, inputs, channels, dtype=torch.float32, perturb_seed=None, first=None):
    """ITERS iterations as clgan runs them (src/train/gan.c): the D step, then the G step. Returns
    each iteration's losses and D outputs; fills `first` with iteration 1's gradients, norms
    and state after Adam. perturb_seed: multiply every weight by 1 + 2^-23 * N(0, 1) first
    (about one float32 rounding), to measure how far rounding alone carries the run."""
    g, d = load_nets(init, channels, dtype)
    if perturb_seed is not None:
        gen = torch.Generator().manual_seed(perturb_seed)
        with torch.no_grad():
            for p in list(g.parameters()) + list(d.parameters()):
                p.mul_(1 + 2.0 ** -23 * torch.randn(p.shape, generator=gen, dtype=dtype))
    opt_g = torch.optim.Adam(g.parameters(), lr=LR, betas=BETAS, eps=EPS)
    opt_d = torch.optim.Adam(d.parameters(), lr=LR, betas=BETAS, eps=EPS)
    out = []
    for it in range(ITERS):
        real, z = inputs["real.%d" % it].to(dtype), inputs["z.%d" % it].to(dtype)
        # D step, G frozen: real -> 1, G(z) (train mode, a constant here) -> 0, grads add
        d.zero_grad()
        out_real = d(real)
        err_real = bce(out_real, 1.0)
        err_real.backward()
        fake = g(z)
        out_fake = d(fake.detach())
        err_fake = bce(out_fake, 0.0)
        err_fake.backward()
        if it == 0 and first is not None:
            first["grad"] = {"discriminator." + k: p.grad.clone() for k, p in d.named_parameters()}
            first["grad_norm_d"] = float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in d.parameters())))
        opt_d.step()
        # G step through D (train mode: D's running statistics move, its weights do not)
        g.zero_grad()
        out_g = d(fake)
        err_g = bce(out_g, 1.0)  # the non-saturating loss
        err_g.backward()
        if it == 0 and first is not None:
            first["grad"].update({"generator." + k: p.grad.clone() for k, p in g.named_parameters()})
            first["grad_norm_g"] = float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in g.parameters())))
        opt_g.step()
        if it == 0 and first is not None:
            first["after"] = state(g, d)
        out.append({"loss_d": float(err_real + err_fake), "loss_g": float(err_g),
                    "d_real": float(torch.sigmoid(out_real).mean()),
                    "d_fake": float(torch.sigmoid(out_fake).mean()),
                    "d_fake_after": float(torch.sigmoid(out_g).mean())})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dump", help="the folder `test_fixture --dump` wrote")
    ap.add_argument("out", nargs="?", help="the fixture to write (tests/train/fixture_dcgan28.json); "
                    "without it, only the agreement report with clgan's dump is printed")
    ap.add_argument("--spread-runs", type=int, default=8,
                    help="perturbed float32 runs (plus one float64 run) measuring the rounding envelope")
    a = ap.parse_args()
    torch.set_num_threads(1)

    init, meta = read_safetensors(os.path.join(a.dump, "init.safetensors"))
    inputs, _ = read_safetensors(os.path.join(a.dump, "inputs.safetensors"))
    channels = int(meta["image_channels"])
    assert channels == 1 and int(meta["batch"]) == BATCH, meta
    g, d = load_nets(init, channels)
    fx = {"format": "clgan-fixture-1", "generated_by": "tests/train/make_fixture.py",
          "torch": torch.__version__, "python": sys.version.split()[0], "model": "dcgan28",
          "image_channels": channels, "batch": BATCH, "seed": int(meta["seed"]), "iters": ITERS,
          "lr": LR, "betas": list(BETAS), "eps": EPS, "g_loss": "ns",
          "summary": {"projections": NPROJ, "samples": NSAMPLE, "full_max": FULL_MAX,
                      "sign": "bit k of lowbias32(i + 0x9e3779b9)"},
          "state_dict": {}, "init": {}, "inputs": {}}
    for k, v in state(g, d).items():
        fx["state_dict"][k] = {"dtype": "I64" if v.dtype == torch.int64 else "F32", "shape": list(v.shape)}
        if v.dtype == torch.float32:
            fx["init"][k] = summary(v)
    for k in sorted(inputs, key=lambda s: (s.split(".")[0], int(s.split(".")[1]))):
        fx["inputs"][k] = summary(inputs[k])

    first = {}
    losses = run(init, inputs, channels, first=first)
    for it, rec in enumerate(losses):
        print("iteration %2d: loss_d %.7f loss_g %.7f D(x) %.6f D(G(z)) %.6f / %.6f" % (
            it + 1, rec["loss_d"], rec["loss_g"], rec["d_real"], rec["d_fake"], rec["d_fake_after"]))
    fx["iter1"] = dict(losses[0], grad_norm_d=first["grad_norm_d"], grad_norm_g=first["grad_norm_g"])
    grads = first["grad"]
    fx["grad"] = {k: summary(v) for k, v in grads.items()}
    fx["after"] = {}
    for k, v in first["after"].items():
        if v.dtype == torch.int64:
            fx["after"][k] = int(v)
            continue
        fx["after"][k] = summary(v)
        if k in grads:  # elements whose gradient is within rounding of 0 may step either way
            gk = grads[k].reshape(-1).double()
            rms = float(gk.norm()) / gk.numel() ** 0.5
            fx["after"][k]["tiny_grad"] = int((gk.abs() <= TINY_GRAD * rms).sum())
    if not a.out:
        report(a.dump, fx, grads, first["after"], losses)
        return
    # The rounding envelope of the 10-iteration run: a DCGAN's first iterations amplify
    # differences (float32 vs float64 reach ~1e-4 at iteration 3 and ~1e-3 by 10), so the
    # losses are compared within what rounding alone does to PyTorch's own run.
    others = [run(init, inputs, channels, dtype=torch.float64)]
    others += [run(init, inputs, channels, perturb_seed=s + 1) for s in range(a.spread_runs)]
    for it, rec in enumerate(losses):
        rec["spread"] = {k: max(abs(o[it][k] - rec[k]) for o in others) for k in list(rec)}
        print("iteration %2d: rounding envelope %s" % (it + 1, " ".join(
            "%s %.2e" % kv for kv in rec["spread"].items())))
    fx["losses"] = losses
    text = json.dumps(fx, separators=(",", ":"))
    with open(a.out + ".tmp", "w") as f:
        f.write(text + "\n")
    os.replace(a.out + ".tmp", a.out)
    print("wrote %s (%d bytes)" % (a.out, len(text) + 1))
    report(a.dump, fx, grads, first["after"], losses)


def report(dump, fx, grads, after1, losses):
    """Element-wise agreement with clgan's own dump (printed, not part of the fixture)."""
    mine = os.path.join(dump, "clgan_iter1.safetensors")
    ck1 = os.path.join(dump, "iter1.safetensors")
    if os.path.exists(mine) and os.path.exists(ck1):
        cg, _ = read_safetensors(mine)
        cs, _ = read_safetensors(ck1)
        names = ["loss_d", "loss_g", "d_real", "d_fake", "d_fake_after", "grad_norm_d", "grad_norm_g"]
        for k, v in zip(names, cg["metrics"].tolist()):
            r = fx["iter1"][k]
            print("  %-14s clgan %.8g torch %.8g rel diff %.2e" % (k, v, r, abs(v - r) / abs(r)))
        print("  %-44s %10s %10s %10s %8s" % ("tensor", "max|diff|", "rms(ref)", "max/rms", "diff/||ref||"))
        rows = [("grad", k, v, cg["grad." + k]) for k, v in grads.items()]
        rows += [("after", k, v, cs[k]) for k, v in after1.items() if v.dtype == torch.float32]
        for kind, k, ref, got in rows:
            label = kind + " " + k
            ref = ref.reshape(-1).double()
            got = got.reshape(-1).double()
            diff = (got - ref).abs()
            rms = float(ref.norm()) / max(1, ref.numel()) ** 0.5
            print("  %-44s %10.3e %10.3e %10.3e %8.2e" % (label, float(diff.max()), rms,
                  float(diff.max()) / (rms + 1e-30), float((got - ref).norm()) / (float(ref.norm()) + 1e-30)))
        keys = ["loss_d", "loss_g", "d_real", "d_fake", "d_fake_after"]
        cl, _ = read_safetensors(os.path.join(dump, "clgan_losses.safetensors"))
        for it, row in enumerate(cl["losses"].tolist()):
            if "spread" in losses[it]:
                print("  iteration %2d: |clgan - torch| / rounding envelope: %s" % (it + 1, " ".join(
                    "%s %.2f" % (k, abs(v - losses[it][k]) / (losses[it]["spread"][k] + 1e-30))
                    for k, v in zip(keys, row))))
            else:
                print("  iteration %2d: |clgan - torch|: %s" % (it + 1, " ".join(
                    "%s %.2e" % (k, abs(v - losses[it][k])) for k, v in zip(keys, row))))


if __name__ == "__main__":
    main()
