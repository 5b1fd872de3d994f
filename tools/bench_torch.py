#!/usr/bin/python3
"""PyTorch peer for lmask's benchmarks: torchvision ResNet eval throughput on CPU.

What it is: builds the stock torchvision model (from lmask HDF5 weights with
--weights, else a seeded random model), runs N timed iterations of one "mode"
after W warm-up iterations on a fixed seeded N(0,1) batch, and reports
images/s as the best iteration (B / fastest time) and the median iteration
(B / median time), plus the process's peak RSS. Eval mode, float32, NCHW
(contiguous) tensors: channels-last is NOT used unless --channels-last is
given. Gradients are off through torch.no_grad() (default) or
torch.inference_mode() (--grad-mode inference_mode).

Modes (MODES: a function of (model, args) returning the zero-argument callable
one iteration runs): "clean", the plain forward; "layer" and "layer-renorm",
the spec's layer-masked forward as torch_layer_masking.py renders it, on the
very masks `lmask bench --method layer --remove F --patch P --seed S` uses
(16x16 patches, image i of the batch gets seed S + 1000 + i).

What it is not: an accuracy check (see reference_logits.py) or a GPU benchmark.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_torchvision import (  # noqa: E402  (needs the path above)
    RESNET_ARCHS, ToolError, build_model, calibrate_batchnorm)
from reference_logits import load_weights_h5, random_input  # noqa: E402
import torch_layer_masking as masking  # noqa: E402
from cli_args import int_at_least  # noqa: E402

PROG = os.path.basename(__file__)
GRAD_MODES = {"no_grad": torch.no_grad, "inference_mode": torch.inference_mode}


# --------------------------------------------------------------------------
# Modes: each returns the callable one timed iteration runs.
# --------------------------------------------------------------------------

def prepare_clean(model, args):
    """The plain forward of a [batch,3,size,size] input."""
    x = random_input(args.batch, args.size, args.seed)
    if args.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return lambda: model(x)


def prepare_layer_masked(model, args):
    """The spec's layer-masked forward on lmask bench's random patch masks."""
    x = random_input(args.batch, args.size, args.seed)
    m = torch.cat([masking.random_patch_mask(args.size, args.size, args.patch, args.remove,
                                             args.seed + 1000 + i) for i in range(args.batch)])
    return lambda: masking.masked_forward(model, x, m, mode=args.mode)


MODES = {
    "clean": prepare_clean,
    "layer": prepare_layer_masked,
    "layer-renorm": prepare_layer_masked,
}


# --------------------------------------------------------------------------
# Model and timing
# --------------------------------------------------------------------------

def load_model(args):
    """The eval-mode model: lmask weights if given, else a seeded random one."""
    if args.weights:
        model, arch = load_weights_h5(args.weights)
        if args.arch and arch != args.arch:
            raise ToolError(f"{args.weights}: holds {arch}, but --arch {args.arch} was given")
        return model, arch
    arch = args.arch or "resnet50"
    torch.manual_seed(args.seed)
    model = build_model(arch, 1000)
    # Uncalibrated BatchNorm lets activations drift by orders of magnitude; a
    # cheap calibration keeps them in a realistic range, so no denormal or
    # overflow path can skew the timing. Accuracy is irrelevant here.
    return calibrate_batchnorm(model, batches=1, batch_size=8, size=64, seed=args.seed), arch


def time_iterations(step, iters, warmup, grad_mode):
    """Seconds per timed iteration, after `warmup` untimed ones."""
    times = []
    with GRAD_MODES[grad_mode]():
        for _ in range(warmup):
            step()
        for _ in range(iters):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    return times


def peak_rss_mb():
    # Linux reports ru_maxrss in KiB; the result is MiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def summarize(times, args):
    """The report dictionary (the --json keys)."""
    return {
        "mode": args.mode,
        "remove": args.remove if args.mode != "clean" else 0.0,
        "batch": args.batch,
        "threads": torch.get_num_threads(),
        "iters": len(times),
        "best_images_per_s": args.batch / min(times),
        "median_images_per_s": args.batch / statistics.median(times),
        "peak_rss_mb": peak_rss_mb(),
        "torch_version": str(torch.__version__),
    }


def warn_if_busy(threads):
    """Warns on stderr when other processes compete for the cores.

    OpenMP threads that wait at barriers for a descheduled peer make a busy
    machine look many times slower than it is, so such numbers need a flag.
    """
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    # The 1-minute average lags (a run just finished still counts), so allow half a core.
    if cores - load < min(threads, cores) - 0.5:
        print(f"{PROG}: warning: 1-minute load average is {load:.1f} on {cores} cores "
              "before starting; other processes may distort the timings", file=sys.stderr)


def human_line(report, args, arch):
    layout = "channels-last" if args.channels_last else "NCHW"
    mode = args.mode if args.mode == "clean" else f"{args.mode} remove={args.remove}"
    return (f"torch {report['torch_version']} {arch} {mode} batch={report['batch']} "
            f"size={args.size} threads={report['threads']} {args.grad_mode} {layout}: "
            f"best {report['best_images_per_s']:.2f} img/s (fastest iteration), "
            f"median {report['median_images_per_s']:.2f} img/s over {report['iters']} iters "
            f"(warmup {args.warmup}); peak RSS {report['peak_rss_mb']:.0f} MiB")


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Time torchvision ResNet inference on CPU (eval, float32, NCHW unless "
                    "--channels-last) and report images/s: best = batch / fastest iteration, "
                    "median = batch / median iteration; plus peak RSS (MiB).")
    parser.add_argument("--arch", choices=RESNET_ARCHS,
                        help="architecture (default resnet50, or the one in --weights)")
    parser.add_argument("--weights", metavar="W.h5", help="lmask weight file (default: random)")
    parser.add_argument("--mode", choices=sorted(MODES), default="clean",
                        help="what one iteration runs (default clean)")
    parser.add_argument("--remove", type=float, default=0.5,
                        help="layer modes: fraction of patches removed (default 0.5)")
    parser.add_argument("--patch", type=int_at_least(1), default=16,
                        help="layer modes: patch side in pixels (default 16)")
    parser.add_argument("--batch", type=int_at_least(1), default=1, help="batch size (default 1)")
    parser.add_argument("--iters", type=int_at_least(1), default=10,
                        help="timed iterations (default 10)")
    parser.add_argument("--warmup", type=int_at_least(0), default=2,
                        help="untimed iterations first (default 2)")
    parser.add_argument("--threads", type=int_at_least(1), default=os.cpu_count() or 1,
                        help=f"torch.set_num_threads (default: all cores, {os.cpu_count()})")
    parser.add_argument("--size", type=int_at_least(32), default=224,
                        help="input height = width (default 224)")
    parser.add_argument("--seed", type=int, default=0, help="input / random-model seed")
    parser.add_argument("--grad-mode", choices=sorted(GRAD_MODES), default="no_grad",
                        help="gradient-free context (default no_grad)")
    parser.add_argument("--channels-last", action="store_true",
                        help="use channels-last tensors (off by default)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = parser.parse_args(argv)
    if not 0.0 <= args.remove <= 1.0:
        parser.error(f"--remove must be in [0, 1], got {args.remove}")
    if args.mode != "clean" and args.channels_last:
        parser.error("--channels-last applies to the clean mode only")
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    warn_if_busy(args.threads)
    try:
        model, arch = load_model(args)
        if args.channels_last:
            model = model.to(memory_format=torch.channels_last)
        step = MODES[args.mode](model, args)
        times = time_iterations(step, args.iters, args.warmup, args.grad_mode)
    except ToolError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:  # e.g. out of memory for a huge --batch
        print(f"{PROG}: error: forward failed: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    report = summarize(times, args)
    print(json.dumps(report) if args.json else human_line(report, args, arch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
