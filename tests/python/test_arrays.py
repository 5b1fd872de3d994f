"""numpy arrays in every layout give the same numbers, and the common one
costs no copy: C-contiguous float32 images are read where they lie, any
other dtype, byte order or layout is converted once; masks are read in
place whatever their dtype (non-zero = visible) and strides."""

import tracemalloc

import numpy as np
import pytest

import lmask


@pytest.fixture(scope="module")
def batch(shipped_image):
    """Four images (the shipped one, darkened and flipped variants) and a mask each."""
    x = np.concatenate([shipped_image, shipped_image * 0.5, shipped_image[..., ::-1], shipped_image[..., ::-1, :]])
    masks = np.stack([lmask.masks.patches(64, 64, 8, 0.4, seed=s) for s in range(4)])
    return np.ascontiguousarray(x, dtype=np.float32), masks


def test_image_layouts_give_identical_logits(shipped, batch):
    x, masks = batch
    expected = shipped.logits(x, masks)
    wide = np.zeros((8, 3, 64, 64), np.float32)
    wide[::2] = x
    unaligned = np.frombuffer(b"\0" + x.tobytes(), dtype=np.float32, offset=1).reshape(x.shape)
    assert not unaligned.flags.aligned
    read_only = x.copy()
    read_only.flags.writeable = False
    for name, layout in {"float64": x.astype(np.float64), "big-endian": x.astype(">f4"),
                         "strided": wide[::2], "fortran": np.asfortranarray(x), "unaligned": unaligned,
                         "read-only": read_only, "list": x.tolist()}.items():
        np.testing.assert_array_equal(shipped.logits(layout, masks), expected, err_msg=name)


def test_mask_dtypes_and_layouts_give_identical_logits(shipped, batch):
    x, masks = batch
    expected = shipped.logits(x, masks)
    half = np.where(masks, 0.5, 0.0)  # non-zero = visible, whatever the value
    strided = np.zeros((4, 1, 64, 128), dtype=bool)
    strided[..., ::2] = masks[:, None]
    for name, layout in {"uint8": masks.astype(np.uint8), "int64": masks.astype(np.int64) * 7,
                         "float16": masks.astype(np.float16), "float32 0.5": half.astype(np.float32),
                         "big-endian float64": half.astype(">f8"), "[N,1,H,W]": masks[:, None],
                         "strided": strided[..., ::2], "transposed": masks.transpose(0, 2, 1).copy().transpose(0, 2, 1),
                         "int8 -1": np.where(masks, -1, 0).astype(np.int8)}.items():
        np.testing.assert_array_equal(shipped.logits(x, layout), expected, err_msg=name)


def test_one_image_or_one_mask_stands_for_all(shipped, batch):
    x, masks = batch
    one_image = shipped.logits(x[:1], masks)
    np.testing.assert_array_equal(one_image, shipped.logits(np.repeat(x[:1], 4, axis=0), masks))
    one_mask = shipped.logits(x, masks[:1])
    np.testing.assert_array_equal(one_mask, shipped.logits(x, np.repeat(masks[:1], 4, axis=0)))
    # Batches of any size give the same rows (up to the batched GEMM's summation order).
    np.testing.assert_allclose(shipped.logits(x, masks, batch=3), shipped.logits(x, masks, batch=1), atol=1e-3)


def python_bytes_allocated_by(call):
    """Peak bytes numpy and Python allocate during call() (tracemalloc sees numpy's buffers, not lmask's)."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_c_contiguous_float32_images_are_not_copied(shipped, shipped_image):
    x = np.ascontiguousarray(np.repeat(shipped_image, 64, axis=0))  # 3 MiB of float32
    mask = lmask.masks.patches(64, 64, 8, 0.5, seed=0)[None]
    shipped.logits(x, mask)  # warm-up
    as_float32 = python_bytes_allocated_by(lambda: shipped.logits(x, mask))
    as_float64 = python_bytes_allocated_by(lambda: shipped.logits(x.astype(np.float64), mask))
    assert as_float32 < x.nbytes / 8, f"{as_float32} bytes allocated for {x.nbytes} bytes of images"
    # The control: a float64 array is converted, one float32 copy (beside its own 6 MiB).
    assert as_float64 >= x.nbytes * 3, f"{as_float64} bytes for a float64 batch"
