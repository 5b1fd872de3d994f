#!/usr/bin/python3
"""Check `lmask eval` against PyTorch on the same weights and Fashion-MNIST images.

What it is: loads an lmask HDF5 weight file into the stock torchvision model,
preprocesses Fashion-MNIST exactly as training did (Pillow bilinear resize to
the file's input_size, the file's mean/std), computes top-1/top-5 on the
first --limit test images (all 10,000 by default), runs
`lmask eval --dataset fmnist:test` on the same images, and prints both
accuracies and their difference in percentage points. Exit 1 when the
difference exceeds --max-diff-pp (default 0.1).

What it is not: a trainer (train_fashion_mnist.py) or a general evaluator.
"""

import argparse
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_logits import load_weights_h5  # noqa: E402
from train_fashion_mnist import load_split, to_batch  # noqa: E402


def torch_accuracy(weights, limit, batch=256):
    model, _ = load_weights_h5(weights)
    with h5py.File(weights, "r") as f:
        size = int(f.attrs["input_size"])
        mean = float(f.attrs["mean"][0])
        std = float(f.attrs["std"][0])
    images, labels = load_split("test", size)
    images, labels = images[:limit], labels[:limit]
    top1 = top5 = 0
    with torch.no_grad():
        for start in range(0, len(images), batch):
            logits = model(to_batch(images[start:start + batch], mean, std))
            y = torch.from_numpy(labels[start:start + batch])
            true = logits.gather(1, y[:, None])
            rank = (logits > true).sum(1)  # classes scoring strictly higher, as lmask counts
            top1 += int((rank == 0).sum())
            top5 += int((rank < 5).sum())
    return {"images": len(images), "top1": top1 / len(images), "top5": top5 / len(images),
            "top1_correct": top1, "top5_correct": top5}


def lmask_accuracy(lmask, weights, limit):
    out = subprocess.run([lmask, "eval", "--weights", weights, "--dataset", "fmnist:test",
                          "--limit", str(limit)], check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="weights/resnet50_fmnist.h5")
    parser.add_argument("--lmask", default="build/lmask", help="the lmask binary")
    parser.add_argument("--limit", type=int, default=10000)
    parser.add_argument("--max-diff-pp", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ours = lmask_accuracy(args.lmask, args.weights, args.limit)
    theirs = torch_accuracy(args.weights, args.limit)
    diff_pp = 100.0 * abs(ours["top1"] - theirs["top1"])
    print(json.dumps({"lmask": {k: ours[k] for k in ("images", "top1", "top5", "top1_correct")},
                      "torch": theirs, "top1_diff_pp": diff_pp}))
    return 0 if diff_pp <= args.max_diff_pp and ours["images"] == theirs["images"] else 1


if __name__ == "__main__":
    sys.exit(main())
