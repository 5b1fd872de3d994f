"""Bad input raises, with one line, never a crash: ValueError for a wrong
argument (dtype, shape, method, range), OSError for a bad file, each
carrying the message the CLI prints after "lmask: error: " where the CLI
can be given the same mistake."""

import os
import shutil
import threading

import numpy as np
import pytest

import lmask
from conftest import ROOT, SHIPPED_WEIGHTS, cli_error_line

PHOTO = os.path.join(ROOT, "data", "fmnist-test-0.png")


def raises(kind, call, *args, **kwargs):
    """The message of the `kind` exception call(*args) raises; it must be one line."""
    with pytest.raises(kind) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert message and "\n" not in message
    return message


def test_a_truncated_weight_file_raises_the_cli_s_message(tmp_path):
    truncated = str(tmp_path / "truncated.h5")
    with open(SHIPPED_WEIGHTS, "rb") as src, open(truncated, "wb") as dst:
        dst.write(src.read(os.path.getsize(SHIPPED_WEIGHTS) // 2))
    message = raises(OSError, lmask.Model, truncated)
    assert message.startswith(truncated + ": ")
    assert message == cli_error_line("classify", "--weights", truncated, PHOTO)


def explain_error_line(tmp_path, image, *args):
    """The CLI's line for a mistake `lmask explain` finds before it loads the model (seconds saved per run)."""
    return cli_error_line("explain", image, "--weights", SHIPPED_WEIGHTS, "--out", str(tmp_path / "out.png"), *args)


def test_missing_files_raise_os_error_with_the_cli_s_message(shipped, tmp_path):
    missing = str(tmp_path / "missing.h5")
    assert raises(OSError, lmask.Model, missing) == cli_error_line("classify", "--weights", missing, PHOTO)
    image = str(tmp_path / "missing.png")
    assert raises(OSError, shipped.preprocess, image) == explain_error_line(tmp_path, image)
    not_an_image = str(tmp_path / "text.png")
    with open(not_an_image, "w") as f:
        f.write("not a picture\n")
    assert raises(OSError, shipped.preprocess, not_an_image) == explain_error_line(tmp_path, not_an_image)


def test_a_mask_of_the_wrong_size_raises_the_cli_s_message(shipped, tmp_path):
    small = str(tmp_path / "small.png")
    shutil.copy(os.path.join(ROOT, "data", "chelsea.png"), small)  # 451x300, not the photo's 28x28
    message = raises(OSError, lmask.load_mask, small, like=PHOTO, model=shipped)
    assert message == cli_error_line("classify", "--weights", SHIPPED_WEIGHTS, "--mask", small, PHOTO)


def test_an_unknown_method_raises_the_cli_s_message(shipped, shipped_image, tmp_path):
    mask = np.ones((1, 64, 64), dtype=bool)
    message = raises(ValueError, shipped.logits, shipped_image, mask, method="paint")
    assert message == explain_error_line(tmp_path, PHOTO, "--method", "paint")
    assert "known: black, grey" in message
    assert raises(ValueError, shipped.logits, shipped_image, method="paint") == message  # checked without masks too


def test_wrong_dtypes_and_shapes_raise_value_error_naming_the_argument(shipped, shipped_image):
    mask = np.ones((1, 64, 64), dtype=bool)
    assert raises(ValueError, shipped.logits, (shipped_image * 255).astype(np.uint8)).startswith(
        "images: dtype uint8; expected a float32 array [N,3,H,W] of pixels in [0,1]")
    assert raises(ValueError, shipped.logits, shipped_image[0]).startswith("images: shape (3, 64, 64); expected")
    assert "3 colour channels" in raises(ValueError, shipped.logits, np.zeros((1, 4, 64, 64), np.float32))
    assert raises(ValueError, shipped.logits, None).startswith("images: expected a float32 array")
    assert raises(ValueError, shipped.probs, shipped_image, np.ones((1, 32, 32), bool)) == (
        "masks: masks of 32x32 pixels for images of 64x64: they must be the images' size")
    two = np.concatenate([shipped_image] * 2)
    assert raises(ValueError, shipped.probs, two, np.ones((3, 64, 64), bool)).startswith("masks: 3 masks for 2 images")
    assert raises(ValueError, shipped.logits, shipped_image, np.ones((1, 2, 64, 64), bool)).startswith(
        "masks: shape (1, 2, 64, 64); expected masks [N,1,H,W] or [N,H,W]")
    assert raises(ValueError, shipped.logits, shipped_image, mask.astype(np.complex64)).startswith(
        "masks: dtype complex64")
    nan_mask = np.ones((1, 64, 64), np.float32)
    nan_mask[0, 5, 7] = np.nan
    assert "NaN in mask 0 at row 5, column 7" in raises(ValueError, shipped.logits, shipped_image, nan_mask)
    assert raises(ValueError, shipped.logits, shipped_image, batch=0) == "batch: must be at least 1, got 0"


def test_pixels_outside_0_1_are_refused_not_explained(shipped, shipped_image):
    normalised = (shipped_image - 0.5) / 0.25
    message = raises(ValueError, shipped.logits, normalised)
    assert "is not in [0, 1]: pass pixels in [0, 1] (the model normalises with its own mean and std)" in message
    bad = shipped_image.copy()
    bad[0, 2, 10, 20] = np.nan
    assert raises(ValueError, shipped.probs, bad).startswith("images: value nan of image 0, channel 2, row 10, column 20")


def test_explainers_check_their_arguments(shipped, shipped_image):
    grid = lmask.segment_grid(64, 64, 16)
    assert raises(ValueError, lmask.lime, shipped, shipped_image, grid + 1).startswith(
        "segments: id 0 is unused (ids run 0..16)")
    assert raises(ValueError, lmask.lime, shipped, shipped_image, grid[:32]).startswith("segments: shape (32, 64)")
    assert raises(ValueError, lmask.lime, shipped, shipped_image, grid.astype(float)).startswith("segments: dtype float64")
    assert raises(ValueError, lmask.lime, shipped, shipped_image, grid, samples=1) == "samples: must be at least 2, got 1"
    assert raises(ValueError, lmask.ablate, shipped, shipped_image, grid, target=10) == (
        "target: class 10 is not one of the model's 0..9")
    assert raises(ValueError, lmask.ablate, shipped, np.concatenate([shipped_image] * 2), grid).startswith(
        "image: shape (2, 3, 64, 64); expected one float32 image")
    assert raises(ValueError, lmask.masks.patches, 64, 64, 0, 0.5) == "patch: must be at least 1, got 0"
    assert raises(ValueError, lmask.masks.patches, 64, 64, 8, 1.5).startswith("remove: must be a fraction in [0, 1]")
    assert raises(ValueError, lmask.load_mask, PHOTO, like=PHOTO).startswith("load_mask: give model=")


def test_model_arguments_are_checked(tmp_path):
    assert raises(ValueError, lmask.Model, SHIPPED_WEIGHTS, threads=-1) == (
        "threads: must be 0 (OpenMP's default) or more, got -1")
    message = raises(ValueError, lmask.Model, SHIPPED_WEIGHTS, backend="tpu")
    assert message == cli_error_line("classify", "--weights", SHIPPED_WEIGHTS, "--backend", "tpu", PHOTO)


def test_one_model_called_from_two_threads_takes_turns(shipped, shipped_image):
    masks = np.stack([lmask.masks.patches(64, 64, 8, 0.5, seed=s) for s in range(8)])
    expected = shipped.logits(shipped_image, masks)
    results, errors = [], []

    def work():
        try:
            results.append(shipped.logits(shipped_image, masks))
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4
    for got in results:
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
