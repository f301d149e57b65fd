#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/ (small,
valid and nearly-valid inputs that reach deep into each parser). The checkpoint seeds also
need a real checkpoint: pass one made by `clgan train` on a tiny model, e.g.
    clgan train --model tests/fuzz/corpus/model/tiny4.model --iters 1 --batch 4 \
        --max-images 8 --out /tmp/t && make_corpus.py /tmp/t/latest.safetensors
Run from anywhere; only the standard library is used."""
import gzip, json, os, struct, sys, zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- IDX: [flags][split u16 LE][images][labels] (see fuzz_idx.c) ----
def idx(ndim, dims, payload):
    return bytes([0, 0, 8, ndim]) + b"".join(struct.pack(">I", v) for v in dims) + payload


imgs = idx(3, [5, 4, 3], bytes((i * 53 + 7) & 255 for i in range(60)))
labels = idx(1, [5], bytes([9, 0, 3, 3, 7]))


def idx_input(flags, images, lab=b""):
    return bytes([flags]) + struct.pack("<H", len(images)) + images + lab


out("idx", "plain", idx_input(2, imgs))
out("idx", "plain_labels", idx_input(3, imgs, labels))
out("idx", "gz_labels_rgb", idx_input(5, gzip.compress(imgs, mtime=0), gzip.compress(labels, mtime=0)))
out("idx", "gz_max2", idx_input(8 + 6, gzip.compress(imgs, mtime=0)))
out("idx", "grow", idx_input(0, idx(3, [2, 2, 2], bytes([0, 255, 128, 7, 1, 2, 3, 4]))))
out("idx", "truncated", idx_input(2, imgs[:40]))
out("idx", "labels_short", idx_input(3, imgs, idx(1, [4], bytes(4))))
out("idx", "huge_count", idx_input(2, idx(3, [0x7FFFFFFF, 28, 28], bytes(16))))

# ---- PNG: [flags][file] (see fuzz_png.c) ----
def chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xFFFFFFFF)


def png(w, h, depth, ctype, rows, extra=b"", interlace=0):
    """rows: raw scanlines without filter bytes, already packed for the depth."""
    sig = b"\x89PNG\r\n\x1a\n"
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace)
    raw = b"".join(b"\x00" + r for r in rows)
    return sig + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def adam7(w, h, bpp, pixel):
    """Scanlines of an interlaced image with 8-bit samples: pixel(x, y) -> bytes."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    rows = []
    for x0, y0, dx, dy in passes:
        xs = range(x0, w, dx)
        if not xs:
            continue
        for y in range(y0, h, dy):
            rows.append(b"".join(pixel(x, y) for x in xs))
    return rows


g8 = [bytes((x * 40 + y * 9) & 255 for x in range(6)) for y in range(5)]
out("png", "grey8", bytes([0]) + png(6, 5, 8, 0, g8))
out("png", "grey8_cut", bytes([4 + 8 * 20]) + png(6, 5, 8, 0, g8))
out("png", "grey16", bytes([1]) + png(3, 2, 16, 0, [struct.pack(">3H", 0, 32768, 65535)] * 2))
out("png", "grey_alpha", bytes([2]) + png(2, 2, 8, 4, [bytes([10, 255, 200, 128])] * 2))
out("png", "rgb", bytes([1]) + png(2, 3, 8, 2, [bytes([255, 0, 0, 0, 255, 0])] * 3))
out("png", "rgba16", bytes([3]) + png(1, 2, 16, 6, [struct.pack(">4H", 1, 2, 3, 65535)] * 2))
pal = chunk(b"PLTE", bytes([0, 0, 0, 255, 255, 255, 255, 0, 0])) + chunk(b"tRNS", bytes([255, 0]))
out("png", "palette_trns", bytes([1]) + png(4, 2, 2, 3, [bytes([0b00011011])] * 2, pal))
out("png", "grey1", bytes([0]) + png(8, 1, 1, 0, [bytes([0xA5])]))
out("png", "grey_trns", bytes([2]) + png(2, 1, 8, 0, [bytes([0, 7])], chunk(b"tRNS", struct.pack(">H", 7))))
out("png", "interlaced_rgb", bytes([5 + 8 * 31]) + png(9, 9, 8, 2, adam7(9, 9, 3, lambda x, y: bytes([x * 20, y * 20, 7])), interlace=1))
out("png", "not_png", bytes([0]) + b"GIF89a" + bytes(20))

# ---- model files (see fuzz_model.c) ----
for name in ("dcgan28", "dcgan64", "fmnist-classifier"):
    with open(os.path.join(HERE, "..", "..", "samples", name + ".model"), "rb") as f:
        out("model", name + ".model", f.read())
out("model", "tiny4.model", b"""# a tiny GAN for 4x4 grey images (also makes the checkpoint seed)
model tiny4
latent 4
image 1 4 4
generator
  linear 16
  tanh
  reshape 1 4 4
discriminator
  conv 2 k=2 s=2
  leakyrelu 0.2
  flatten
  linear 1
""")
out("model", "auto_bn.model", b"""model a
latent 8
image auto 8 8
generator
  linear 128 bias=0
  reshape 8 4 4
  batchnorm
  relu
  convt C k=4 s=2 p=1 op=0
  tanh
discriminator
  conv 4 k=3 s=1 p=1
  batchnorm
  leakyrelu
  flatten
  linear 1
  sigmoid
""")
out("model", "tiny_classifier.model", b"model c\nimage 1 4 4\nclassifier\n  flatten\n  feat: linear 8\n  linear 3\n")
out("model", "bad_chain.model", b"model b\nlatent 8\nimage 1 4 4\ngenerator\n  linear 15\n  reshape 1 4 4\ndiscriminator\n  flatten\n  linear 1\n")

# ---- command lines: argv[1..] separated by NUL bytes (see fuzz_cli.c) ----
for i, args in enumerate([
        ["--iters", "3", "--batch", "16", "--max-images", "256"],
        ["--epochs=2", "--lr=1e-3", "--beta1", "0.9", "--g-loss", "hinge", "--seed=7"],
        ["--resume", "ckpt.safetensors", "--iters", "10", "--on-nan", "skip"],
        ["--batch", "0"], ["--lr", "nan"], ["--keep", "99999999999999999999"], ["--batch"],
        ["--help"], ["--bogus"], ["--device=", "x"], ["--sample-every", "-1", "--log-every", "1e3"],
        ["--checkpoint-every", "1", "--keep", "2", "--model", "dcgan64", "--data", "/tmp/x", "--out", "o"]]):
    out("cli", "args%02d" % i, b"\0".join(a.encode() for a in args))

# ---- checkpoints (see fuzz_checkpoint.c) ----
def safetensors(header, data):
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


out("checkpoint", "foreign_no_meta", safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(8)))
out("checkpoint", "empty", safetensors({}, b""))
if len(sys.argv) > 1:
    with open(sys.argv[1], "rb") as f:
        real = f.read()
    out("checkpoint", "tiny4.safetensors", real)
    # the same file claiming another format version
    out("checkpoint", "tiny4_format2.safetensors", real.replace(b"clgan-checkpoint-1", b"clgan-checkpoint-2", 1))
    # without its SHA-256 (optional, as in files from other writers): mutated data still
    # gets past the integrity check into the model and tensor checks
    n = struct.unpack("<Q", real[:8])[0]
    header = json.loads(real[8 : 8 + n])
    del header["__metadata__"]["clgan_sha256"]
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    out("checkpoint", "tiny4_nohash.safetensors", struct.pack("<Q", len(h)) + h + real[8 + n :])
