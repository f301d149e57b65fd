#!/usr/bin/env python3
"""PNG helper for tests/train/test_sr_cli.sh and test_pix2pix_cli.sh (stdlib only: zlib, struct).
make PATH W H KIND   writes a test PNG: rgb (a smooth colour field), rgba-opaque, rgba-alpha
                     (one transparent pixel), rgb16 (16-bit RGB), palette
info PATH            prints 'W H C meanR meanG meanB' of an 8-bit non-interlaced PNG
diff A B             prints the largest and the mean absolute difference of two such PNGs"""
import struct, sys, zlib

def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)

def write(path, w, h, depth, ctype, rows, plte=None):
    data = b''.join(b'\0' + r for r in rows)
    out = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, ctype, 0, 0, 0))
    if plte: out += chunk(b'PLTE', plte)
    out += chunk(b'IDAT', zlib.compress(data)) + chunk(b'IEND', b'')
    open(path, 'wb').write(out)

def colour(x, y):  # a smooth field, like a photo's (no wrap-around below 40x40)
    return (min(255, 60 + 2 * x + y), min(255, 90 + x + 2 * y), max(0, 200 - 2 * y - x // 2))

def make(path, w, h, kind):
    if kind == 'rgb':
        write(path, w, h, 8, 2, [bytes(v for x in range(w) for v in colour(x, y)) for y in range(h)])
    elif kind in ('rgba-opaque', 'rgba-alpha'):
        rows = [bytes(v for x in range(w) for v in colour(x, y) + (0 if kind == 'rgba-alpha' and (x, y) == (2, 1) else 255,))
                for y in range(h)]
        write(path, w, h, 8, 6, rows)
    elif kind == 'rgb16':
        write(path, w, h, 16, 2, [b''.join(struct.pack('>H', v * 257) for x in range(w) for v in colour(x, y)) for y in range(h)])
    elif kind == 'palette':
        write(path, w, h, 8, 3, [bytes((x + y) % 4 for x in range(w)) for y in range(h)],
              plte=bytes([200, 30, 30, 30, 200, 30, 30, 30, 200, 128, 128, 128]))

def pixels(path):
    d = open(path, 'rb').read()
    pos, idat = 8, b''
    while pos < len(d):
        n, t = struct.unpack('>I4s', d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        if t == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
        if t == b'IDAT': idat += body
        pos += 12 + n
    assert depth == 8, depth
    c = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw, stride, prev, sums, out = zlib.decompress(idat), w * c, bytearray(w * c), [0] * c, bytearray()
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - c] if i >= c else 0
            b, cc = prev[i], prev[i - c] if i >= c else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - cc
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else cc)) & 255
        for i in range(stride): sums[i % c] += line[i]
        out += line
        prev = line
    return w, h, c, sums, out

def info(path):
    w, h, c, sums, _ = pixels(path)
    print(w, h, c, ' '.join('%.3f' % (s / (w * h)) for s in sums))

def diff(a, b):
    pa, pb = pixels(a), pixels(b)
    assert pa[:3] == pb[:3], (pa[:3], pb[:3])
    d = [abs(x - y) for x, y in zip(pa[4], pb[4])]
    print(max(d), '%.4f' % (sum(d) / len(d)))

if __name__ == '__main__':
    if sys.argv[1] == 'make': make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == 'diff': diff(sys.argv[2], sys.argv[3])
    else: info(sys.argv[2])
