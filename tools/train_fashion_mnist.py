#!/usr/bin/python3
"""Train torchvision's ResNet-50 on Fashion-MNIST (CPU) and export it for lmask.

What it is: the recipe behind weights/resnet50_fmnist.h5. A torchvision
ResNet-50, architecture unchanged apart from its 10-way classifier, trained from
scratch on Debian's dataset-fashion-mnist: grey images replicated to 3 channels,
resized 28 -> 64 with Pillow's bilinear filter (the very resize lmask's C++
reader applies, so training and inference see the same pixels), normalised with
the training set's mean and std, augmented with a random 64x64 crop of the
4-pixel zero-padded image and a horizontal flip. SGD with Nesterov momentum under
a one-cycle learning-rate schedule, fixed seed; one log line per epoch with loss
and accuracy. The result is written through convert_torchvision.write_h5 with
input_size, resize_size, mean, std and class_names attributes.

What it is not: a general trainer. One dataset, one architecture, CPU only.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_torchvision as convert  # noqa: E402  (sibling tool)
from fashion_mnist_idx import split_images, split_labels  # noqa: E402

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load_split(split, size):
    """Images resized to size x size with Pillow's bilinear (uint8), and labels."""
    images, labels = split_images(split), split_labels(split)
    resized = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR))
                        for im in images])
    return resized, labels.astype(np.int64)


def to_batch(images_u8, mean, std):
    """uint8 [B,H,W] -> normalised float [B,3,H,W], channels-last for oneDNN's speed."""
    x = torch.from_numpy(images_u8).float().div_(255.0)
    x = ((x - mean) / std).unsqueeze(1).expand(-1, 3, -1, -1)
    return x.contiguous(memory_format=torch.channels_last)


def augment(images_u8, rng, pad=4):
    """Random crop of the zero-padded image and a horizontal flip, per image."""
    n, h, w = images_u8.shape
    padded = np.zeros((n, h + 2 * pad, w + 2 * pad), dtype=np.uint8)
    padded[:, pad:pad + h, pad:pad + w] = images_u8
    dy = rng.integers(0, 2 * pad + 1, n)
    dx = rng.integers(0, 2 * pad + 1, n)
    flip = rng.random(n) < 0.5
    out = np.empty_like(images_u8)
    for i in range(n):
        crop = padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out[i] = crop[:, ::-1] if flip[i] else crop
    return out


def evaluate(model, images, labels, mean, std, batch=256):
    """Top-1 accuracy (fraction) of model on the given uint8 images."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch):
            logits = model(to_batch(images[start:start + batch], mean, std))
            correct += int((logits.argmax(1) == torch.from_numpy(labels[start:start + batch])).sum())
    return correct / len(images)


def train(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    train_x, train_y = load_split("train", args.size)
    test_x, test_y = load_split("test", args.size)
    if args.limit:
        train_x, train_y = train_x[:args.limit], train_y[:args.limit]
    mean = float(train_x.mean() / 255.0)
    std = float(train_x.std() / 255.0)
    print(f"data: {len(train_x)} train, {len(test_x)} test, {args.size}x{args.size}, "
          f"mean {mean:.4f} std {std:.4f}", flush=True)

    model = torchvision.models.resnet50(weights=None, num_classes=10)
    model = model.to(memory_format=torch.channels_last)
    steps_per_epoch = (len(train_x) + args.batch - 1) // args.batch
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9,
                                nesterov=True, weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch)
    history = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = rng.permutation(len(train_x))
        started, loss_sum, correct = time.time(), 0.0, 0
        for step in range(steps_per_epoch):
            index = order[step * args.batch:(step + 1) * args.batch]
            x = to_batch(augment(train_x[index], rng), mean, std)
            y = torch.from_numpy(train_y[index])
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += float(loss) * len(index)
            correct += int((logits.argmax(1) == y).sum())
            if step % 50 == 0:
                print(f"  epoch {epoch} step {step}/{steps_per_epoch} loss {float(loss):.4f} "
                      f"{time.time() - started:.0f}s", flush=True)
        test_acc = evaluate(model, test_x, test_y, mean, std)
        record = {"epoch": epoch, "train_loss": loss_sum / len(train_x),
                  "train_acc": correct / len(train_x), "test_acc": test_acc,
                  "seconds": time.time() - started}
        history.append(record)
        print(json.dumps(record), flush=True)
        torch.save(model.state_dict(), args.checkpoint)
    return model, mean, std, history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="weights/resnet50_fmnist.h5", metavar="W.h5")
    parser.add_argument("--checkpoint", default="build/train/resnet50_fmnist.pth",
                        help="PyTorch state_dict saved after every epoch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1, help="peak of the one-cycle schedule")
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--size", type=int, default=64, help="input side in pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N images only")
    parser.add_argument("--fp16", action="store_true", help="store float16 weights")
    args = parser.parse_args(argv)
    os.makedirs(os.path.dirname(os.path.abspath(args.checkpoint)), exist_ok=True)

    model, mean, std, history = train(args)
    extras = {"input_size": args.size, "resize_size": args.size,
              "mean": [mean] * 3, "std": [std] * 3, "class_names": CLASS_NAMES,
              "dataset": "fashion-mnist", "train_seed": args.seed, "train_epochs": args.epochs,
              "test_accuracy": history[-1]["test_acc"]}
    count = convert.write_h5(model.eval().state_dict(), args.out, "resnet50", 10, args.fp16, extras)
    print(f"wrote {args.out}: {count} tensors, test accuracy {history[-1]['test_acc']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
