"""Python and the CLI give the same numbers: `lmask classify --json` against
Model.probs on the same photo, clean and with a mask PNG drawn on the photo
(Model.preprocess and lmask.load_mask do the CLI's resize and crop), for a
layer, an input-masking and the colour method, and with --invert.

The CLI prints probabilities with 6 significant digits, so they agree to a
relative 1e-5; a different resize, crop or mask sampling moves them by far more.
"""

import json
import os

import numpy as np
import pytest
from PIL import Image

import lmask
from conftest import ROOT, SHIPPED_WEIGHTS, run_cli

PHOTO = os.path.join(ROOT, "data", "rocket.jpg")  # 640x427: resized and cropped to 64x64


@pytest.fixture(scope="module")
def mask_png(tmp_path_factory):
    """A mask at the photo's size: an off-centre ellipse removed (0), the rest visible (255)."""
    w, h = Image.open(PHOTO).size
    ys, xs = np.mgrid[0:h, 0:w]
    removed = ((xs - 0.4 * w) / (0.25 * w)) ** 2 + ((ys - 0.55 * h) / (0.3 * h)) ** 2 < 1
    path = str(tmp_path_factory.mktemp("masks") / "ellipse.png")
    Image.fromarray(np.where(removed, 0, 255).astype(np.uint8)).save(path)
    return path


def cli_probs(*args):
    """classify --json's probabilities of all 10 classes, by class: [images, 10]."""
    out, _ = run_cli("classify", "--weights", SHIPPED_WEIGHTS, "--json", "--topk", "10", *args)
    lines = out.strip().splitlines()
    probs = np.zeros((len(lines), 10))
    for row, line in zip(probs, lines):
        for item in json.loads(line)["topk"]:
            row[item["class"]] = item["prob"]
    return probs


def assert_close(python, cli, what):
    python = python.astype(np.float64)
    bad = np.abs(python - cli) > 1e-5 * np.abs(cli) + 1e-9
    assert not bad.any(), f"{what}: python {python[bad]} vs CLI {cli[bad]}"


def test_clean_probabilities_equal_the_cli(shipped):
    photos = [PHOTO] + [os.path.join(ROOT, "data", name) for name in ("chelsea.png", "fmnist-test-2.png")]
    images = np.concatenate([shipped.preprocess(p) for p in photos])
    assert_close(shipped.probs(images), cli_probs(*photos), "clean")


# Each CLI run loads the model again (seconds), so the cases are few but different in kind:
# layer masking both ways, an input method that reads the image (blur), a constant paint.
@pytest.mark.parametrize("method,invert", [("layer", False), ("layer", True), ("layer-renorm", False),
                                           ("blur", True), ("colour:255,0,0", False)])
def test_a_mask_file_gives_the_cli_s_numbers(shipped, mask_png, method, invert):
    image = shipped.preprocess(PHOTO)
    mask = lmask.load_mask(mask_png, like=PHOTO, model=shipped, invert=invert)
    assert mask.dtype == np.bool_ and mask.shape == (64, 64) and 0 < mask.sum() < mask.size
    python = shipped.probs(image, mask[None], method=method)[0]
    cli = cli_probs("--mask", mask_png, *(["--invert"] if invert else []), "--method", method, PHOTO)[0]
    assert_close(python, cli, f"{method}{' --invert' if invert else ''}")


def test_load_mask_takes_the_photo_s_bytes_or_explicit_sizes(shipped, mask_png):
    from_path = lmask.load_mask(mask_png, like=PHOTO, model=shipped)
    photo = np.asarray(Image.open(PHOTO).convert("RGB"))
    assert np.array_equal(lmask.load_mask(mask_png, like=photo, model=shipped), from_path)
    assert np.array_equal(lmask.load_mask(mask_png, like=PHOTO, resize=64, crop=64), from_path)
    assert lmask.load_mask(mask_png, like=PHOTO, resize=100, crop=80).shape == (80, 80)
