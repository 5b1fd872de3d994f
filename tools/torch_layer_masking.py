#!/usr/bin/python3
"""Layer masking in PyTorch, written literally from shared/spec/LAYER_MASKING.md.

What it is: an importable, deliberately plain rendering of the spec's layer
rules on a stock torchvision ResNet in eval mode (Bottleneck and BasicBlock
families), run on (x * m, m) with every layer applying its rule densely, over
the whole tensor, exactly as the method's original PyTorch code does:
  masked_forward(model, x, m, mode="layer")   -> logits [N, classes]
  masked_features(model, x, m, mode="layer")  -> avgpool output [N, C]
  masked_stages(model, x, m, mode="layer")    -> {stem, layer1..4: (value, mask)}
mode "layer" fills before each conv (neighbour averaging, k steps for a k x k
kernel); mode "layer-renorm" is the partial-convolution variant (no fill,
rescale by the window's visible fraction).
It also reproduces lmask's random patch masks bit for bit (src/core/
mask_builders.cpp): a pure-Python Mt19937_64 (std::mt19937_64), random_order,
patch_mask and random_patch_mask, so PyTorch and `lmask bench` see the same masks.

`torch_layer_masking.py --check` verifies the rendering against the golden
vectors (shared/golden/cases.h5): expected/layer, nonsquare/expected_layer and
the stages_patch30 activations and masks, plus self-checks of the generator
and the renorm conv. Exit 1 when anything is outside tolerance.

What it is not: fast. It skips nothing: 1x1 convs get their one fill step,
removed outputs are computed and then zeroed. That is the point of it as a
benchmark peer (the cost of the method as published) and as a reference;
lmask's active-region execution is the fast implementation. It is not an
input-masking baseline (grey/black/blur live in the C++ masking methods) and
does not support non-ResNet models.
"""

import argparse
import math
import os
import sys

import h5py
import torch
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_torchvision import ToolError  # noqa: E402  (needs the path above)
from reference_logits import load_weights_h5  # noqa: E402

PROG = os.path.basename(__file__)
MODES = ("layer", "layer-renorm")

# The spec's epsilons (they are part of the semantics: the golden vectors were
# produced with exactly these values).
FILL_EPS = 1e-5      # fill: num / (den + FILL_EPS)
RENORM_EPS = 1e-8    # renorm: c = visible fraction + RENORM_EPS
AVGPOOL_EPS = 1e-8   # avgpool: mean_hw(x m) / (mean_hw(m) + AVGPOOL_EPS)


# --------------------------------------------------------------------------
# std::mt19937_64 and lmask's random patch masks
# --------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1


class Mt19937_64:
    """The standard 64-bit Mersenne Twister, output-identical to std::mt19937_64.

    Parameters are the ones fixed by the C++ standard ([rand.predef]); seeding
    from one integer follows std::mersenne_twister_engine::seed(value).
    """
    N, M, R = 312, 156, 31
    A = 0xB5026F5AA96619E9
    U, D = 29, 0x5555555555555555
    S, B = 17, 0x71D67FFFEDA60000
    T, C = 37, 0xFFF7EEE000000000
    L = 43
    F_INIT = 6364136223846793005
    DEFAULT_SEED = 5489
    _LOWER = (1 << R) - 1            # the r low bits of a word
    _UPPER = _MASK64 & ~_LOWER       # the w - r high bits

    def __init__(self, seed=DEFAULT_SEED):
        self.seed(seed)

    def seed(self, value):
        # std::mt19937_64 reduces the seed modulo 2^64 (result_type is uint64).
        state = [int(value) & _MASK64]
        for i in range(1, self.N):
            prev = state[-1]
            state.append((self.F_INIT * (prev ^ (prev >> 62)) + i) & _MASK64)
        self._state = state
        self._index = self.N

    def _twist(self):
        state, n, m = self._state, self.N, self.M
        for i in range(n):
            y = (state[i] & self._UPPER) | (state[(i + 1) % n] & self._LOWER)
            # The A term enters only for odd y: the twist's "multiply by matrix A".
            state[i] = state[(i + m) % n] ^ (y >> 1) ^ (self.A if y & 1 else 0)
        self._index = 0

    def __call__(self):
        """The next 64-bit output (a Python int in [0, 2^64))."""
        if self._index >= self.N:
            self._twist()
        y = self._state[self._index]
        self._index += 1
        y ^= (y >> self.U) & self.D
        y ^= (y << self.S) & self.B & _MASK64
        y ^= (y << self.T) & self.C & _MASK64
        y ^= y >> self.L
        return y


def lround(value):
    """C's lround: nearest integer, halfway cases away from zero.

    Python's round() goes half-to-even (round(0.5 * 5) == 2, lround gives 3),
    and floor(v + 0.5) is wrong for 0.49999999999999994 (the sum rounds up),
    so compare the exact fractional part instead.
    """
    if not math.isfinite(value):
        raise ValueError(f"lround of {value}")
    magnitude = abs(value)
    whole = math.floor(magnitude)
    # magnitude - whole is exact for doubles (Sterbenz), so the test is exact too.
    result = whole + 1 if magnitude - whole >= 0.5 else whole
    return int(-result if value < 0 else result)


def patch_count(h, w, patch):
    """Patches in the grid over h x w; the last row/column may be cut short."""
    if patch <= 0:
        raise ValueError(f"patch size must be positive, got {patch}")
    return ((h + patch - 1) // patch) * ((w + patch - 1) // patch)


def patch_mask(h, w, patch, removed_ids):
    """[1,1,h,w] float32 mask with the patches `removed_ids` (row-major ids) at 0."""
    cols, count = (w + patch - 1) // patch, patch_count(h, w, patch)
    m = torch.ones(1, 1, h, w, dtype=torch.float32)
    for pid in removed_ids:
        if pid < 0 or pid >= count:
            raise ValueError(f"patch id {pid} out of range [0, {count})")
        y0, x0 = (pid // cols) * patch, (pid % cols) * patch
        # Slicing clips at h and w, which is the cut-short last row/column.
        m[0, 0, y0:y0 + patch, x0:x0 + patch] = 0.0
    return m


def random_order(count, seed):
    """lmask's random_order: Fisher-Yates from the end, rng() % (i + 1)."""
    order = list(range(count))
    rng = Mt19937_64(seed)
    for i in range(count - 1, 0, -1):
        j = rng() % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def random_patch_mask(h, w, patch, fraction, seed):
    """lmask's random_patch_mask: the first lround(fraction * count) ids removed."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0,1], got {fraction}")
    count = patch_count(h, w, patch)
    # float(fraction) * count is the same IEEE double product as C++'s double * int.
    removed = random_order(count, seed)[:lround(float(fraction) * count)]
    return patch_mask(h, w, patch, removed)


# --------------------------------------------------------------------------
# Layer rules
# --------------------------------------------------------------------------

def _box3(t):
    """Per-channel 3x3 sum with zero padding, same size (the fill's window)."""
    channels = t.shape[1]
    ones = torch.ones(channels, 1, 3, 3, dtype=t.dtype, device=t.device)
    return F.conv2d(t, ones, padding=1, groups=channels)


def fill(x, m, steps):
    """The spec's fill: `steps` rounds of neighbour averaging into removed positions."""
    x = x * m
    r = m
    for _ in range(steps):
        num = _box3(x)
        den = _box3(r)
        # (1 - r) leaves known values untouched; unknown ones with no known
        # neighbour get 0 / 1e-5 = 0.
        x = x + (1 - r) * num / (den + FILL_EPS)
        r = torch.clamp(r + den, max=1)
    return x


def _square_kernel(conv):
    kh, kw = conv.kernel_size
    if kh != kw:
        raise ValueError(f"conv with a {kh}x{kw} kernel: the fill rule needs a square one")
    return kh


def conv_out_mask(m, conv):
    """m' = maxpool(m) over the conv's window; F.max_pool2d pads with -inf, so
    padding never wins (m >= 0)."""
    return F.max_pool2d(m, conv.kernel_size, conv.stride, conv.padding, conv.dilation)


def _renorm_scale(m, conv):
    """c = conv(m, ones(k x k) / (k k)) + eps: the window's visible fraction.

    Zero padding counts as removed, so c < 1 at the border even for an
    all-visible mask (partial convolution's padding behaviour).
    """
    kh, kw = conv.kernel_size
    box = torch.full((1, 1, kh, kw), 1.0 / (kh * kw), dtype=m.dtype, device=m.device)
    return F.conv2d(m, box, stride=conv.stride, padding=conv.padding,
                    dilation=conv.dilation) + RENORM_EPS


def masked_conv(conv, x, m, mode):
    """(y * m', m') for one Conv2d, filled ("layer") or renormalized ("layer-renorm")."""
    m_out = conv_out_mask(m, conv)
    if mode == "layer":
        y = conv(fill(x, m, _square_kernel(conv)))
    elif mode == "layer-renorm":
        c = _renorm_scale(m, conv)
        y = conv(x * m) / c
        if conv.bias is not None:
            # conv(x) already holds bias / c after the division; this makes it bias.
            y = y + conv.bias.view(1, -1, 1, 1) * (1 - 1 / c)
    else:
        raise ValueError(f"unknown mode '{mode}' (expected one of {', '.join(MODES)})")
    return y * m_out, m_out


def masked_bn(bn, x, m):
    return bn(x * m) * m


def masked_relu(x, m):
    return F.relu(x * m) * m


def masked_maxpool(pool, x, m):
    """Removed positions hold 0 and take part in the max as they are."""
    m_out = F.max_pool2d(m, pool.kernel_size, pool.stride, pool.padding, pool.dilation,
                         ceil_mode=pool.ceil_mode)
    return pool(x) * m_out, m_out


def masked_avgpool(x, m):
    """[N,C]: the mean over visible positions (0 where none is visible)."""
    return (x * m).mean(dim=(2, 3)) / (m.mean(dim=(2, 3)) + AVGPOOL_EPS)


def _conv_bn(conv, bn, x, m, mode):
    y, m = masked_conv(conv, x, m, mode)
    return masked_bn(bn, y, m), m


def masked_block(block, x, m, mode):
    """One Bottleneck or BasicBlock: branch and identity meet with m_out = mo * mi."""
    if isinstance(block, torchvision.models.resnet.Bottleneck):
        pairs = [(block.conv1, block.bn1), (block.conv2, block.bn2), (block.conv3, block.bn3)]
    elif isinstance(block, torchvision.models.resnet.BasicBlock):
        pairs = [(block.conv1, block.bn1), (block.conv2, block.bn2)]
    else:
        raise ValueError(f"unsupported residual block {type(block).__name__}")
    o, mo = x, m
    for index, (conv, bn) in enumerate(pairs):
        o, mo = _conv_bn(conv, bn, o, mo, mode)
        if index + 1 < len(pairs):  # the last BN feeds the sum, not a ReLU
            o = masked_relu(o, mo)
    if block.downsample is None:
        i, mi = x, m
    else:
        conv, bn = block.downsample[0], block.downsample[1]
        i, mi = _conv_bn(conv, bn, x, m, mode)
    m_out = mo * mi
    return F.relu((o + i) * m_out) * m_out, m_out


# --------------------------------------------------------------------------
# Whole network
# --------------------------------------------------------------------------

def _check_model(model):
    for name in ("conv1", "bn1", "maxpool", "layer1", "layer2", "layer3", "layer4", "fc"):
        if not hasattr(model, name):
            raise ValueError(f"model has no '{name}': not a torchvision ResNet")
    if model.training:
        # Train-mode BatchNorm would use batch statistics of the masked input.
        raise ValueError("model is in training mode; call model.eval() first")


def _check_inputs(x, m):
    if x.dim() != 4 or m.dim() != 4:
        raise ValueError(f"expected NCHW x and [N,1,H,W] m, got {list(x.shape)} and {list(m.shape)}")
    if m.shape[1] != 1 or m.shape[0] != x.shape[0] or m.shape[2:] != x.shape[2:]:
        raise ValueError(f"mask {list(m.shape)} does not fit input {list(x.shape)} "
                         "(expected [N,1,H,W] with the input's N, H, W)")
    if not bool(((m == 0) | (m == 1)).all()):
        raise ValueError("mask values must be exactly 0 or 1")


def masked_stages(model, x, m, mode="layer"):
    """{"stem", "layer1".."layer4": (value, mask)} of the layer-masked body."""
    _check_model(model)
    _check_inputs(x, m)
    m = m.to(x.dtype)
    stages = {}
    y, mask = _conv_bn(model.conv1, model.bn1, x * m, m, mode)
    y = masked_relu(y, mask)
    y, mask = masked_maxpool(model.maxpool, y, mask)
    stages["stem"] = (y, mask)
    for name in ("layer1", "layer2", "layer3", "layer4"):
        for block in getattr(model, name):
            y, mask = masked_block(block, y, mask, mode)
        stages[name] = (y, mask)
    return stages


def masked_features(model, x, m, mode="layer"):
    """[N,C]: the masked average pool of layer4, i.e. what fc sees."""
    y, mask = masked_stages(model, x, m, mode)["layer4"]
    return masked_avgpool(y, mask)


def masked_forward(model, x, m, mode="layer"):
    """Logits of the layer-masked forward of (x * m, m); m is [N,1,H,W], 1 = visible."""
    return model.fc(masked_features(model, x, m, mode))


# --------------------------------------------------------------------------
# --check: the golden vectors and self-checks
# --------------------------------------------------------------------------

class CheckFailed(Exception):
    pass


def _max_abs_diff(a, b):
    return (a - b).abs().max().item()


class Checker:
    """Collects named comparisons, prints each, remembers failures."""

    def __init__(self):
        self.failures = []

    def within(self, name, diff, tolerance):
        ok = diff <= tolerance
        print(f"{'ok  ' if ok else 'FAIL'} {name}: max |diff| {diff:.3g} (tolerance {tolerance:.3g})")
        if not ok:
            self.failures.append(name)

    def equal(self, name, ok, detail=""):
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
        if not ok:
            self.failures.append(name)


def _check_generator(checker):
    rng = Mt19937_64()
    for _ in range(9999):
        rng()
    value = rng()
    # The C++ standard's required check value for mt19937_64 ([rand.predef]).
    checker.equal("Mt19937_64 default seed, 10000th output", value == 9981545732273789042,
                  str(value))
    checker.equal("lround half away from zero",
                  [lround(v) for v in (0.5, 1.5, 2.5, -0.5, 0.49999999999999994, 98.0)]
                  == [1, 2, 3, -1, 0, 98])
    m = random_patch_mask(224, 224, 16, 0.5, 7)
    removed_patches = int((m == 0).sum().item()) // 256
    checker.equal("random_patch_mask(224,224,16,0.5) removes 98 of 196 patches",
                  removed_patches == 98, f"{removed_patches} removed")
    edge = random_patch_mask(20, 30, 16, 1.0, 1)
    checker.equal("patch grid with cut-short last row/column", bool((edge == 0).all())
                  and patch_count(20, 30, 16) == 4)


def _renorm_by_unfold(conv, x, m):
    """An independent, window-by-window renorm conv (for the self-check)."""
    k, s, p = conv.kernel_size, conv.stride, conv.padding
    n, _, h, w = x.shape
    oh = (h + 2 * p[0] - k[0]) // s[0] + 1
    ow = (w + 2 * p[1] - k[1]) // s[1] + 1
    cols = F.unfold(x * m, k, padding=p, stride=s)          # [N, C k k, L]
    mcols = F.unfold(m, k, padding=p, stride=s)              # [N, k k, L]
    raw = conv.weight.reshape(conv.out_channels, -1) @ cols  # [N, O, L]
    c = mcols.mean(dim=1, keepdim=True) + RENORM_EPS
    y = raw / c + conv.bias.view(1, -1, 1)
    visible = (mcols.max(dim=1, keepdim=True).values > 0).to(x.dtype)
    return (y * visible).reshape(n, -1, oh, ow), visible.reshape(n, 1, oh, ow)


def _check_renorm(checker):
    gen = torch.Generator().manual_seed(3)
    conv = torch.nn.Conv2d(5, 6, 3, stride=2, padding=1, bias=True)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen))
        conv.bias.copy_(torch.randn(conv.bias.shape, generator=gen))
        x = torch.randn(2, 5, 17, 19, generator=gen)
        m = (torch.rand(2, 1, 17, 19, generator=gen) > 0.5).float()
        y, m_out = masked_conv(conv, x, m, "layer-renorm")
        y_ref, m_ref = _renorm_by_unfold(conv, x, m)
        checker.within("layer-renorm conv vs window-by-window formula", _max_abs_diff(y, y_ref), 1e-4)
        checker.equal("layer-renorm conv output mask", torch.equal(m_out, m_ref))
        # All visible: c = 1 wherever the window lies inside the image.
        ones = torch.ones_like(m)
        y, _ = masked_conv(conv, x, ones, "layer-renorm")
        checker.within("layer-renorm all-visible interior equals plain conv",
                       _max_abs_diff(y[..., 1:-1, 1:-1], conv(x)[..., 1:-1, 1:-1]), 1e-4)


def _check_golden_logits(checker, model, cases, tolerance):
    inputs = torch.from_numpy(cases["input"][()])
    masks = torch.from_numpy(cases["mask"][()])
    expected = torch.from_numpy(cases["expected/layer"][()])
    kinds = str(cases.attrs.get("mask_kinds", "")).split(",")
    stages = None
    for k in range(masks.shape[1]):
        m = masks[:, k:k + 1]
        if kinds[k] == "patch30":
            stages = masked_stages(model, inputs, m)
            y, mask = stages["layer4"]
            logits = model.fc(masked_avgpool(y, mask))
        else:
            logits = masked_forward(model, inputs, m)
        kind = kinds[k] if k < len(kinds) else f"mask {k}"
        checker.within(f"expected/layer {kind} (3 images)",
                       _max_abs_diff(logits, expected[:, k]), tolerance)
    return stages


def _check_golden_stages(checker, stages, cases, tolerance):
    if stages is None:
        checker.equal("stages_patch30: no mask kind named patch30 in cases.h5", False)
        return
    for name, (value, mask) in stages.items():
        want_value = torch.from_numpy(cases[f"stages_patch30/{name}/value"][()])
        want_mask = torch.from_numpy(cases[f"stages_patch30/{name}/mask"][()])
        checker.equal(f"stages_patch30/{name}/mask exact", torch.equal(mask, want_mask),
                      f"{int((mask != want_mask).sum())} of {want_mask.numel()} differ")
        scale = want_value.abs().max().item()
        checker.within(f"stages_patch30/{name}/value (max |expected| {scale:.3g})",
                       _max_abs_diff(value, want_value), tolerance * scale)


def _check_nonsquare(checker, model, cases, tolerance):
    x = torch.from_numpy(cases["nonsquare/input"][()])
    m = torch.from_numpy(cases["nonsquare/mask"][()])
    expected = torch.from_numpy(cases["nonsquare/expected_layer"][()])
    checker.within("nonsquare/expected_layer (160x256)",
                   _max_abs_diff(masked_forward(model, x, m), expected), tolerance)


def run_check(weights_path, cases_path, tolerance):
    """Returns the names of failed checks (empty: all passed)."""
    for path in (weights_path, cases_path):
        if not os.path.isfile(path):
            raise CheckFailed(f"{path}: no such file")
    checker = Checker()
    _check_generator(checker)
    _check_renorm(checker)
    model, _ = load_weights_h5(weights_path)
    try:
        cases = h5py.File(cases_path, "r")
    except OSError as exc:
        raise CheckFailed(f"{cases_path}: cannot read HDF5 ({exc})")
    with cases, torch.no_grad():
        try:
            stages = _check_golden_logits(checker, model, cases, tolerance)
            _check_golden_stages(checker, stages, cases, tolerance)
            _check_nonsquare(checker, model, cases, tolerance)
        except KeyError as exc:
            raise CheckFailed(f"{cases_path}: missing dataset ({exc})")
    return checker.failures


def parse_args(argv):
    golden = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "..", "..", "shared", "golden")
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="PyTorch layer masking from the spec (import it); --check verifies it "
                    "against the golden vectors.")
    parser.add_argument("--check", action="store_true",
                        help="compare against the golden cases and exit 0 (pass) or 1 (fail)")
    parser.add_argument("--weights", default=os.path.normpath(os.path.join(golden, "resnet50_random.h5")),
                        metavar="W.h5", help="golden weights (default: %(default)s)")
    parser.add_argument("--cases", default=os.path.normpath(os.path.join(golden, "cases.h5")),
                        metavar="CASES.h5", help="golden cases (default: %(default)s)")
    parser.add_argument("--tolerance", type=float, default=1e-3,
                        help="logit tolerance; stage values use it times max |expected| "
                             "(default 1e-3)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch.set_num_threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if not args.check:
        parser.error("nothing to do: this is a module; the command line only offers --check")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    try:
        failures = run_check(args.weights, args.cases, args.tolerance)
    except (CheckFailed, ToolError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    if failures:
        print(f"{PROG}: error: {len(failures)} check(s) failed: {', '.join(failures)}",
              file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
