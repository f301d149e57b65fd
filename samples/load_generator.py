#!/usr/bin/python3
"""Loads the generator of a clgan checkpoint into PyTorch and writes a grid of samples.

    /usr/bin/python3 samples/load_generator.py run/checkpoint.safetensors --out grid.png

Needs only the standard library and torch (Debian: python3-torch). The network is rebuilt
from the model file stored in the checkpoint's metadata by samples/clgan_torch.py (any model
file: graphs, named nodes, conditional models), and the generator.* tensors are loaded with
load_state_dict(strict=True): clgan stores them under PyTorch's own names and layouts
(docs/CHECKPOINTS.md). A conditional model's images are of the classes i % classes (image i),
or all of --label K. The noise is torch.randn from --seed, so the images are not
the ones `clgan generate --seed` draws (that uses clgan's Philox stream); --compare checks
the network itself against images clgan made from stored noise:

    build/tests/train/test_fixture --dump /tmp/fx
    /usr/bin/python3 samples/load_generator.py /tmp/fx/trained.safetensors --compare /tmp/fx/generated.safetensors
"""
import argparse
import math
import os
import struct
import sys
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clgan_torch  # noqa: E402

read_safetensors = clgan_torch.read_safetensors


def load_generator(path):
    """G of a checkpoint (eval mode) and its latent size."""
    tensors, meta = read_safetensors(path)
    g, _ = clgan_torch.build(meta["model"], int(meta["image_channels"]), source=path + " (model)")
    clgan_torch.load_state(g, tensors, "generator")
    return g.eval(), g.nz


def generate(g, z, batch_stats=False, chunk=64, labels=None):
    """G(z [, labels]) as `clgan generate` computes it: running statistics, or (batch_stats)
    each chunk of up to 64 normalised with its own statistics."""
    if g.classes and labels is None:
        labels = torch.arange(len(z)) % g.classes
    return clgan_torch.generate(g, z, labels, batch_stats, chunk)


def write_png_grid(path, images, pad=2):
    """(N, C, H, W) in [-1, 1] as a grid PNG, laid out as torchvision's make_grid/save_image
    (and clgan's own grids): ceil(sqrt(N)) columns, `pad` black pixels around each image."""
    n, c, h, w = images.shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = torch.zeros(c, rows * (h + pad) + pad, cols * (w + pad) + pad, dtype=torch.uint8)
    pixels = torch.floor((images.float() + 1) * 127.5 + 0.5).clamp(0, 255).nan_to_num(0).to(torch.uint8)
    for i in range(n):
        y, x = pad + (i // cols) * (h + pad), pad + (i % cols) * (w + pad)
        grid[:, y:y + h, x:x + w] = pixels[i]
    height, width = grid.shape[1:]
    body = grid.permute(1, 2, 0).contiguous().numpy().tobytes()
    stride = width * c
    scan = b"".join(b"\0" + body[r * stride:(r + 1) * stride] for r in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    color = {1: 0, 3: 2}[c]  # grey or RGB, 8 bits
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(scan, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--out", default="grid.png", help="the grid PNG (default grid.png)")
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1, help="torch.manual_seed of the noise")
    ap.add_argument("--batch-stats", action="store_true",
                    help="batch norm with each batch's statistics, as PyTorch's DCGAN example samples")
    ap.add_argument("--compare", metavar="GENERATED",
                    help="safetensors with z, images (and images_batch_stats) made by clgan: "
                         "print the largest difference; exit 1 above --tol")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--label", type=int, help="a conditional model: every image of this class "
                    "(default: image i of class i %% classes)")
    a = ap.parse_args()
    g, nz = load_generator(a.checkpoint)
    if a.compare:
        ref, _ = read_safetensors(a.compare)
        worst = 0.0
        for key, bs in (("images", False), ("images_batch_stats", True)):
            if key in ref:
                diff = (generate(g, ref["z"], bs, labels=ref.get("labels")) - ref[key]).abs().max().item()
                print("%s: max |torch - clgan| = %.3g over %d images" % (key, diff, len(ref["z"])))
                worst = max(worst, diff)
        return 0 if worst <= a.tol else 1
    torch.manual_seed(a.seed)
    labels = torch.full((a.count,), a.label) if a.label is not None and g.classes else None
    images = generate(g, torch.randn(a.count, nz), a.batch_stats, labels=labels)
    write_png_grid(a.out, images)
    print(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
