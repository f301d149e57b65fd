#!/usr/bin/python3
"""The PyTorch twin of the default `clgan train` run, for the quality target of docs/RESULTS.md:
trains bench/torch_twin.py's dcgan28 on Fashion-MNIST (batch 64, Adam 2e-4 / 0.5 / 0.999, the
non-saturating loss, DCGAN init) for --iters iterations, then writes --count samples of G in
eval mode (batch norm with running statistics, as clgan's grids and `clgan eval`) as PNGs.

    /usr/bin/python3 bench/torch_twin_train.py --iters 2811 --out /tmp/twin
    build/clgan eval --data /tmp/twin/samples --json

No test runs this (it needs torch); docs/RESULTS.md records its command and figures.
"""
import argparse
import gzip
import os
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_twin  # noqa: E402  (the same layers as the benchmark)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    n, h, w = struct.unpack(">III", data[4:16])
    return data[16:], n, h, w


def write_png(path, pixels, h, w):
    raw = b"".join(b"\x00" + pixels[y * w:(y + 1) * w] for y in range(h))

    def chunk(kind, body):
        c = kind + body
        return struct.pack(">I", len(body)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
    ap.add_argument("--iters", type=int, default=2811, help="3 epochs of 937 at batch 64")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    raw, n, h, w = read_idx(a.data)
    x = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(n, 1, h, w).float() / 127.5 - 1
    g, d, size = torch_twin.build("dcgan28", 1, nn)
    for net in (g, d):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)
    g.train(), d.train()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
    ones = torch.ones(a.batch)
    zeros = torch.zeros(a.batch)
    per_epoch = n // a.batch
    t0 = time.time()
    perm = None
    for it in range(a.iters):
        if it % per_epoch == 0:
            perm = torch.randperm(n)
        idx = perm[(it % per_epoch) * a.batch:(it % per_epoch + 1) * a.batch]
        real = x[idx]
        z = torch.randn(a.batch, 100)
        d.zero_grad(set_to_none=True)
        fake = g(z)
        err_d = F.binary_cross_entropy_with_logits(d(real).reshape(-1), ones) + \
            F.binary_cross_entropy_with_logits(d(fake.detach()).reshape(-1), zeros)
        err_d.backward()
        opt_d.step()
        g.zero_grad(set_to_none=True)
        d.requires_grad_(False)
        err_g = F.binary_cross_entropy_with_logits(d(fake).reshape(-1), ones)
        err_g.backward()
        opt_g.step()
        d.requires_grad_(True)
        if it % 100 == 0 or it == a.iters - 1:
            print("iter %d/%d loss_d %.3f loss_g %.3f %.0f s" % (
                it + 1, a.iters, float(err_d), float(err_g), time.time() - t0), flush=True)
    train_s = time.time() - t0
    g.eval()
    out = os.path.join(a.out, "samples")
    os.makedirs(out, exist_ok=True)
    with torch.no_grad():
        k = 0
        while k < a.count:
            m = min(500, a.count - k)
            img = g(torch.randn(m, 100))
            px = ((img.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
            for i in range(m):
                write_png(os.path.join(out, "%05d.png" % (k + i)), px[i, 0].tobytes(), size, size)
            k += m
    torch.save({"g": g.state_dict(), "d": d.state_dict()}, os.path.join(a.out, "twin.pt"))
    print("trained %d iterations in %.0f s; %d samples in %s" % (a.iters, train_s, a.count, out))


if __name__ == "__main__":
    main()
