#!/usr/bin/python3
"""Issue 18's performance figures: LIME from Python with lmask, against the C++ study and PyTorch.

What it measures, in one run, on the same work (the first --images Fashion-MNIST
test images, --samples layer-masked perturbations each, lmask's grid of
default-size patches, batches of --batch, perturbation seed = --seed + image
index, --threads threads for every program):
  study   `lmask study lime --methods layer`: the LIME seconds its JSON reports
          for layer (masks, masked forwards, softmax, ridge)
  python  the same loop written in Python (--python-loop, a process of its own):
          examples/lime_loop.py's lime(): lmask.perturbations for the matrix,
          Model.probs on the [samples,H,W] masks as classifier_fn, numpy's
          kernel and weighted ridge; timed as the study times it (not the
          matrix, not the clean forward). Twice: on the native backend, the
          engine the study runs (python_native: the per-call overhead is
          python_native / study), and on the fastest built (python_auto:
          what a user gets by default, set against torch)
  torch   tools/bench_lime_torch.py, the loop in PyTorch (torch_layer_masking's
          masked_forward); it also runs the study line above, on one machine
--rounds rounds, each running all three; every figure is the median over the
rounds. The log (--log, default docs/bench/python-lime.log) starts with one
line naming the date, the CPU (lscpu's Model name), the cores and the commit,
then one JSON line per round, then the summary: python_native / study (the
per-call overhead, issue 18 asks <= 1.05) and torch / python_auto (issue 18
asks >= 3; torch / python_native beside it).

What it is not: a check (no figure is asserted), or quiet: run it on an idle
machine, other load shifts every figure.

    /usr/bin/python3 tools/bench_python_lime.py [--rounds 5] [--images 4] [--samples 512] [--threads 2]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from fashion_mnist_idx import split_images  # noqa: E402

PROG = os.path.basename(__file__)


def python_loop(args):
    """The Python LIME loop with lmask: its timed seconds, as one JSON line on stdout."""
    # The loop measured is the example's (examples/lime_loop.py): its lime() and lmask as classifier_fn.
    sys.path[:0] = [os.path.join(ROOT, "build", "python"), os.path.join(ROOT, "examples")]
    import lmask
    from lime_loop import lime
    model = lmask.Model(args.weights, backend=args.backend, threads=args.threads)
    size = model.input_size
    patch = args.patch or lmask.default_patch_size(size)
    segments = lmask.segment_grid(size, size, patch)
    count = int(segments.max()) + 1
    images = split_images("test")[:args.images]
    timed = 0.0
    for i, grey in enumerate(images):
        image = model.preprocess(grey)
        top = int(model.logits(image)[0].argmax())
        z = lmask.perturbations(args.samples, count, seed=args.seed + i)
        def classifier_fn(rows, image=image):
            return model.probs(image, rows[:, segments], method="layer", batch=args.batch)

        start = time.perf_counter()
        lime(classifier_fn, z, top)
        timed += time.perf_counter() - start
    print(json.dumps({"python_seconds": timed, "backend": model.backend, "segments": count, "patch": patch}))


def run_json(cmd, env):
    """Runs a benchmark that prints one JSON line last -> that object; a failure exits with its stderr."""
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise SystemExit(f"{PROG}: error: {' '.join(cmd[:3])}: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def one_round(args, env):
    """study and torch (bench_lime_torch.py --lmask), then python on each backend: their seconds."""
    common = ["--weights", args.weights, "--images", str(args.images), "--samples", str(args.samples),
              "--batch", str(args.batch), "--seed", str(args.seed), "--threads", str(args.threads)]
    if args.patch:
        common += ["--patch", str(args.patch)]
    peer = run_json([sys.executable, os.path.join(ROOT, "tools", "bench_lime_torch.py"), *common,
                     "--lmask", args.lmask, "--json"], env)
    mine = {backend: run_json([sys.executable, os.path.abspath(__file__), "--python-loop", "--backend", backend,
                               *common], env) for backend in ("native", "auto")}
    return {"study_seconds": peer["lmask_seconds"], "python_native_seconds": mine["native"]["python_seconds"],
            "python_auto_seconds": mine["auto"]["python_seconds"], "torch_seconds": peer["torch_seconds"],
            "auto_backend": mine["auto"]["backend"], "segments": mine["native"]["segments"],
            "patch": mine["native"]["patch"]}


def header():
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return ""
    cpu = next((line.split(":", 1)[1].strip() for line in out(["lscpu"]).splitlines()
                if line.startswith("Model name:")), "unknown CPU")
    commit = out(["git", "rev-parse", "--short", "HEAD"]) or "unknown commit"
    dirty = " (uncommitted changes)" if out(["git", "status", "--porcelain", "--untracked-files=no"]) else ""
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return f"== {when}, {cpu}, {os.cpu_count()} cores, lmask {commit}{dirty}"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog=PROG, description="Time LIME from Python with lmask against "
                                     "`lmask study lime` and PyTorch, on the same work, in one run.")
    parser.add_argument("--weights", default=os.path.join(ROOT, "weights", "resnet50_fmnist.h5"))
    parser.add_argument("--lmask", default=os.path.join(ROOT, "build", "lmask"), help="the CLI (default build/lmask)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; figures are medians (default 5)")
    parser.add_argument("--images", type=int, default=4, help="Fashion-MNIST test images (default 4)")
    parser.add_argument("--samples", type=int, default=512, help="perturbations per image (default 512)")
    parser.add_argument("--batch", type=int, default=32, help="perturbations per forward (default 32)")
    parser.add_argument("--patch", type=int, default=0, help="grid patch size (default: lmask's for the model)")
    parser.add_argument("--seed", type=int, default=0, help="image i gets perturbation seed + i (default 0)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads of every program")
    parser.add_argument("--log", default=os.path.join(ROOT, "docs", "bench", "python-lime.log"))
    parser.add_argument("--python-loop", action="store_true", help=argparse.SUPPRESS)  # one python measurement
    parser.add_argument("--backend", default="auto", help=argparse.SUPPRESS)  # its backend
    args = parser.parse_args(argv)
    for name, least in (("rounds", 1), ("images", 1), ("samples", 2), ("batch", 1), ("threads", 1)):
        if getattr(args, name) < least:
            parser.error(f"--{name} must be at least {least}, got {getattr(args, name)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.python_loop:
        python_loop(args)
        return 0
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    lines = [header()]
    print(lines[0], flush=True)
    rounds = []
    for r in range(1, args.rounds + 1):
        rounds.append(one_round(args, env))
        lines.append(json.dumps({"round": r, "images": args.images, "samples": args.samples,
                                 "threads": args.threads, **rounds[-1]}))
        print(lines[-1], flush=True)
    figures = ("study", "python_native", "python_auto", "torch")
    median = {name: statistics.median(r[f"{name}_seconds"] for r in rounds) for name in figures}
    perturbations = args.images * args.samples
    lines.append(f"median of {args.rounds} rounds, {args.images} images x {args.samples} perturbations "
                 f"({rounds[0]['segments']} segments, {rounds[0]['patch']} px grid), batch {args.batch}, "
                 f"{args.threads} threads; python_auto ran on {rounds[0]['auto_backend']}:")
    for name in figures:
        lines.append(f"  {name:<13} {median[name]:8.3f} s  {perturbations / median[name]:8.1f} perturbations/s")
    lines.append(f"  python_native / study = {median['python_native'] / median['study']:.3f} "
                 f"(per-call overhead, the same engine; issue 18: <= 1.05)")
    lines.append(f"  torch / python_auto = {median['torch'] / median['python_auto']:.2f}x, "
                 f"torch / python_native = {median['torch'] / median['python_native']:.2f}x (issue 18: >= 3)")
    for line in lines[-(len(figures) + 3):]:
        print(line)
    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    temporary = f"{args.log}.tmp-{os.getpid()}"
    with open(temporary, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(temporary, args.log)
    print(f"wrote {args.log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
