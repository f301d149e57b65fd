#!/usr/bin/python3
"""The PyTorch twin of `clgan bench train`: the same dcgan28 / dcgan64 preset, batch, losses
(BCE from logits, the non-saturating G loss), Adam (lr 2e-4, betas 0.5/0.999, eps 1e-8) and
iteration (D step with G frozen, then the G step through a frozen D), timed the same way (the
median of --iters iterations after --warmup), printing the same RESULT line.

    /usr/bin/python3 bench/torch_twin.py --model dcgan28 --batch 64 --threads 1
    python3 bench/torch_twin.py --device cuda --model dcgan64 --batch 256   # on a GPU

Debian's python3-torch is at /usr/bin/python3 (the pyenv python3 on PATH has no torch). The
layers are those of samples/dcgan28.model and samples/dcgan64.model, as nn.Sequential in the
same order (tests/train/make_fixture.py checks dcgan28 against clgan value by value).

Work done per iteration is the same as clgan's: in the G step D's parameters are frozen
(requires_grad False), so no D weight gradients are computed, as src/train/gan.c skips them;
--example-style computes them anyway, as PyTorch's DCGAN example does.
"""
import argparse
import json
import os
import statistics
import sys
import time


def build(model, channels, nn):
    if model == "dcgan28":
        g = nn.Sequential(
            nn.Linear(100, 256 * 7 * 7, bias=False), nn.Unflatten(1, (256, 7, 7)),
            nn.BatchNorm2d(256), nn.ReLU(),
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
            nn.ConvTranspose2d(128, channels, 4, 2, 1, bias=False), nn.Tanh())
        d = nn.Sequential(
            nn.Conv2d(channels, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
        return g, d, 28
    if model == "dcgan64":
        def up(i, o, first=False):
            return [nn.ConvTranspose2d(i, o, 4, 1 if first else 2, 0 if first else 1, bias=False),
                    nn.BatchNorm2d(o), nn.ReLU()]

        def down(i, o, bn=True):
            return [nn.Conv2d(i, o, 4, 2, 1, bias=False)] + ([nn.BatchNorm2d(o)] if bn else []) + \
                   [nn.LeakyReLU(0.2)]
        g = nn.Sequential(nn.Unflatten(1, (100, 1, 1)), *up(100, 512, True), *up(512, 256),
                          *up(256, 128), *up(128, 64),
                          nn.ConvTranspose2d(64, channels, 4, 2, 1, bias=False), nn.Tanh())
        d = nn.Sequential(*down(channels, 64, bn=False), *down(64, 128), *down(128, 256),
                          *down(256, 512), nn.Conv2d(512, 1, 4, 1, 0, bias=False), nn.Flatten())
        return g, d, 64
    raise SystemExit("torch_twin: unknown model %r (dcgan28 or dcgan64)" % model)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="dcgan28")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    ap.add_argument("--channels", type=int, default=1, help="image channels (Fashion-MNIST: 1)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--example-style", action="store_true",
                    help="also compute D's weight gradients in the G step (PyTorch's example)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.threads > 0:
        # before torch starts its pools
        os.environ["OMP_NUM_THREADS"] = str(a.threads)
        os.environ["MKL_NUM_THREADS"] = str(a.threads)
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    if a.threads > 0:
        torch.set_num_threads(a.threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    dev = torch.device(a.device)
    torch.manual_seed(1)
    g, d, size = build(a.model, a.channels, nn)
    for net in (g, d):  # DCGAN initialisation, as clgan's
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)
    g, d = g.to(dev).train(), d.to(dev).train()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    real = torch.rand(a.batch, a.channels, size, size, device=dev) * 2 - 1
    ones = torch.ones(a.batch, device=dev)
    zeros = torch.zeros(a.batch, device=dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    def iteration():
        z = torch.randn(a.batch, 100, device=dev)
        # D step, G frozen: G(z) is a constant for D
        d.zero_grad(set_to_none=True)
        err_real = F.binary_cross_entropy_with_logits(d(real).reshape(-1), ones)
        fake = g(z)
        err_fake = F.binary_cross_entropy_with_logits(d(fake.detach()).reshape(-1), zeros)
        (err_real + err_fake).backward()
        opt_d.step()
        # G step through a frozen D (its batch-norm statistics still move, as in clgan)
        g.zero_grad(set_to_none=True)
        if not a.example_style:
            d.requires_grad_(False)
        err_g = F.binary_cross_entropy_with_logits(d(fake).reshape(-1), ones)
        err_g.backward()
        opt_g.step()
        if not a.example_style:
            d.requires_grad_(True)
        # the losses read back, as clgan reads its metrics every iteration
        return float(err_real + err_fake), float(err_g)

    for _ in range(a.warmup):
        iteration()
    sync()
    times = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        iteration()
        sync()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    threads = torch.get_num_threads() if dev.type == "cpu" else 0
    what = "cuda:%s" % torch.cuda.get_device_name(dev) if dev.type == "cuda" else "threads %d" % threads
    if a.json:
        print(json.dumps({"framework": "torch", "torch": torch.__version__, "device": a.device,
                          "device_name": what, "model": a.model, "batch": a.batch,
                          "threads": threads, "iters": a.iters, "ms_per_iter": med * 1e3,
                          "ms_per_iter_min": min(times) * 1e3, "img_per_s": a.batch / med,
                          "example_style": a.example_style}))
    else:
        print("torch %s, %s" % (torch.__version__, what), file=sys.stderr)
        print("RESULT torch %s batch %d %s: %.1f ms/iter, %.1f img/s" % (
            a.model, a.batch, what, med * 1e3, a.batch / med))


if __name__ == "__main__":
    main()
