#!/usr/bin/python3
"""Makes tests/train/fixture_<model>.json: one GAN iteration (D step, then G step) and the
losses of 10 fixed-input iterations, computed by PyTorch from clgan's own initial checkpoint
and inputs. tests/train/test_fixture.c compares clgan with it; CI needs no PyTorch. The nets
are built from the model text stored in the checkpoint by samples/clgan_torch.py.

Regenerate (from the source root, with Debian's python3-torch; not the pyenv python3):

    meson setup build-fix && ninja -C build-fix tests/train/test_fixture
    build-fix/tests/train/test_fixture --dump /tmp/clgan-fixture
    /usr/bin/python3 tests/train/make_fixture.py /tmp/clgan-fixture tests/train/fixture_dcgan28.json
    meson test -C build-fix --print-errorlogs fixture

    build-fix/tests/train/test_fixture --dump /tmp/clgan-fixture-c28 cdcgan28
    /usr/bin/python3 tests/train/make_fixture.py /tmp/clgan-fixture-c28 tests/train/fixture_cdcgan28.json
    meson test -C build-fix --print-errorlogs fixture_cdcgan28

    # dcgan28 with spectral norm (sn=1 on D's convs and linear, G's first convt)
    build-fix/tests/train/test_fixture --dump /tmp/clgan-fixture-sn tests/train/dcgan28-sn.model
    /usr/bin/python3 tests/train/make_fixture.py --model-file dcgan28-sn.model /tmp/clgan-fixture-sn tests/train/fixture_dcgan28-sn.json
    meson test -C build-fix --print-errorlogs fixture_dcgan28-sn

    # cdcgan28-proj: no fixture committed yet (one made so fails at up to 1.8 x its
    # tolerances, docs/CHECKPOINTS.md says why); these make one (add its meson test)
    build-fix/tests/train/test_fixture --dump /tmp/clgan-fixture-c28p cdcgan28-proj
    /usr/bin/python3 tests/train/make_fixture.py /tmp/clgan-fixture-c28p tests/train/fixture_cdcgan28-proj.json
    meson test -C build-fix --print-errorlogs fixture_cdcgan28-proj

`test_fixture --dump DIR [MODEL]` writes init.safetensors (the initial state, a clgan
checkpoint: it is loaded here with load_state_dict(strict=True), which is the
PyTorch-compatibility test of the checkpoint format), inputs.safetensors (real.<i>, z.<i> of
10 iterations; a conditional model's label.<i>, the real batch's classes, and fake_label.<i>,
the classes G is asked for), generated_init.safetensors (fixed noise and the classes i % 10
that G(z, labels) is compared on, conditional models only) and clgan_iter1.safetensors
(clgan's own gradients of iteration 1); the last one is used only for the element-wise
agreement table printed here, never stored in the fixture. The first three are written
before any training, so a fixture can be made before clgan's iteration runs.

Conditional models: the real batch's labels are Philox uniforms u of key seed + 0x7265616c + 2
(value it * 64 + b), class floor(u * classes); the fake ones are clgan_gan_fake_labels (key
seed + 0x5a5a0003); both are stored whole in the fixture's inputs. D sees the real batch with
its labels and G(z, fake labels) with the fake labels, as src/gan.c does. The fixture also
holds "generate": G(z, labels) of the initial checkpoint in PyTorch, with running statistics
and with batch statistics.

Summaries (the same in test_fixture.c): per tensor n, sum, sum of squares (float64), 4
projections onto +-1 vectors (sign k of element i = bit k of lowbias32(i + 0x9e3779b9)) and
32 elements (indices 0, n-1 and 30 from lowbias32); tensors of <= 512 elements whole.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples"))
import clgan_torch  # noqa: E402

NPROJ, NSAMPLE, FULL_MAX = 4, 32, 512
TINY_GRAD = 1e-4  # |g| <= TINY_GRAD * rms(g): Adam's first step may go either way
BATCH, ITERS, NZ = 64, 10, 100
LR, BETAS, EPS = 2e-4, (0.5, 0.999), 1e-8


read_safetensors = clgan_torch.read_safetensors


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


def d_loss(loss, logits, real):
    """D's loss term for the real (real=True) or the fake batch, as src/gan.c's d_loss."""
    if loss == "hinge":
        return F.relu(1 - logits.reshape(-1)).mean() if real else F.relu(1 + logits.reshape(-1)).mean()
    assert loss == "ns", loss
    return bce(logits, 1.0 if real else 0.0)


def g_loss(loss, logits):
    if loss == "hinge":
        return -logits.reshape(-1).mean()
    assert loss == "ns", loss
    return bce(logits, 1.0)  # the non-saturating loss


MODEL_TEXT = {}  # the model text of the dump being processed (from init.safetensors)


def load_nets(init, channels, dtype=torch.float32):
    g, d = clgan_torch.build(MODEL_TEXT["text"], channels, "init.safetensors (model)")
    clgan_torch.load_state(g, init, "generator")  # strict: every name and shape must match
    clgan_torch.load_state(d, init, "discriminator")
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
    loss = MODEL_TEXT["loss"]
    out = []
    for it in range(ITERS):
        real, z = inputs["real.%d" % it].to(dtype), inputs["z.%d" % it].to(dtype)
        # conditional: D judges the real batch with its labels, G(z, y') with y'
        lab_real = {"label": inputs["label.%d" % it]} if "label.%d" % it in inputs else {}
        lab_fake = {"label": inputs["fake_label.%d" % it]} if lab_real else {}
        # D step, G frozen: real -> 1, G(z) (train mode, a constant here) -> 0, grads add
        d.zero_grad()
        out_real = d(image=real, **lab_real)
        err_real = d_loss(loss, out_real, True)
        err_real.backward()
        fake = g(z, **lab_fake)
        out_fake = d(image=fake.detach(), **lab_fake)
        err_fake = d_loss(loss, out_fake, False)
        err_fake.backward()
        if it == 0 and first is not None:
            first["grad"] = {"discriminator." + k: p.grad.clone() for k, p in d.named_parameters()}
            first["grad_norm_d"] = float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in d.parameters())))
        opt_d.step()
        # G step through D (train mode: D's running statistics move, its weights do not)
        g.zero_grad()
        out_g = d(image=fake, **lab_fake)
        err_g = g_loss(loss, out_g)
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
    ap.add_argument("--model-file", help="a model that is no preset: its file name, next to the "
                    "fixture (tests/train/dcgan28-sn.model), recorded for test_fixture.c")
    ap.add_argument("--spread-runs", type=int, default=8,
                    help="perturbed float32 runs (plus one float64 run) measuring the rounding envelope")
    a = ap.parse_args()
    torch.set_num_threads(1)

    init, meta = read_safetensors(os.path.join(a.dump, "init.safetensors"))
    inputs, _ = read_safetensors(os.path.join(a.dump, "inputs.safetensors"))
    channels = int(meta["image_channels"])
    assert channels == 1 and int(meta["batch"]) == BATCH, meta
    model = clgan_torch.parse_model(meta["model"], "init.safetensors (model)")
    assert meta["g_loss"] == (model.loss or "ns"), (meta["g_loss"], model.loss)
    MODEL_TEXT.update(text=meta["model"], loss=meta["g_loss"])
    g, d = load_nets(init, channels)
    fx = {"format": "clgan-fixture-1", "generated_by": "tests/train/make_fixture.py",
          "torch": torch.__version__, "python": sys.version.split()[0], "model": model.name,
          "image_channels": channels, "batch": BATCH, "seed": int(meta["seed"]), "iters": ITERS,
          "lr": LR, "betas": list(BETAS), "eps": EPS, "g_loss": meta["g_loss"],
          "summary": {"projections": NPROJ, "samples": NSAMPLE, "full_max": FULL_MAX,
                      "sign": "bit k of lowbias32(i + 0x9e3779b9)"},
          "state_dict": {}, "init": {}, "inputs": {}}
    if a.model_file:
        fx["model_file"] = a.model_file
    for k, v in state(g, d).items():
        fx["state_dict"][k] = {"dtype": "I64" if v.dtype == torch.int64 else "F32", "shape": list(v.shape)}
        if v.dtype == torch.float32:
            fx["init"][k] = summary(v)
    for k in sorted(inputs, key=lambda s: (s.split(".")[0], int(s.split(".")[1]))):
        fx["inputs"][k] = summary(inputs[k])
    if model.classes:
        fx["classes"] = model.classes
        fx["labels"] = ("label.<i>: class floor(u * classes) of Philox uniform u, key seed + "
                        "0x7265616c + 2, value i * batch + b; fake_label.<i>: clgan_gan_fake_labels")
        # G(z, labels) of the initial checkpoint: running statistics (eval) and batch statistics
        gen, _ = read_safetensors(os.path.join(a.dump, "generated_init.safetensors"))
        g0, _ = load_nets(init, channels)
        z0, lab0 = gen["z"], gen["labels"]
        assert lab0.tolist() == [i % model.classes for i in range(len(lab0))]
        fx["generate"] = {"z": summary(z0), "labels": summary(lab0),
                          "images": summary(clgan_torch.generate(g0, z0, lab0, batch_stats=False)),
                          "images_batch_stats": summary(clgan_torch.generate(g0, z0, lab0, batch_stats=True))}

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
        if "generate" in fx:
            cgen, _ = read_safetensors(os.path.join(dump, "generated_init.safetensors"))
            for key in ("images", "images_batch_stats"):
                ref, got = fx["generate"][key], cgen[key].reshape(-1).double()
                print("  generate %-18s |sum clgan - torch| %.3e, sumsq %.9g vs %.9g" % (
                    key, abs(float(got.sum()) - ref["sum"]), float((got * got).sum()), ref["sumsq"]))
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
