"""Batches run with the GIL released: two Python threads, each with its own
model, run in parallel, and Python code runs while a call is in C++.

This is a timed test by necessity: only the clock tells a released GIL from
a held one (the results are the same either way). To keep it robust on a
shared 2-core machine it gives each model one OpenMP thread (so the two
calls need exactly the two cores, and neither model's threads compete with
the other's), asks for a clear margin (concurrent < 0.85 x sequential,
where a held GIL gives about 1.0 and a released one about 0.5), takes the
best of up to 3 tries (a burst of load elsewhere can spoil one), and runs
alone under CTest (RUN_SERIAL).
"""

import os
import threading
import time

import numpy as np
import pytest

import lmask
from conftest import SHIPPED_WEIGHTS

MARGIN, TRIES = 0.85, 3


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 cores to run two models at once")
def test_two_models_on_two_threads_finish_faster_than_one_after_the_other(shipped_image):
    models = [lmask.Model(SHIPPED_WEIGHTS, threads=1) for _ in range(2)]
    # About a second of layer-masked forwards per model on one core.
    masks = np.stack([lmask.masks.patches(64, 64, 8, 0.5, seed=s) for s in range(48)])
    work = lambda m: m.logits(shipped_image, masks, method="layer")  # noqa: E731
    expected = [work(m) for m in models]  # also the warm-up: each model prepares its shapes once

    def sequential():
        start = time.perf_counter()
        for m in models:
            work(m)
        return time.perf_counter() - start

    def concurrent():
        results = [None, None]

        def run(i):
            results[i] = work(models[i])

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        for got, want in zip(results, expected):
            np.testing.assert_array_equal(got, want)
        return elapsed

    ratios = []
    for _ in range(TRIES):
        ratios.append(concurrent() / sequential())
        if ratios[-1] < MARGIN:
            break
    assert min(ratios) < MARGIN, f"concurrent / sequential time: {', '.join(f'{r:.2f}' for r in ratios)}"


def test_python_code_runs_while_a_call_is_in_cpp(shipped, shipped_image):
    """The load-tolerant check: needs no free core, only the interpreter.

    A held GIL stops every other Python thread for the whole call, so a
    counting loop on the main thread would make almost no progress while a
    worker is inside Model.logits; with the GIL released it keeps counting.
    Its rate alone is measured first; during the call it must reach at
    least a tenth of that (load elsewhere slows it, but not to zero).
    """
    masks = np.stack([lmask.masks.patches(64, 64, 8, 0.5, seed=s) for s in range(32)])
    shipped.logits(shipped_image, masks)  # warm-up

    def count_for(seconds):
        n, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            n += 1
        return n / seconds

    alone = count_for(0.2)
    started, done, took = threading.Event(), threading.Event(), []

    def call():
        started.set()
        start = time.perf_counter()
        shipped.logits(shipped_image, masks)
        took.append(time.perf_counter() - start)
        done.set()

    worker = threading.Thread(target=call)
    worker.start()
    started.wait()
    n = 0
    while not done.is_set():
        n += 1
    worker.join()
    assert took[0] > 0.05, f"the call took {took[0]:.3f} s, too short to tell"
    rate = n / took[0]
    assert rate > 0.1 * alone, f"{rate:.0f} iterations/s during the {took[0]:.2f} s call, {alone:.0f} alone"
