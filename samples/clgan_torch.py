#!/usr/bin/python3
"""clgan model files as PyTorch modules: G and D rebuilt from a model file (its text, or the
`model` metadata string a clgan checkpoint stores), with the parameter names clgan's
checkpoints use, so a checkpoint loads with load_state_dict(strict=True).

    import sys; sys.path.insert(0, "samples")
    import clgan_torch
    g, d, meta = clgan_torch.load_checkpoint("run/latest.safetensors")   # both nets, eval mode
    images = clgan_torch.generate(g, torch.randn(10, g.nz), labels=torch.arange(10))

    m = clgan_torch.parse_model(open("samples/cdcgan28.model").read(), "cdcgan28.model")
    g = clgan_torch.ClganNet(m, "generator", image_channels=1)
    x = g(z, label=y)                 # (N, C, H, W); D: d(image=x, label=y) -> (N, 1, 1, 1)

Needs only the standard library and torch (Debian: python3-torch). Run it as a script to
print a model's networks and their state_dict names:

    /usr/bin/python3 samples/clgan_torch.py samples/cdcgan28.model [--channels 1]
    /usr/bin/python3 samples/clgan_torch.py run/latest.safetensors

The network (ClganNet, an nn.ModuleDict) holds one module per layer line, keyed by the node's
name (`emb: embed 10 50 in=label` -> "emb") or, for an unnamed line, by its index among the
section's layer lines from 0 (so an unnamed file is keyed exactly as an nn.Sequential), and
forward() walks the lines in file order. Every activation is (N, C, H, W), as in clgan:
linear sees the flattened input and gives (N, F, 1, 1), embed gives (N, D, 1, 1), batchnorm
is nn.BatchNorm2d (on (N, C, 1, 1) it computes nn.BatchNorm1d's numbers, with the same
tensors). Semantics follow include/clgan/model.h and docs/MODELS.md; the one thing that
cannot match clgan bit for bit is dropout's mask (clgan draws it from a Philox stream, torch
from its own generator). What the parser does not know (a keyword, layer, option or input)
is refused with a ValueError naming the line, never guessed.
"""
import hashlib
import json
import struct
import sys

import torch
import torch.nn as nn

INPUTS = ("z", "image", "label", "cond")  # clgan_input_kind; "text" is not supported
BN_EPS = IN_EPS = 1e-5
LAYER_KINDS = ("linear", "conv", "convt", "batchnorm", "relu", "leakyrelu", "tanh", "sigmoid",
               "reshape", "flatten", "concat", "add", "mul", "embed", "upsample", "avgpool",
               "sumpool", "pixelshuffle", "instancenorm", "dropout", "prelu", "identity",
               "pixelnorm", "mbstd", "fade")
# key=value options each layer accepts (besides in=), as src/model.c's parse_layer
OPTIONS = {"linear": ("bias", "sn", "eq"), "conv": ("k", "s", "p", "bias", "pm", "pad", "sn", "eq"),
           "convt": ("k", "s", "p", "op", "bias", "sn", "eq"),
           "instancenorm": ("affine",), "prelu": ("per_channel",), "upsample": ("mode",)}


class ModelError(ValueError):
    pass


class Layer:
    """One layer line: kind, its node name (or None), index in its section, file line,
    positional arguments, options, and its inputs by name (None: the default)."""

    def __init__(self, kind, name, index, line, pos, opts, src):
        self.kind, self.name, self.index, self.line = kind, name, index, line
        self.pos, self.opts, self.src = pos, opts, src

    @property
    def key(self):
        """The ModuleDict key and state_dict prefix: the name, or the index."""
        return self.name if self.name else str(self.index)


class Model:
    def __init__(self):
        self.name, self.nz, self.image, self.classes, self.loss = "unnamed", None, None, 0, None
        self.sections = {"generator": None, "discriminator": None}  # (inputs, [Layer])
        self.text = ""


def _int(tok, what, where, lo=None):
    try:
        v = int(tok, 10)
    except ValueError:
        raise ModelError("%s: bad %s '%s'" % (where, what, tok)) from None
    if lo is not None and v < lo:
        raise ModelError("%s: bad %s '%s' (at least %d)" % (where, what, tok, lo))
    return v


def _name_ok(s):
    return bool(s) and len(s) < 32 and (s[0].isalpha() or s[0] == "_") and \
        all(ch.isalnum() or ch == "_" for ch in s) and s.isascii()


def parse_model(text, source="model"):
    """A clgan model file's text as a Model (syntax as src/model.c; shapes are resolved by
    ClganNet). Raises ModelError naming source:line for anything it does not know."""
    m = Model()
    m.text = text
    cur = None
    for lineno, raw in enumerate(text.split("\n"), 1):
        tok = raw.split("#", 1)[0].split()
        where = "%s:%d" % (source, lineno)
        if not tok:
            continue
        word = tok[0]
        if word == "model":
            if len(tok) != 2:
                raise ModelError("%s: 'model' takes one name" % where)
            m.name = tok[1]
        elif word == "latent":
            if len(tok) != 2:
                raise ModelError("%s: 'latent' takes a size" % where)
            m.nz = _int(tok[1], "latent size", where, 1)
        elif word == "image":
            if len(tok) != 4:
                raise ModelError("%s: 'image' takes C H W (C may be auto)" % where)
            c = 0 if tok[1] == "auto" else _int(tok[1], "image channels", where, 1)
            m.image = (c, _int(tok[2], "image height", where, 1), _int(tok[3], "image width", where, 1))
        elif word == "cond":
            if len(tok) != 4:
                raise ModelError("%s: 'cond' takes C H W (C may be auto)" % where)
            c = 0 if tok[1] == "auto" else _int(tok[1], "cond channels", where, 1)
            m.cond = (c, _int(tok[2], "cond height", where, 1), _int(tok[3], "cond width", where, 1))
        elif word == "classes":
            if len(tok) != 2:
                raise ModelError("%s: 'classes' takes a count" % where)
            m.classes = _int(tok[1], "class count", where, 2)
        elif word == "loss":
            if len(tok) != 2 or tok[1] not in ("ns", "minimax", "lsgan", "hinge", "wgan-gp"):
                raise ModelError("%s: 'loss' takes ns, minimax, lsgan, hinge or wgan-gp" % where)
            m.loss = tok[1]
        elif word == "train":
            # clgan train's recipe for the model (batch, lr, beta1, beta2): kept, not used here
            try:
                m.train = {k: float(v) for k, v in (t.split("=", 1) for t in tok[1:])}
            except ValueError:
                raise ModelError("%s: 'train' takes KEY=VALUE settings" % where)
        elif word in ("generator", "discriminator"):
            if len(tok) != 1 or m.sections[word] is not None:
                raise ModelError("%s: a second '%s' section, or arguments after it" % (where, word))
            cur = m.sections[word] = ([], [])
        elif word == "input":
            if cur is None or cur[0] or cur[1] or len(tok) < 2:
                raise ModelError("%s: 'input' names a section's inputs, once, before its first layer" % where)
            for w in tok[1:]:
                if w not in INPUTS:
                    raise ModelError("%s: input '%s' is not supported here (known: %s)" % (where, w, " ".join(INPUTS)))
                if w in cur[0]:
                    raise ModelError("%s: input '%s' declared twice" % (where, w))
                cur[0].append(w)
        else:
            if cur is None:
                raise ModelError("%s: unknown keyword '%s' (layers go after 'generator' or 'discriminator')" % (where, word))
            cur[1].append(_parse_layer(tok, len(cur[1]), lineno, where))
    g_inputs = m.sections["generator"][0] if m.sections["generator"] else []
    if m.image is None or (m.nz is None and (not g_inputs or "z" in g_inputs)):
        raise ModelError("%s: missing 'latent N' or 'image C H W'" % source)
    for sec, default in (("generator", "z"), ("discriminator", "image")):
        if not m.sections[sec] or not m.sections[sec][1]:
            raise ModelError("%s: no %s layers" % (source, sec))
        if not m.sections[sec][0]:
            m.sections[sec][0].append(default)
    if m.sections["discriminator"][0][0] != "image":
        raise ModelError("%s: the discriminator's first input must be 'image'" % source)
    uses_label = any("label" in m.sections[s][0] for s in m.sections)
    if uses_label != bool(m.classes):
        raise ModelError("%s: a label input needs 'classes N', and 'classes' needs a label input" % source)
    return m


def _parse_layer(tok, index, lineno, where):
    name = None
    if len(tok[0]) > 1 and tok[0].endswith(":"):
        name = tok[0][:-1]
        if not _name_ok(name) or name in INPUTS + ("text",):
            raise ModelError("%s: bad node name '%s'" % (where, name))
        tok = tok[1:]
        if not tok:
            raise ModelError("%s: node '%s' has no layer" % (where, name))
    kind = tok[0]
    if kind not in LAYER_KINDS:
        raise ModelError("%s: unknown layer '%s' (known: %s)" % (where, kind, " ".join(LAYER_KINDS)))
    pos, opts, src = [], {}, None
    for t in tok[1:]:
        if "=" in t:
            k, v = t.split("=", 1)
            if k == "in":
                src = v.split(",")
                if not all(_name_ok(s) for s in src):
                    raise ModelError("%s: bad input list in=%s" % (where, v))
            elif k in ("pm", "pad") and k in OPTIONS.get(kind, ()):
                if v not in ("zeros", "reflect"):
                    raise ModelError("%s: bad padding mode '%s' (zeros or reflect)" % (where, v))
                opts["pm"] = v  # nn.Conv2d's padding_mode
            elif k == "alpha" and kind == "fade":
                try:
                    opts["alpha"] = float(v)
                except ValueError:
                    opts["alpha"] = -1.0
                if not 0.0 <= opts["alpha"] <= 1.0:
                    raise ModelError("%s: bad alpha '%s' for alpha= of 'fade' (0..1)" % (where, v))
            elif k == "mode" and kind == "upsample":
                if v not in ("nearest", "bilinear", "bicubic"):
                    raise ModelError("%s: bad upsample mode '%s' (nearest, bilinear or bicubic)" % (where, v))
                opts["mode"] = v
            elif k in OPTIONS.get(kind, ()):
                opts[k] = _int(v, "value for %s=" % k, where, 0)
            else:
                raise ModelError("%s: unknown option '%s' for '%s'" % (where, k, kind))
        elif opts or src is not None:
            raise ModelError("%s: unexpected '%s' after '%s'" % (where, t, kind))
        else:
            pos.append(t)
    npos = {"linear": 1, "conv": 1, "convt": 1, "reshape": 3, "embed": 2, "upsample": 1,
            "avgpool": 1, "pixelshuffle": 1}.get(kind, 0)
    optional = {"leakyrelu": 1, "dropout": 1, "mbstd": 1}.get(kind, 0)
    if not (len(pos) == npos or (optional and len(pos) <= optional)):
        raise ModelError("%s: '%s' takes %d positional argument(s), got %d" % (where, kind, npos or optional, len(pos)))
    if kind in ("conv", "convt") and "k" not in opts:
        raise ModelError("%s: '%s' needs a kernel size k=" % (where, kind))
    nsrc = len(src) if src else 1
    if kind in ("concat", "add") and nsrc < 2:
        raise ModelError("%s: '%s' needs two or more inputs: in=a,b" % (where, kind))
    if kind == "mul" and nsrc != 2:
        raise ModelError("%s: 'mul' needs two inputs: in=a,b" % where)
    if kind == "fade" and nsrc != 2:
        raise ModelError("%s: 'fade' needs two inputs, the old and the new: in=old,new" % where)
    if kind not in ("concat", "add", "mul", "fade") and nsrc != 1:
        raise ModelError("%s: '%s' takes one input" % (where, kind))
    if kind == "embed" and not src:
        raise ModelError("%s: 'embed' needs its label input named: in=label" % where)
    return Layer(kind, name, index, lineno, pos, opts, src)


# ---- parameterless graph nodes as modules (so a printed network shows every line) ----

class Reshape(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self):
        return "%d, %d, %d" % self.shape


class Concat(nn.Module):
    def forward(self, *xs):
        return torch.cat(xs, 1)


class Add(nn.Module):
    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Mul(nn.Module):
    """a * b; b may be (N, C, 1, 1), broadcast over a's H x W."""

    def forward(self, a, b):
        return a * b


class Fade(nn.Module):
    """ProGAN's fade-in: (1 - alpha) old + alpha new; set `alpha` as training goes."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, old, new):
        return (1.0 - self.alpha) * old + self.alpha * new

    def extra_repr(self):
        return "alpha=%g" % self.alpha


class SumPool(nn.Module):
    """The sum over H x W: (N, C, H, W) -> (N, C, 1, 1)."""

    def forward(self, x):
        return x.sum((2, 3), keepdim=True)


def _matlab_cubic_matrix(n, k):
    """(n*k, n) float64: MATLAB imresize's bicubic enlargement by k of n samples (Keys
    a = -0.5, taps floor(c)-1..floor(c)+2 mirrored at the edges), as kernels/graph.cl."""
    def cubic(x):
        a = abs(x)
        if a <= 1:
            return 1.5 * a ** 3 - 2.5 * a ** 2 + 1
        if a <= 2:
            return -0.5 * a ** 3 + 2.5 * a ** 2 - 4 * a + 2
        return 0.0

    def mirror(i):
        while i < 0 or i >= n:
            i = -i - 1 if i < 0 else 2 * n - 1 - i
        return i

    m = torch.zeros(n * k, n, dtype=torch.float64)
    for o in range(n * k):
        c = (o + 0.5) / k - 0.5
        f = int(c // 1)
        for i in range(f - 1, f + 3):
            m[o, mirror(i)] += cubic(c - i)
    return m


class UpsampleBicubic(nn.Module):
    """upsample k mode=bicubic: MATLAB's bicubic enlargement, y = A_h x A_w^T per plane."""

    def __init__(self, k, h, w):
        super().__init__()
        self.k = k
        self.register_buffer("ah", _matlab_cubic_matrix(h, k).float(), persistent=False)
        self.register_buffer("aw", _matlab_cubic_matrix(w, k).float(), persistent=False)

    def forward(self, x):
        return torch.einsum("oh,nchw,pw->ncop", self.ah, x, self.aw)

    def extra_repr(self):
        return "scale_factor=%d, mode='bicubic' (MATLAB imresize)" % self.k


class PixelNorm(nn.Module):
    """ProGAN's pixel norm: x / sqrt(mean over channels of x^2 + 1e-8)."""

    def forward(self, x):
        return x * torch.rsqrt((x * x).mean(dim=1, keepdim=True) + 1e-8)


class MinibatchStd(nn.Module):
    """ProGAN's minibatch stddev as clgan computes it: groups of `group` consecutive samples
    (one group of the whole batch when it is smaller), the biased variance over the group,
    sqrt(var + 1e-8) averaged over channels and pixels, appended as one more channel."""

    def __init__(self, group=4):
        super().__init__()
        self.group = group

    def forward(self, x):
        n, c, h, w = x.shape
        g = min(self.group, n)
        y = x.reshape(n // g, g, c, h, w)
        s = torch.sqrt(((y - y.mean(1, keepdim=True)) ** 2).mean(1) + 1e-8).mean((1, 2, 3))
        s = s.repeat_interleave(g).reshape(n, 1, 1, 1).expand(n, 1, h, w)
        return torch.cat([x, s], 1)


class ClganNet(nn.ModuleDict):
    """One section (generator or discriminator) of a clgan model file: a ModuleDict of the
    layers keyed by node name or index (the checkpoint's names after "generator." or
    "discriminator."), whose forward walks the lines in file order."""

    def __init__(self, model, section, image_channels=None):
        super().__init__()
        c, h, w = model.image
        if c == 0:
            if not image_channels:
                raise ModelError("model '%s': image channels are 'auto'; pass image_channels" % model.name)
            c = image_channels
        self.model_name, self.section, self.nz, self.classes = model.name, section, model.nz, model.classes
        self.image_shape = (c, h, w)
        inputs, layers = model.sections[section]
        self.inputs = list(inputs)
        cond = getattr(model, "cond", None) or (c, h, w)  # 'cond C H W', default the image's
        cond = (cond[0] or c, cond[1], cond[2])
        shape = {"z": (model.nz, 1, 1), "image": (c, h, w), "cond": cond, "label": (1, 1, 1)}
        shapes = {k: shape[k] for k in inputs}   # tensor name -> (C, H, W)
        names = {}                                # node name -> layer index
        self.plan = []                            # (key, kind, [source tensor ids], out shape)
        where = lambda l: "model '%s', line %d (%s layer %d)" % (model.name, l.line, section, l.index)
        for l in layers:
            if l.src:
                src = []
                for s in l.src:
                    if s in inputs:
                        src.append(s)
                    elif s in names:
                        src.append(names[s])
                    else:
                        raise ModelError("%s: unknown input '%s' (an input of the section, or a node above)" % (where(l), s))
            else:
                src = [inputs[0] if l.index == 0 else l.index - 1]
            if ("label" in src) != (l.kind == "embed"):
                raise ModelError("%s: a label input goes into 'embed' only, and 'embed' takes a label" % where(l))
            ins = [shapes[s] for s in src]
            mod, out = self._layer(l, ins, c, model, where(l))
            if l.key in self:
                raise ModelError("%s: node name '%s' used twice" % (where(l), l.key))
            # straight into _modules: a node may be named like a method ("train", "keys")
            self._modules[l.key] = mod
            if l.name:
                names[l.name] = l.index
            shapes[l.index] = out
            self.plan.append((l.key, l.kind, src, out))
        self.out_shape = self.plan[-1][3]

    @staticmethod
    def _sn(mod, o):
        """sn=1: torch.nn.utils.spectral_norm (one power iteration per training forward, dim 1
        for ConvTranspose2d): weight_orig, weight_u, weight_v, as clgan's checkpoints."""
        if o.get("eq", 0) == 1:
            return ClganNet._eq(mod)
        return nn.utils.spectral_norm(mod) if o.get("sn", 0) == 1 else mod

    @staticmethod
    def _eq(mod):
        """eq=1, ProGAN's equalised learning rate: the stored weight is used as weight * c,
        c = sqrt(2 / fan_in), fan_in = weight elements per output channel (out_channels is
        dim 1 of a ConvTranspose2d's weight); the bias is added unscaled."""
        w = mod.weight
        out = w.shape[1] if isinstance(mod, nn.ConvTranspose2d) else w.shape[0]
        c = (2.0 / (w.numel() // out)) ** 0.5
        F = torch.nn.functional
        if isinstance(mod, nn.Linear):
            mod.forward = lambda x, m=mod: F.linear(x, m.weight * c, m.bias)
        elif isinstance(mod, nn.ConvTranspose2d):
            mod.forward = lambda x, m=mod: F.conv_transpose2d(
                x, m.weight * c, m.bias, m.stride, m.padding, m.output_padding)
        else:
            mod.forward = lambda x, m=mod: m._conv_forward(x, m.weight * c, m.bias)
        return mod

    @staticmethod
    def _layer(l, ins, image_c, model, where):
        (c, h, w), o = ins[0], l.opts
        k = l.kind
        if k in ("linear", "conv", "convt"):
            out = image_c if l.pos[0] == "C" else _int(l.pos[0], "output size", where, 1)
            bias = o.get("bias", 1) == 1
        if k == "linear":
            return ClganNet._sn(nn.Linear(c * h * w, out, bias=bias), o), (out, 1, 1)
        if k in ("conv", "convt"):
            ks, s, p = o["k"], o.get("s", 1), o.get("p", 0)
            if k == "conv":
                ho, wo = (h + 2 * p - ks) // s + 1, (w + 2 * p - ks) // s + 1
                mod = nn.Conv2d(c, out, ks, s, p, bias=bias, padding_mode=o.get("pm", "zeros"))
            else:
                op = o.get("op", 0)
                ho, wo = (h - 1) * s - 2 * p + ks + op, (w - 1) * s - 2 * p + ks + op
                mod = nn.ConvTranspose2d(c, out, ks, s, p, output_padding=op, bias=bias)
            if ho < 1 or wo < 1:
                raise ModelError("%s: %s k=%d s=%d p=%d does not fit a %dx%d input" % (where, k, ks, s, p, h, w))
            return ClganNet._sn(mod, o), (out, ho, wo)
        if k == "batchnorm":
            return nn.BatchNorm2d(c, eps=BN_EPS, momentum=0.1), (c, h, w)
        if k == "relu":
            return nn.ReLU(), (c, h, w)
        if k == "leakyrelu":
            return nn.LeakyReLU(float(l.pos[0]) if l.pos else 0.01), (c, h, w)
        if k == "tanh":
            return nn.Tanh(), (c, h, w)
        if k == "sigmoid":
            return nn.Sigmoid(), (c, h, w)
        if k == "reshape":
            shape = tuple(_int(v, "reshape size", where, 1) for v in l.pos)
            if shape[0] * shape[1] * shape[2] != c * h * w:
                raise ModelError("%s: cannot reshape %d x %d x %d to %d x %d x %d" % ((where, c, h, w) + shape))
            return Reshape(shape), shape
        if k == "flatten":
            return nn.Flatten(), (c * h * w, 1, 1)
        if k == "concat":
            if any(s[1:] != (h, w) for s in ins):
                raise ModelError("%s: concat of inputs whose heights and widths differ: %s" % (where, ins))
            return Concat(), (sum(s[0] for s in ins), h, w)
        if k == "add":
            if any(s != ins[0] for s in ins):
                raise ModelError("%s: add of inputs whose shapes differ: %s" % (where, ins))
            return Add(), (c, h, w)
        if k == "mul":
            b = ins[1]
            if b[0] != c or b[1:] not in ((h, w), (1, 1)):
                raise ModelError("%s: cannot multiply %s by %s" % (where, ins[0], b))
            return Mul(), (c, h, w)
        if k == "fade":
            if ins[1] != ins[0]:
                raise ModelError("%s: cannot fade %s into %s: the shapes differ" % (where, ins[0], ins[1]))
            return Fade(o.get("alpha", 1.0)), (c, h, w)
        if k == "embed":
            num, dim = _int(l.pos[0], "class count", where, 1), _int(l.pos[1], "embedding size", where, 1)
            if num != model.classes:
                raise ModelError("%s: embed of %d classes, but the model has %d" % (where, num, model.classes))
            return nn.Embedding(num, dim), (dim, 1, 1)
        if k == "upsample":
            f = _int(l.pos[0], "factor", where, 1)
            mode = l.opts.get("mode", "nearest")
            if mode == "bicubic":
                return UpsampleBicubic(f, h, w), (c, h * f, w * f)
            up = nn.Upsample(scale_factor=f, mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))
            return up, (c, h * f, w * f)
        if k == "avgpool":
            f = _int(l.pos[0], "factor", where, 1)
            if h % f or w % f:
                raise ModelError("%s: avgpool %d does not divide a %dx%d input" % (where, f, h, w))
            return nn.AvgPool2d(f), (c, h // f, w // f)
        if k == "sumpool":
            return SumPool(), (c, 1, 1)
        if k == "pixelshuffle":
            f = _int(l.pos[0], "factor", where, 1)
            if c % (f * f):
                raise ModelError("%s: pixelshuffle %d needs channels divisible by %d" % (where, f, f * f))
            return nn.PixelShuffle(f), (c // (f * f), h * f, w * f)
        if k == "instancenorm":
            return nn.InstanceNorm2d(c, eps=IN_EPS, affine=o.get("affine", 0) == 1), (c, h, w)
        if k == "dropout":  # torch's own masks: not clgan's Philox ones
            return nn.Dropout(float(l.pos[0]) if l.pos else 0.5), (c, h, w)
        if k == "prelu":
            return nn.PReLU(c if o.get("per_channel", 0) else 1, init=0.25), (c, h, w)
        if k == "identity":
            return nn.Identity(), (c, h, w)
        if k == "pixelnorm":
            return PixelNorm(), (c, h, w)
        if k == "mbstd":
            return MinibatchStd(_int(l.pos[0], "group", where, 1) if l.pos else 4), (c + 1, h, w)
        raise ModelError("%s: layer '%s' is not supported" % (where, k))

    def forward(self, z=None, label=None, image=None, cond=None):
        """The section's inputs by name: z (N, nz) or (N, nz, 1, 1), label (N) class numbers,
        image / cond (N, C, H, W). Returns the last line's output, (N, C, H, W) (D: (N, 1, 1, 1))."""
        given = {"z": z, "label": label, "image": image, "cond": cond}
        t = {}
        for name in self.inputs:
            x = given[name]
            if x is None:
                raise ValueError("%s of model '%s' needs its '%s' input" % (self.section, self.model_name, name))
            if name == "label":
                x = x.reshape(-1).long()
                if self.classes and (x.min() < 0 or x.max() >= self.classes):
                    raise ValueError("labels must be 0..%d" % (self.classes - 1))
            elif name == "z":
                x = x.reshape(x.shape[0], self.nz, 1, 1)
            t[name] = x
        for name, x in given.items():
            if x is not None and name not in t:
                raise ValueError("%s of model '%s' takes no '%s' input" % (self.section, self.model_name, name))
        for i, (key, kind, src, shape) in enumerate(self.plan):
            mod, xs = self[key], [t[s] for s in src]
            if kind == "linear":
                y = mod(xs[0].flatten(1))
            elif kind == "embed":
                y = mod(xs[0])
            else:
                y = mod(*xs)
            t[i] = y.reshape(y.shape[0], *shape)
        return t[len(self.plan) - 1]


def read_safetensors(path):
    """(tensors, metadata) of a safetensors file (F32, I64, I32); checks clgan's integrity
    hash when present."""
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop("__metadata__", {})
    data = memoryview(raw)[8 + hlen:]
    want = meta.get("clgan_sha256")
    if want and hashlib.sha256(data).hexdigest() != want.lower():
        raise ValueError("%s: integrity check failed (the data's SHA-256 differs from clgan_sha256)" % path)
    dtypes = {"F32": torch.float32, "I64": torch.int64, "I32": torch.int32}
    tensors = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        dt = dtypes[t["dtype"]]
        x = torch.frombuffer(bytearray(data[a:b]), dtype=dt) if b > a else torch.zeros(0, dtype=dt)
        tensors[name] = x.reshape(t["shape"])
    return tensors, meta


def build(model_text, image_channels=None, source="model"):
    """(G, D) of a model file's text, freshly initialised by torch (load a checkpoint into
    them for clgan's weights)."""
    m = parse_model(model_text, source)
    return ClganNet(m, "generator", image_channels), ClganNet(m, "discriminator", image_channels)


def load_state(net, tensors, prefix):
    """Loads the `prefix.`* tensors of a checkpoint into net with strict=True."""
    sd = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    net.load_state_dict(sd, strict=True)
    return net


def load_checkpoint(path):
    """G and D of a clgan checkpoint (rebuilt from its stored model text, loaded strictly),
    in eval mode, and the checkpoint's metadata."""
    tensors, meta = read_safetensors(path)
    g, d = build(meta["model"], int(meta["image_channels"]), source=path + " (model)")
    load_state(g, tensors, "generator")
    load_state(d, tensors, "discriminator")
    return g.eval(), d.eval(), meta


@torch.no_grad()
def generate(g, z, labels=None, batch_stats=False, chunk=64):
    """G(z [, labels]) as `clgan generate` computes it: running statistics, or (batch_stats)
    each chunk of up to 64 normalised with its own statistics (the running ones untouched)."""
    was = g.training
    g.train(batch_stats)
    bns = [m for m in g.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momentum = [m.momentum for m in bns]
    for m in bns:
        m.momentum = 0.0
    try:
        out = []
        for i in range(0, len(z), chunk):
            kw = {"label": labels[i:i + chunk]} if labels is not None else {}
            out.append(g(z[i:i + chunk], **kw))
    finally:
        for m, v in zip(bns, momentum):
            m.momentum = v
        g.train(was)
    return torch.cat(out)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source", help="a model file or a clgan checkpoint (.safetensors)")
    ap.add_argument("--channels", type=int, default=1, help="image channels for 'image auto' (default 1)")
    a = ap.parse_args(argv)
    if a.source.endswith(".safetensors"):
        g, d, meta = load_checkpoint(a.source)
        print("%s: step %s, loaded strictly" % (a.source, meta.get("step")))
    else:
        with open(a.source) as f:
            g, d = build(f.read(), a.channels, a.source)
    for prefix, net in (("generator", g), ("discriminator", d)):
        print(net)
        for k, v in net.state_dict().items():
            print("  %s.%s %s" % (prefix, k, tuple(v.shape)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except ModelError as e:
        sys.exit("clgan_torch: %s" % e)
