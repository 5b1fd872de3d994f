#!/usr/bin/python3
"""Checkpoints as users have them, for tests/test_converter.cpp.

    checkpoint_cases.py DIR

For each case below: a seeded random torchvision model saved the way the case
says, converted by tools/convert_torchvision.py's command line (no
--num-classes: the converter reads it from the classifier) to DIR/NAME/w.h5,
and tools/reference_logits.py's outputs of the ORIGINAL model, before saving,
written to DIR/NAME/ref.h5 (--batch 2 --size 64 --seed 5's input), so that a
converter which renames or drops a tensor shows as a difference in lmask.
Writes DIR/cases.txt, a line "NAME ARCH" per case, last; one interpreter for
all (importing torch is most of the time).
"""

import os
import re
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import convert_torchvision  # noqa: E402
import reference_logits  # noqa: E402

CLASSES = 10  # not 1000: the converter must find the count in the checkpoint


def legacy_densenet_keys(state_dict):
    """torchvision < 0.3's DenseNet names: denselayer1.norm1.weight -> denselayer1.norm.1.weight."""
    return {re.sub(r"(denselayer\d+\.(?:norm|conv))([12])\.", r"\1.\2.", k): v for k, v in state_dict.items()}


# name -> (arch, how the checkpoint holds the model)
CASES = {
    # The old key style, inside {"state_dict": ...}, saved from DataParallel.
    "densenet_legacy": ("densenet121", lambda m: {"state_dict": {
        "module." + k: v for k, v in legacy_densenet_keys(m.state_dict()).items()}, "epoch": 90}),
    # A whole pickled model.
    "squeezenet_pickled": ("squeezenet1_0", lambda m: m),
    # {"model": state_dict}, as torchvision's reference training scripts save.
    "mobilenet_wrapped": ("mobilenet_v3_small", lambda m: {"model": m.state_dict(), "optimizer": {}}),
    "efficientnet_plain": ("efficientnet_b1", lambda m: m.state_dict()),
}


def main(directory):
    done = []
    for name, (arch, saved) in CASES.items():
        case = os.path.join(directory, name)
        os.makedirs(case, exist_ok=True)
        model = convert_torchvision.random_model(arch, CLASSES, seed=7, calibrate_batches=4, size=64)
        checkpoint = os.path.join(case, "model.pth")
        torch.save(saved(model), checkpoint)
        weights = os.path.join(case, "w.h5")
        status = convert_torchvision.main([checkpoint, "--arch", arch, "--input-size", "64", "--out", weights])
        if status:
            return status
        x = reference_logits.random_input(2, 64, 5)
        logits, features = reference_logits.reference_outputs(model, x, arch)
        reference_logits.write_reference(os.path.join(case, "ref.h5"), x, logits, features, {"arch": arch})
        done.append(f"{name} {arch}\n")
    with open(os.path.join(directory, "cases.txt"), "w") as f:
        f.writelines(done)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
