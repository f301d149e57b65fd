#!/usr/bin/env python3
"""Enlarged crops for docs/RESULTS.md (the checkerboard comparison): rows of PNGs, each
enlarged by nearest-neighbour ZOOM (every pixel a ZOOM x ZOOM block, so a period-2 pattern
stays visible), 4 white pixels between them. Stdlib only (tests/train/sr_png.py reads).
usage: i2i_zoom.py OUT.png ZOOM A1,B1,C1 [A2,B2,C2 ...]   (grey files are shown as grey RGB)"""
import os, sys
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'train'))
from sr_png import pixels, write  # noqa: E402

def rgb(path):
    w, h, c, _, v = pixels(path)
    assert c in (1, 3), (path, c)
    return w, h, [tuple(v[(y * w + x) * c + (k if c == 3 else 0)] for k in range(3))
                  for y in range(h) for x in range(w)]

def main(out, zoom, rows):
    rows = [[rgb(p) for p in r.split(',')] for r in rows]
    gap = 4
    cell_w = max(w for r in rows for w, _, _ in r) * zoom
    cell_h = [max(h for _, h, _ in r) * zoom for r in rows]
    ncol = max(len(r) for r in rows)
    W = ncol * cell_w + (ncol - 1) * gap
    H = sum(cell_h) + (len(rows) - 1) * gap
    img = [[(255, 255, 255)] * W for _ in range(H)]
    y0 = 0
    for r, ch in zip(rows, cell_h):
        for j, (w, h, px) in enumerate(r):
            x0 = j * (cell_w + gap)
            for y in range(h * zoom):
                for x in range(w * zoom):
                    img[y0 + y][x0 + x] = px[(y // zoom) * w + x // zoom]
        y0 += ch + gap
    write(out, W, H, 8, 2, [bytes(v for p in line for v in p) for line in img])

if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
