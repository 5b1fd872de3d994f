"""Shared fixtures of the Python module's tests: where the repository, the
golden files and the built CLI are, the two models the tests run, and the
Fashion-MNIST test images the studies read.

The golden directory is required, as for the C++ suite (tests/golden.h): a
missing one fails loudly, it is never skipped. LMASK_GOLDEN overrides its
place (../shared/golden beside the repository), LMASK_CLI the CLI's
(build/lmask); CTest sets LMASK_CLI to the build's own.
"""

import functools
import os
import subprocess
import sys

import pytest

import lmask

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED_WEIGHTS = os.path.join(ROOT, "weights", "resnet50_fmnist.h5")
sys.path.insert(0, os.path.join(ROOT, "tools"))
from fashion_mnist_idx import split_images  # noqa: E402  (tools/, on the path above)


def golden_path(name):
    """A file of ../shared/golden, or a failed test saying where it was looked for."""
    path = os.path.join(os.environ.get("LMASK_GOLDEN", os.path.join(ROOT, "..", "shared", "golden")), name)
    if not os.path.isfile(path):
        pytest.fail(f"golden file missing: {path} (tests need ../shared/golden; set LMASK_GOLDEN)")
    return path


def cli():
    """The built lmask command line."""
    path = os.environ.get("LMASK_CLI", os.path.join(ROOT, "build", "lmask"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"lmask CLI not found at {path} (build it, or set LMASK_CLI)")
    return path


def run_cli(*args, expect_ok=True):
    """Runs the CLI -> (stdout, stderr); a failure to run as expected fails the test with its stderr."""
    done = subprocess.run([cli(), *args], capture_output=True, text=True, cwd=ROOT)
    if expect_ok and done.returncode != 0:
        pytest.fail(f"lmask {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    if not expect_ok and done.returncode == 0:
        pytest.fail(f"lmask {' '.join(args)} succeeded where it should have refused")
    return done.stdout, done.stderr


def cli_error_line(*args):
    """The one line the CLI prints for bad input, without its 'lmask: error: ' prefix."""
    _, stderr = run_cli(*args, expect_ok=False)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lmask: error: "), stderr
    return lines[0][len("lmask: error: "):]


@functools.lru_cache(maxsize=1)
def fmnist_test_images():
    return split_images("test")


def fmnist_test_image(index):
    """Fashion-MNIST test image `index` (lmask's fmnist:test#index) as uint8 [28, 28]."""
    return fmnist_test_images()[index]


@pytest.fixture(scope="session")
def shipped():
    """The shipped Fashion-MNIST ResNet-50 (64 px): cheap forwards."""
    return lmask.Model(SHIPPED_WEIGHTS)


@pytest.fixture(scope="session")
def shipped_image(shipped):
    """data/fmnist-test-0.png as the shipped model sees it: float32 [1,3,64,64]."""
    return shipped.preprocess(os.path.join(ROOT, "data", "fmnist-test-0.png"))
