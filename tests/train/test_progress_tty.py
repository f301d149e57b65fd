#!/usr/bin/env python3
"""`clgan train`'s progress line on a terminal: run under a pseudo-terminal of 40, 80, 120
and 200 columns, the output is fed to a small terminal model (autowrap at the last column,
'\\r', '\\n', erase-to-end-of-row) and the screen must hold exactly one progress line: no
redraw may wrap (a wrapped line leaves a copy behind on every redraw). The count, the rate
and the ETA are always there, and at 200 columns every field. A resize to 40 columns in the
middle of a run (SIGWINCH) fits the lines drawn after it. Only python3's standard library
(pty); skips (77) without an OpenCL device. Usage: test_progress_tty.py CLGAN"""
import fcntl
import os
import pty
import random
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

CLGAN = sys.argv[1]
MODEL = """model tiny
latent 8
image 1 8 8
generator
  linear 128 bias=0
  reshape 8 4 4
  batchnorm
  relu
  convt 1 k=4 s=2 p=1
  tanh
discriminator
  conv 4 k=4 s=2 p=1
  leakyrelu 0.2
  flatten
  linear 1
"""
fails = []


def fail(msg):
    print("FAIL:", msg)
    fails.append(msg)


class Screen:
    """Enough of a VT100 for clgan's output: printable characters with autowrap at the last
    column (the wrap happens when the next character comes), CR, LF, ESC [ K; other escape
    sequences are skipped. `wraps_in_redraw` counts wraps of text that followed a bare CR
    (a progress redraw) before the next LF."""

    def __init__(self, cols):
        self.cols = cols
        self.rows = [[]]
        self.r = self.c = 0
        self.pending = False
        self.redraw = False
        self.wraps_in_redraw = 0
        self.esc = ""

    def _row(self):
        while len(self.rows) <= self.r:
            self.rows.append([])
        return self.rows[self.r]

    def feed(self, text):
        for ch in text:
            if self.esc:
                self.esc += ch
                if len(self.esc) >= 2 and (self.esc[1] != "[" or ch.isalpha()):
                    if self.esc == "\x1b[K":
                        del self._row()[self.c:]
                    self.esc = ""
                continue
            if ch == "\x1b":
                self.esc = ch
            elif ch == "\r":
                self.c, self.pending, self.redraw = 0, False, True
            elif ch == "\n":
                self.r, self.c, self.pending, self.redraw = self.r + 1, 0, False, False
            elif ch >= " ":
                if self.pending:
                    self.r, self.c, self.pending = self.r + 1, 0, False
                    if self.redraw:
                        self.wraps_in_redraw += 1
                row = self._row()
                while len(row) <= self.c:
                    row.append(" ")
                row[self.c] = ch
                if self.c == self.cols - 1:
                    self.pending = True
                else:
                    self.c += 1

    def lines(self):
        return ["".join(r).rstrip() for r in self.rows]


def set_size(fd, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))


def run(cols, args, resize_to=None, deadline=120):
    """Runs clgan train under a pty of `cols` columns; returns its exit status and output."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            set_size(0, cols)
            os.execv(CLGAN, [CLGAN, "train"] + args)
        finally:
            os._exit(127)
    out, resized, end = b"", False, time.monotonic() + deadline
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        out += data
        if resize_to and not resized and b"img/s" in out:
            set_size(fd, resize_to)  # the kernel sends SIGWINCH to clgan
            resized = True
    else:
        os.kill(pid, signal.SIGKILL)
        fail(f"{cols} columns: no end after {deadline} s")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def main():
    devs = subprocess.run([CLGAN, "devices"], capture_output=True, text=True)
    if not re.search(r"^\* \[", devs.stdout, re.M):
        print("SKIP: no OpenCL device")
        return 77
    tmp = tempfile.mkdtemp()
    with open(os.path.join(tmp, "tiny.model"), "w") as f:
        f.write(MODEL)
    data = os.path.join(tmp, "tiny-images-idx3-ubyte")
    rng = random.Random(5)
    with open(data, "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 64, 8, 8) + bytes(rng.randrange(256) for _ in range(4096)))
    base = ["--model", os.path.join(tmp, "tiny.model"), "--data", data, "--batch", "16",
            "--sample-every", "100000", "--log-every", "1000"]
    for cols in (40, 80, 120, 200):
        rc, out = run(cols, base + ["--iters", "40", "--out", os.path.join(tmp, f"o{cols}")])
        if rc != 0:
            fail(f"{cols} columns: exit {rc}:\n{out}")
            continue
        draws = out.count("\r") - out.count("\r\n")
        scr = Screen(cols)
        scr.feed(out)
        prog = [ln for ln in scr.lines() if "img/s" in ln]
        print(f"{cols} columns: {draws} redraws, {scr.wraps_in_redraw} wrapped; screen:")
        for ln in scr.lines():
            print(f"  |{ln}")
        if draws < 10:
            fail(f"{cols} columns: only {draws} progress redraws")
        if scr.wraps_in_redraw:
            fail(f"{cols} columns: {scr.wraps_in_redraw} redraws wrapped past the last column")
        if len(prog) != 1:
            fail(f"{cols} columns: the screen holds {len(prog)} progress lines, want 1")
            continue
        line = prog[0]
        if len(line) > cols - 1:
            fail(f"{cols} columns: the progress line is {len(line)} columns wide")
        if not re.search(r"\b40/40\b", line) or "img/s" not in line or "ETA" not in line:
            fail(f"{cols} columns: count, rate or ETA missing: '{line}'")
        if cols == 200:
            for want in ("[epoch ", "[#", "loss_D", "loss_G", "D(x)", "D(G(z))"):
                if want not in line:
                    fail(f"200 columns: '{want}' missing: '{line}'")
    # a terminal narrowed from 200 to 40 columns during the run: the lines drawn after it fit
    rc, out = run(200, base + ["--iters", "300", "--out", os.path.join(tmp, "resize")],
                  resize_to=40)
    last = out.rsplit("\r\n", 2)
    draws = [d for d in out.split("\r") if "img/s" in d]
    if rc != 0 or not draws:
        fail(f"resize: exit {rc}, {len(draws)} progress lines")
    else:
        tail = re.sub(r"\x1b\[K|\n.*", "", draws[-1], flags=re.S)
        wide = sum(1 for d in draws if len(re.sub(r"\x1b\[K|\n.*", "", d, flags=re.S)) > 100)
        print(f"resize 200 -> 40: {len(draws)} redraws, {wide} of them wider than 100 "
              f"columns, the last {len(tail)} wide: '{tail}'")
        if len(tail) > 39:
            fail(f"resize: the last line drawn after the resize to 40 columns is {len(tail)} wide")
        if wide == 0:
            fail("resize: no line was drawn at 200 columns before the resize")
    subprocess.run(["rm", "-rf", tmp])
    print(f"progress_tty: {len(fails)} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
