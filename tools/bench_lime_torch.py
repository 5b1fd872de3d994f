#!/usr/bin/python3
"""PyTorch peer for the LIME study's throughput: layer-masked LIME perturbations per second.

What it is: the work `lmask study lime --methods layer` does per image for
LIME, rendered in PyTorch with torch_layer_masking.py's masked_forward: the
first --images Fashion-MNIST test images, preprocessed as training did (Pillow
bilinear resize to the weight file's input_size, the file's mean/std), cut into
a grid of --patch x --patch segments; lmask's perturbation matrix for image i
reproduced bit for bit (std::mt19937_64 seeded with seed + i, row 0 the intact
image, every other entry kept when the top 53 bits of a draw, as a double in
[0,1), are below 0.5); each row made a mask, evaluated in batches of --batch
(the image repeated, a different mask per copy), the softmax probability of the
clean top-1 class taken, and LIME's weighted ridge fitted (cosine-distance
kernel of width 0.25, alpha 1). The timed part per image is what lmask times
for a method: masks, masked forwards, softmax, ridge; the matrix itself and the
clean forward are not timed, in either program. Reported: perturbations per
second = images * samples / timed seconds, and the share spent in masked_forward.

With --lmask PATH the same settings are first run through `lmask study lime
--methods layer` (same thread count, OMP_NUM_THREADS) and both figures are
printed side by side, so the two numbers come from one run on one machine.

What it is not: an accuracy check of LIME (the C++ tests do that) or a fast
PyTorch implementation: masked_forward is the spec's dense rendering, the cost
of the method as published (see torch_layer_masking.py).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_torchvision import ToolError  # noqa: E402  (needs the path above)
from reference_logits import load_weights_h5  # noqa: E402
from train_fashion_mnist import load_split  # noqa: E402
import torch_layer_masking as masking  # noqa: E402

PROG = os.path.basename(__file__)
KEEP_PROB, KERNEL_WIDTH, ALPHA = 0.5, 0.25, 1.0  # EXPERIMENTS.md S3, as lmask/lime_model.h


def warn_if_busy(threads):
    """Warns on stderr when other processes compete for the cores (timings then mislead)."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if cores - load < min(threads, cores) - 0.5:
        print(f"{PROG}: warning: 1-minute load average is {load:.1f} on {cores} cores before starting; "
              "other processes may distort the timings", file=sys.stderr)


def perturbation_matrix(samples, segments, keep_prob, seed):
    """lmask's perturbation_matrix: uint8 [samples, segments], row 0 all ones."""
    rng = masking.Mt19937_64(seed)
    z = np.ones((samples, segments), dtype=np.uint8)
    for r in range(1, samples):
        for s in range(segments):
            # (bits >> 11) * 2^-53: the exact double lmask compares with keep_prob.
            z[r, s] = 1 if (rng() >> 11) * (2.0 ** -53) < keep_prob else 0
    return z


def grid_labels(h, w, patch):
    """[h, w] segment ids of lmask's grid_segments (row-major patches, last ones cut short)."""
    cols = (w + patch - 1) // patch
    ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return (ys // patch) * cols + xs // patch


def kernel_weights(z, width):
    """sqrt(exp(-d^2/width^2)), d the cosine distance of each row to the all-ones row."""
    kept = z.sum(axis=1).astype(np.float64)
    d = np.where(kept == 0, 1.0, 1.0 - np.sqrt(kept / z.shape[1]))
    return np.sqrt(np.exp(-d * d / (width * width)))


def weighted_ridge(x, y, w, alpha):
    """argmin sum w_i (y_i - b - x_i.beta)^2 + alpha |beta|^2, b unpenalised -> (beta, b)."""
    x_mean = (w[:, None] * x).sum(axis=0) / w.sum()
    y_mean = (w * y).sum() / w.sum()
    xc, yc = x - x_mean, y - y_mean
    a = xc.T @ (w[:, None] * xc) + alpha * np.eye(x.shape[1])
    beta = np.linalg.solve(a, xc.T @ (w * yc))
    return beta, y_mean - x_mean @ beta


def load_images(weights, count):
    """The first `count` test images as the model sees them: float [count,3,S,S], normalised."""
    with h5py.File(weights, "r") as f:
        size = int(f.attrs.get("input_size", 224))
        mean = np.asarray(f.attrs.get("mean", [0.485, 0.456, 0.406]), dtype=np.float32)
        std = np.asarray(f.attrs.get("std", [0.229, 0.224, 0.225]), dtype=np.float32)
    images, _ = load_split("test", size)
    x01 = torch.from_numpy(images[:count]).float().div_(255.0).unsqueeze(1).expand(-1, 3, -1, -1)
    return ((x01 - torch.from_numpy(mean).view(1, 3, 1, 1)) / torch.from_numpy(std).view(1, 3, 1, 1)).contiguous()


def lime_one_image(model, x, z, labels, batch):
    """LIME of one image [1,3,H,W]: (timed seconds, of which masked_forward seconds, coefficients)."""
    with torch.no_grad():
        top = int(model(x).argmax(dim=1))
    labels_t = torch.from_numpy(labels)
    scores, forward_s = [], 0.0
    start = time.perf_counter()
    with torch.no_grad():
        for first in range(0, len(z), batch):
            rows = torch.from_numpy(z[first:first + batch].astype(np.float32))
            # Row r's mask: 1 where the pixel's segment is kept.
            m = rows[:, labels_t].unsqueeze(1).contiguous()
            t0 = time.perf_counter()
            logits = masking.masked_forward(model, x.expand(len(rows), -1, -1, -1), m, mode="layer")
            forward_s += time.perf_counter() - t0
            scores.append(torch.softmax(logits.double(), dim=1)[:, top].numpy())
    y = np.concatenate(scores)
    beta, _ = weighted_ridge(z.astype(np.float64), y, kernel_weights(z, KERNEL_WIDTH), ALPHA)
    return time.perf_counter() - start, forward_s, beta


def run_lmask(lmask, args):
    """`lmask study lime --methods layer` on the same settings -> its layer perturbations/s."""
    with tempfile.TemporaryDirectory(prefix="bench_lime_") as out:
        cmd = [lmask, "study", "lime", "--weights", args.weights, "--dataset", "fmnist:test",
               "--methods", "layer", "--limit", str(args.images), "--samples", str(args.samples),
               "--patches", str(args.patch), "--batch", str(args.batch), "--seed", str(args.seed),
               "--out", out]
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        try:
            done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        except OSError as exc:
            raise ToolError(f"{lmask}: cannot run ({exc.strerror})")
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise ToolError(f"{lmask}: study lime failed: {last}")
        with open(os.path.join(out, "lime.json")) as f:
            report = json.load(f)
    return report["lime_perturbations_per_s"]["layer"], report["timings_s"]["methods"]["layer"]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Time layer-masked LIME in PyTorch (torch_layer_masking.masked_forward) on the perturbations "
                    "lmask's lime study uses, and report perturbations/s; with --lmask, beside lmask's figure.")
    parser.add_argument("--weights", required=True, metavar="W.h5", help="lmask weight file")
    parser.add_argument("--images", type=int, default=2, help="Fashion-MNIST test images (default 2)")
    parser.add_argument("--samples", type=int, default=512, help="perturbations per image (default 512)")
    parser.add_argument("--patch", type=int, default=0,
                        help="grid patch size in pixels (default: lmask's, round(16 * input_size / 224))")
    parser.add_argument("--batch", type=int, default=32, help="perturbations per forward (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="image i gets perturbations seed + i (default 0)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help=f"torch.set_num_threads and lmask's OMP_NUM_THREADS (default {os.cpu_count()})")
    parser.add_argument("--lmask", metavar="PATH", help="also run PATH study lime --methods layer and compare")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = parser.parse_args(argv)
    for name in ("images", "samples", "batch", "threads"):
        if getattr(args, name) < (2 if name == "samples" else 1):
            parser.error(f"--{name} is too small: {getattr(args, name)}")
    if args.patch < 0:
        parser.error(f"--patch must be positive, got {args.patch}")
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    warn_if_busy(args.threads)
    try:
        model, arch = load_weights_h5(args.weights)
        x_all = load_images(args.weights, args.images)
        size = x_all.shape[-1]
        args.patch = args.patch or max(1, masking.lround(16.0 * size / 224.0))
        # lmask first, while this process only holds the model: the two never overlap.
        lmask_rate, lmask_s = run_lmask(args.lmask, args) if args.lmask else (None, None)
        labels = grid_labels(size, size, args.patch)
        segments = int(labels.max()) + 1
        timed = forward = 0.0
        for i in range(len(x_all)):
            z = perturbation_matrix(args.samples, segments, KEEP_PROB, args.seed + i)
            seconds, forward_s, _ = lime_one_image(model, x_all[i:i + 1], z, labels, args.batch)
            timed += seconds
            forward += forward_s
    except ToolError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    perturbations = len(x_all) * args.samples
    report = {
        "arch": arch, "input_size": size, "patch": args.patch, "segments": segments,
        "images": len(x_all), "samples": args.samples, "batch": args.batch, "threads": torch.get_num_threads(),
        "perturbations": perturbations, "torch_seconds": timed, "torch_forward_share": forward / timed,
        "torch_perturbations_per_s": perturbations / timed, "torch_version": str(torch.__version__),
    }
    if lmask_rate is not None:
        report.update({"lmask_seconds": lmask_s, "lmask_perturbations_per_s": lmask_rate,
                       "lmask_over_torch": lmask_rate / report["torch_perturbations_per_s"]})
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"LIME, layer masking, {arch} at {size} px, {segments} segments ({args.patch} px grid), "
          f"{len(x_all)} images x {args.samples} perturbations, batch {args.batch}, {report['threads']} threads")
    print(f"  torch {report['torch_version']} (masked_forward): {report['torch_perturbations_per_s']:.1f} "
          f"perturbations/s ({timed:.1f} s, {100 * report['torch_forward_share']:.0f}% in masked_forward)")
    if lmask_rate is not None:
        print(f"  lmask (study lime --methods layer): {lmask_rate:.1f} perturbations/s ({lmask_s:.1f} s), "
              f"{report['lmask_over_torch']:.2f}x torch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
