"""The golden cases through lmask.Model: the authors' PyTorch logits
(../shared/golden, README there) reproduced from Python, images in [0,1]
pixel space, the model normalising them itself.

cases.h5 (the random ResNet-50 at 224 px): the clean forward, and layer
masking, greyout and blackout for every mask kind, within 1e-3 (the golden
tolerance). trained_cases.h5 (the shipped model, where the fill inside the
blocks matters): layer and layer-renorm within 1e-3 + 1e-4 * max|expected|
per image and method. The preprocessing: Model.preprocess of a file and of
its decoded bytes against torchvision's, within the golden floor.
"""

import hashlib
import os

import h5py
import numpy as np
import pytest

import lmask
from conftest import ROOT, golden_path

LOGIT_TOLERANCE = 1e-3
# cases.h5's expected/<method> for the methods of Model.logits.
GOLDEN_METHODS = {"layer": "layer", "grey": "greyout", "black": "blackout"}


@pytest.fixture(scope="module")
def cases():
    with h5py.File(golden_path("cases.h5"), "r") as f:
        yield {name: f[name][()] for name in ["input_01", "mask", "expected/clean"] +
               [f"expected/{g}" for g in GOLDEN_METHODS.values()]}


@pytest.fixture(scope="module")
def random_resnet():
    return lmask.Model(golden_path("resnet50_random.h5"))


def test_clean_logits_match_pytorch(random_resnet, cases):
    got = random_resnet.logits(cases["input_01"])
    assert got.dtype == np.float32 and got.shape == (3, 1000)
    diff = np.abs(got - cases["expected/clean"]).max()
    assert diff <= LOGIT_TOLERANCE, f"clean: max |diff| {diff:.3g}"


@pytest.mark.parametrize("method", sorted(GOLDEN_METHODS))
def test_masked_logits_match_pytorch_for_every_mask_kind(random_resnet, cases, method):
    images, masks = cases["input_01"], cases["mask"]  # [3,3,224,224], [3,6,224,224]
    expected = cases[f"expected/{GOLDEN_METHODS[method]}"]  # [3,6,1000]
    for kind in range(masks.shape[1]):
        # One call per kind: the three images, each with its own mask ([N,H,W] float 0/1).
        got = random_resnet.logits(images, masks[:, kind], method=method)
        diff = np.abs(got - expected[:, kind]).max()
        assert diff <= LOGIT_TOLERANCE, f"{method}, mask kind {kind}: max |diff| {diff:.3g}"


def test_trained_model_layer_and_renorm_match_the_authors_code(shipped):
    with h5py.File(golden_path("trained_cases.h5"), "r") as f:
        wanted = f.attrs["weights_sha256"]
        weights = os.path.join(ROOT, str(f.attrs["weights"]))
        images, masks = f["input_01"][()], f["mask"][()]  # [7,3,64,64], [7,9,64,64]
        expected = {m: f[f"expected/{m.replace('-', '_')}"][()] for m in ("layer", "layer-renorm")}
    with open(weights, "rb") as w:
        actual = hashlib.sha256(w.read()).hexdigest()
    assert actual == wanted, f"{weights} was changed: the trained golden cases hold only for sha256 {wanted}"
    for method, logits in expected.items():
        for i in range(images.shape[0]):
            # One image under its nine masks: the image stands for every mask.
            got = shipped.logits(images[i:i + 1], masks[i][:, None], method=method)
            tolerance = LOGIT_TOLERANCE + 1e-4 * np.abs(logits[i]).max()
            diff = np.abs(got - logits[i]).max()
            assert diff <= tolerance, f"{method}, image {i}: max |diff| {diff:.3g} > {tolerance:.3g}"


@pytest.mark.parametrize("name", ["chelsea", "coffee", "astronaut"])
def test_preprocess_of_a_file_and_of_its_bytes_is_torchvision_s(random_resnet, name):
    with h5py.File(golden_path("cases.h5"), "r") as f:
        raw = f[f"preprocess/{name}.png/raw_rgb_u8"][()]
        expected = f[f"preprocess/{name}.png/expected_01"][()]
    from_file = random_resnet.preprocess(golden_path(f"images/{name}.png"))
    from_bytes = random_resnet.preprocess(raw)
    assert from_file.shape == (1, 3, 224, 224) and from_file.dtype == np.float32
    for got in (from_file, from_bytes):
        diff = np.abs(got[0] - expected)
        assert diff.max() <= 2 / 255 and diff.mean() <= 0.25 / 255, f"{name}: max {diff.max():.3g}"
    assert np.array_equal(from_file, from_bytes)
