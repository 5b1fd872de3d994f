"""The examples run and print what lmask's own explainers compute: the LIME
loop (Model.probs as LIME's classifier_fn, numpy kernel and ridge) gives
lmask.lime's coefficients, the Captum-style ablation loop lmask.ablate's
drops, on a shipped image."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import lmask
from conftest import ROOT

IMAGE = os.path.join(ROOT, "data", "fmnist-test-1.png")
ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+([+-]\d+\.\d+)$", re.M)


def run_example(name, *args):
    """-> [(segment, value)] of the example's ranking, best first."""
    done = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), "--image", IMAGE, *args],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    rows = ROW.findall(done.stdout)
    assert [int(rank) for rank, _, _ in rows] == list(range(1, len(rows) + 1)) and rows, done.stdout
    return [(int(segment), float(value)) for _, segment, value in rows]


@pytest.fixture(scope="module")
def setting(shipped):
    image = shipped.preprocess(IMAGE)
    size = shipped.input_size
    return image, lmask.segment_grid(size, size, lmask.default_patch_size(size))


def test_the_lime_loop_prints_lmask_lime_s_top_segments(shipped, setting):
    image, segments = setting
    printed = run_example("lime_loop.py", "--samples", "256", "--seed", "3", "--top", "8")
    coefficients = lmask.lime(shipped, image, segments, samples=256, seed=3)
    assert [s for s, _ in printed] == list(np.argsort(-coefficients, kind="stable")[:8])
    for segment, value in printed:
        assert abs(coefficients[segment] - value) <= 1e-6, f"segment {segment}"


def test_the_ablation_loop_prints_lmask_ablate_s_top_segments(shipped, setting):
    image, segments = setting
    printed = run_example("captum_ablation.py", "--method", "grey", "--top", "8")
    drops = lmask.ablate(shipped, image, segments, method="grey")
    assert [s for s, _ in printed] == list(np.argsort(-drops, kind="stable")[:8])
    for segment, value in printed:
        assert abs(drops[segment] - value) <= 1e-5 + 1e-6 * abs(value), f"segment {segment}"
