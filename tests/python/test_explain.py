"""lmask.lime is the lime study's LIME, lmask.ablate is Captum's
FeatureAblation over segments, and the segmentations and mask builders are
the studies' own.

The study writes no coefficients, so lmask.lime is held to it twice, both
through the CLI: `lmask explain` prints every coefficient (6 decimals) of
the same LIME, and `lmask study lime` prints, for its ranking, the target's
probability after the top-k segments are removed (9 digits), which the
ranking from lmask.lime reproduces only if it is the study's. Both compare
on the native backend, the engine the CLI's studies run, so the numbers
agree to the digits printed (Model.probs is float32: 1e-7 relative).
"""

import csv
import os
import re

import numpy as np
import pytest

import lmask
from conftest import SHIPPED_WEIGHTS, fmnist_test_image, run_cli

SEED, SAMPLES = 5, 64


@pytest.fixture(scope="module")
def native():
    """The shipped model on the native backend, as lmask explain and lmask study run it."""
    return lmask.Model(SHIPPED_WEIGHTS, backend="native")


@pytest.fixture(scope="module")
def study_image(shipped):
    """Fashion-MNIST test image 0 as the study's dataset prepares it: grey bytes, resized by the CLI's preprocess."""
    return shipped.preprocess(fmnist_test_image(0))


@pytest.fixture(scope="module")
def grid(shipped):
    size = shipped.input_size
    return lmask.segment_grid(size, size, lmask.default_patch_size(size))


def ranking(coefficients):
    """Segments by coefficient, highest first, ties by lower id (the study's order)."""
    return np.argsort(-coefficients, kind="stable")


def test_lime_coefficients_are_lmask_explain_s(native, study_image, grid, tmp_path):
    image_png = str(tmp_path / "image.png")
    from PIL import Image
    Image.fromarray(fmnist_test_image(0)).save(image_png)
    out, _ = run_cli("explain", image_png, "--weights", SHIPPED_WEIGHTS, "--out", str(tmp_path / "heat.png"),
                     "--method", "layer", "--samples", str(SAMPLES), "--seed", str(SEED), "--top", "100000")
    printed = {int(s): float(c) for s, c in re.findall(r"^\s*\d+\s+(\d+)\s+([+-]\d+\.\d+)\s+\d+$", out, re.M)}
    coefficients = lmask.lime(native, study_image, grid, samples=SAMPLES, seed=SEED, method="layer")
    assert coefficients.dtype == np.float64 and coefficients.shape == (grid.max() + 1,)
    assert sorted(printed) == list(range(len(coefficients)))
    for segment, value in printed.items():
        assert abs(coefficients[segment] - value) <= 5.01e-7, f"segment {segment}"  # printed with 6 decimals


def test_lime_rankings_reproduce_the_lime_study(native, study_image, grid, tmp_path):
    methods = ["layer", "grey"]
    run_cli("study", "lime", "--weights", SHIPPED_WEIGHTS, "--dataset", "fmnist:test", "--limit", "1",
            "--samples", str(SAMPLES), "--seed", str(SEED), "--methods", ",".join(methods), "--out", str(tmp_path))
    with open(tmp_path / "lime.csv") as f:
        rows = list(csv.DictReader(f))
    ks = sorted({int(r["k"]) for r in rows})
    top = int(np.argmax(native.logits(study_image)[0]))
    # The study's yardstick: each method's top-k segments removed by layer
    # masking, all (method, k) rows in one batch, method-major.
    masks = []
    for method in methods:
        order = ranking(lmask.lime(native, study_image, grid, samples=SAMPLES, seed=SEED, method=method))
        masks += [~np.isin(grid, order[:k]) for k in ks]
    probs = native.probs(study_image, np.stack(masks), method="layer")[:, top]
    for row, p in zip(rows, probs):
        expected = float(row["prob_sum"])  # one image: the sum is its probability
        assert abs(p - expected) <= 1e-7 * expected + 1e-12, f"{row['method']} k={row['k']}: {p} vs {expected}"


def test_lime_depends_on_its_seed_target_and_method(shipped, shipped_image, grid):
    base = lmask.lime(shipped, shipped_image, grid, samples=SAMPLES, seed=1)
    assert np.array_equal(base, lmask.lime(shipped, shipped_image, grid, samples=SAMPLES, seed=1))
    for other in (dict(seed=2), dict(target=0), dict(method="blur"), dict(method="segment-mean")):
        changed = lmask.lime(shipped, shipped_image, grid, samples=SAMPLES, **{"seed": 1, **other})
        assert np.abs(changed - base).max() > 1e-4, other


def test_ablate_is_the_logit_drop_of_each_segment_removed(shipped, shipped_image):
    grid = lmask.segment_grid(64, 64, 13)  # 25 segments, the last row and column cut short
    segments = grid.max() + 1
    for method, target in (("layer", None), ("grey", 3), ("layer-renorm", None)):
        drops = lmask.ablate(shipped, shipped_image, grid, method=method, target=target)
        assert drops.shape == (segments,)
        # Captum's FeatureAblation by hand: the reference (nothing removed) minus each ablated forward.
        visible = np.ones((1, *grid.shape), dtype=bool)
        reference = shipped.logits(shipped_image, visible, method=method)[0]
        cls = int(np.argmax(shipped.logits(shipped_image)[0])) if target is None else target
        ablated = shipped.logits(shipped_image, np.stack([grid != s for s in range(segments)]), method=method)
        expected = reference[cls] - ablated[:, cls]
        np.testing.assert_allclose(drops, expected, rtol=1e-4, atol=1e-3, err_msg=f"{method}, target {target}")
        assert np.abs(drops).max() > 1e-2


def test_segmentations_and_mask_builders_are_the_studies(shipped_image):
    grid = lmask.segment_grid(10, 7, 3)  # 4 rows x 3 columns of patches, the last ones cut short
    assert grid.dtype == np.int32 and grid.shape == (10, 7)
    assert grid[0, 0] == 0 and grid[0, 6] == 2 and grid[9, 0] == 9 and grid[9, 6] == 11
    np.testing.assert_array_equal(lmask.masks.segments(grid, [4, 11]), ~np.isin(grid, [4, 11]))

    keep = lmask.masks.patches(64, 64, 8, remove=0.25, seed=3)
    assert keep.dtype == np.bool_ and keep.shape == (64, 64)
    patch_kept = keep.reshape(8, 8, 8, 8).all(axis=(1, 3))
    assert (~patch_kept).sum() == 16 and np.array_equal(keep, np.repeat(np.repeat(patch_kept, 8, 0), 8, 1))
    assert not np.array_equal(keep, lmask.masks.patches(64, 64, 8, remove=0.25, seed=4))

    rect = lmask.masks.rectangle(6, 8, 2, 1, 5, 3)
    assert (~rect).sum() == 6 and not rect[1:3, 2:5].any()
    assert not lmask.masks.disk(9, 9, 4, 4, 2)[4, 4] and lmask.masks.disk(9, 9, 4, 4, 2)[0, 0]

    slic = lmask.slic(shipped_image, 16)
    assert slic.shape == (64, 64) and slic.min() == 0
    assert np.array_equal(np.unique(slic), np.arange(slic.max() + 1)) and 4 <= slic.max() + 1 <= 40

    z = lmask.perturbations(32, 10, seed=7)
    assert z.dtype == np.uint8 and z.shape == (32, 10) and z[0].all() and 0.3 < z[1:].mean() < 0.7
    assert np.array_equal(z, lmask.perturbations(32, 10, seed=7))
