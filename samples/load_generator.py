#!/usr/bin/python3
"""Loads the generator of a clgan checkpoint into PyTorch and writes a grid of samples.

    /usr/bin/python3 samples/load_generator.py run/checkpoint.safetensors --out grid.png

Needs only the standard library and torch (Debian: python3-torch). The network is rebuilt
from the model file stored in the checkpoint's metadata, and the generator.* tensors are
loaded with load_state_dict(strict=True): clgan stores them under PyTorch's own names and
layouts (docs/CHECKPOINTS.md). The noise is torch.randn from --seed, so the images are not
the ones `clgan generate --seed` draws (that uses clgan's Philox stream); --compare checks
the network itself against images clgan made from stored noise:

    build/tests/train/test_fixture --dump /tmp/fx
    /usr/bin/python3 samples/load_generator.py /tmp/fx/trained.safetensors --compare /tmp/fx/generated.safetensors
"""
import argparse
import hashlib
import json
import math
import struct
import sys
import zlib

import torch
import torch.nn as nn


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file; checks clgan's integrity hash when present."""
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop("__metadata__", {})
    data = raw[8 + hlen:]
    want = meta.get("clgan_sha256")
    if want and hashlib.sha256(data).hexdigest() != want.lower():
        sys.exit("%s: integrity check failed (the data's SHA-256 differs from clgan_sha256)" % path)
    dtypes = {"F32": torch.float32, "I64": torch.int64}
    tensors = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        x = torch.frombuffer(bytearray(data[a:b]), dtype=dtypes[t["dtype"]]) if b > a else torch.zeros(0)
        tensors[name] = x.reshape(t["shape"])
    return tensors, meta


class ClganSequential(nn.Sequential):
    """nn.Sequential over clgan's layer list (so state_dict names are "<index>.weight"), with
    clgan's shape rules: activations are (N, C, H, W); linear sees the flattened input and
    gives (N, F, 1, 1); reshape and flatten only change the view."""

    def __init__(self, layers, in_shape, shapes):
        super().__init__(*layers)
        self.in_shape, self.shapes = in_shape, shapes  # (C, H, W): the input, each output

    def forward(self, x):
        x = x.reshape(x.shape[0], *self.in_shape)
        for layer, shape in zip(self, self.shapes):
            if isinstance(layer, nn.Linear):
                x = layer(x.flatten(1))
            elif not isinstance(layer, (nn.Unflatten, nn.Flatten)):
                x = layer(x)
            x = x.reshape(x.shape[0], *shape)
        return x


def build_generator(model_text, image_channels):
    """The generator section of a clgan model file as a ClganSequential, and the latent size."""
    nz, section, layers, shapes = None, None, [], []
    for raw in model_text.splitlines():
        tok = raw.split("#", 1)[0].split()
        if not tok:
            continue
        if tok[0] == "latent":
            nz = int(tok[1])
            shape = (nz, 1, 1)
        elif tok[0] in ("generator", "discriminator"):
            section = tok[0]
        elif tok[0] in ("model", "image"):
            pass
        elif section == "generator":
            kind, args = tok[0], tok[1:]
            opts = dict(a.split("=", 1) for a in args if "=" in a)
            pos = [a for a in args if "=" not in a]
            c, h, w = shape
            if kind in ("linear", "conv", "convt"):
                out = image_channels if pos[0] == "C" else int(pos[0])
                bias = opts.get("bias", "1") == "1"
            if kind == "linear":
                layer, shape = nn.Linear(c * h * w, out, bias=bias), (out, 1, 1)
            elif kind in ("conv", "convt"):
                k, s, p = int(opts["k"]), int(opts.get("s", 1)), int(opts.get("p", 0))
                if kind == "conv":
                    layer = nn.Conv2d(c, out, k, s, p, bias=bias)
                    shape = (out, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
                else:
                    op = int(opts.get("op", 0))
                    layer = nn.ConvTranspose2d(c, out, k, s, p, output_padding=op, bias=bias)
                    shape = (out, (h - 1) * s - 2 * p + k + op, (w - 1) * s - 2 * p + k + op)
            elif kind == "reshape":
                shape = tuple(int(v) for v in pos[:3])
                layer = nn.Unflatten(1, shape)
            elif kind == "flatten":
                layer, shape = nn.Flatten(), (c * h * w, 1, 1)
            elif kind == "batchnorm":  # BatchNorm2d on (C, 1, 1) computes BatchNorm1d's numbers
                layer = nn.BatchNorm2d(c)
            elif kind == "leakyrelu":
                layer = nn.LeakyReLU(float(pos[0]) if pos else 0.01)
            else:
                layer = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[kind]()
            layers.append(layer)
            shapes.append(shape)
    return ClganSequential(layers, (nz, 1, 1), shapes), nz


def load_generator(path):
    tensors, meta = read_safetensors(path)
    g, nz = build_generator(meta["model"], int(meta["image_channels"]))
    state = {k[len("generator."):]: v for k, v in tensors.items() if k.startswith("generator.")}
    g.load_state_dict(state, strict=True)
    return g.eval(), nz


@torch.no_grad()
def generate(g, z, batch_stats=False, chunk=64):
    """G(z) as `clgan generate` computes it: running statistics, or (batch_stats) each chunk
    of up to 64 normalised with its own statistics."""
    g.train(batch_stats)
    momentum = {m: m.momentum for m in g.modules() if isinstance(m, nn.BatchNorm2d)}
    for m in momentum:
        m.momentum = 0.0  # batch statistics without moving the running ones
    out = torch.cat([g(z[i:i + chunk]) for i in range(0, len(z), chunk)])
    for m, v in momentum.items():
        m.momentum = v
    g.eval()
    return out


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
    a = ap.parse_args()
    g, nz = load_generator(a.checkpoint)
    if a.compare:
        ref, _ = read_safetensors(a.compare)
        worst = 0.0
        for key, bs in (("images", False), ("images_batch_stats", True)):
            if key in ref:
                diff = (generate(g, ref["z"], bs) - ref[key]).abs().max().item()
                print("%s: max |torch - clgan| = %.3g over %d images" % (key, diff, len(ref["z"])))
                worst = max(worst, diff)
        return 0 if worst <= a.tol else 1
    torch.manual_seed(a.seed)
    images = generate(g, torch.randn(a.count, nz), a.batch_stats)
    write_png_grid(a.out, images)
    print(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
