#!/usr/bin/env python3
"""Bad (and unusual but valid) input files for the reliability tests, written with the
standard library only. Usage: fixtures.py KIND OUT [ARGS...]
  idx OUT COUNT ROWS COLS [--cut N] [--extra N] [--gz] [--ndim D] [--magic HEX]
      an IDX image file whose header says COUNT x ROWS x COLS; --cut keeps only the
      first N bytes of the (uncompressed) file, --extra appends N bytes
  labels OUT COUNT            an idx1 label file
  png OUT KIND W H            KIND: grey8 grey16 palette grey_alpha rgb rgba16
  png-lying OUT W H           a well-formed PNG whose header claims W x H RGBA pixels
  st-edit IN OUT KEY VALUE    a safetensors file with one __metadata__ value replaced
                              (the data, and so its SHA-256, unchanged)
  st-sed IN OUT OLD NEW       the same, replacing text OLD with NEW inside the metadata
                              value "model" (the stored model file)"""
import gzip, json, struct, sys, zlib


def idx(args):
    out, count, rows, cols = args[0], int(args[1]), int(args[2]), int(args[3])
    rest = [a for a in args[4:] if a != "--gz"]
    opts = dict(zip(rest[0::2], rest[1::2]))
    ndim = int(opts.get("--ndim", 3))
    head = bytes.fromhex(opts.get("--magic", "0000")) + bytes([8, ndim])
    head += b"".join(struct.pack(">I", v) for v in [count, rows, cols][:ndim])
    n = count * (rows if ndim > 1 else 1) * (cols if ndim > 2 else 1)
    n = min(n, 1 << 20)  # absurd headers: the data is what is actually there
    data = head + bytes((i * 37 + 11) & 255 for i in range(n))
    if "--cut" in opts:
        data = data[: int(opts["--cut"])]
    data += bytes(int(opts.get("--extra", 0)))
    if "--gz" in args:
        data = gzip.compress(data, mtime=0)
    open(out, "wb").write(data)


def labels(args):
    out, count = args[0], int(args[1])
    open(out, "wb").write(bytes([0, 0, 8, 1]) + struct.pack(">I", count) + bytes(i % 10 for i in range(count)))


def chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xFFFFFFFF)


def png_bytes(w, h, depth, ctype, rows, extra=b""):
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
            + extra + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def png(args):
    out, kind, w, h = args[0], args[1], int(args[2]), int(args[3])
    v = lambda x, y: (x * 29 + y * 13) & 255
    if kind == "grey8":
        data = png_bytes(w, h, 8, 0, [bytes(v(x, y) for x in range(w)) for y in range(h)])
    elif kind == "grey16":
        data = png_bytes(w, h, 16, 0, [b"".join(struct.pack(">H", v(x, y) * 257) for x in range(w)) for y in range(h)])
    elif kind == "palette":
        pal = bytes(c for i in range(16) for c in (i * 16, 255 - i * 16, i * 8))
        extra = chunk(b"PLTE", pal) + chunk(b"tRNS", bytes([255] * 15 + [0]))
        rows = [bytes(((v(x, y) % 16) << 4) | (v(x + 1, y) % 16) for x in range(0, w, 2)) for y in range(h)]
        data = png_bytes(w, h, 4, 3, rows, extra)
    elif kind == "grey_alpha":
        data = png_bytes(w, h, 8, 4, [bytes(c for x in range(w) for c in (v(x, y), 255 - x)) for y in range(h)])
    elif kind == "rgb":
        data = png_bytes(w, h, 8, 2, [bytes(c for x in range(w) for c in (v(x, y), x, y)) for y in range(h)])
    elif kind == "rgba16":
        data = png_bytes(w, h, 16, 6, [b"".join(struct.pack(">4H", v(x, y) * 257, 0, 65535, 40000) for x in range(w)) for y in range(h)])
    else:
        sys.exit("unknown png kind " + kind)
    open(out, "wb").write(data)


def png_lying(args):
    out, w, h = args[0], int(args[1]), int(args[2])
    raw = zlib.compress(b"\0" * 64)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    open(out, "wb").write(data)


def st_rewrite(src, dst, edit):
    b = open(src, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8 : 8 + n])
    edit(header["__metadata__"])
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    open(dst, "wb").write(struct.pack("<Q", len(h)) + h + b[8 + n :])


def st_edit(args):
    st_rewrite(args[0], args[1], lambda m: m.__setitem__(args[2], args[3]))


def st_sed(args):
    def edit(m):
        if args[2] not in m["model"]:
            sys.exit("st-sed: %r not in the stored model" % args[2])
        m["model"] = m["model"].replace(args[2], args[3], 1)
    st_rewrite(args[0], args[1], edit)


if __name__ == "__main__":
    cmds = {"idx": idx, "labels": labels, "png": png, "png-lying": png_lying, "st-edit": st_edit, "st-sed": st_sed}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])
