#!/usr/bin/python3
"""LIME written in Python around lmask: the model is LIME's classifier_fn.

The loop is the one LIME's reference code runs (lime_image): a 0/1
perturbation matrix over the image's segments (row 0 the intact image), one
mask per row, the classifier's probability of the explained class for each,
an exponential kernel on cosine distance and a weighted ridge fit. Only the
classifier is lmask's: Model.probs takes the whole [samples, H, W] stack of
masks in one call and runs it in batches in C++ with the GIL released, so no
Python runs between forwards. The matrix here is lmask.perturbations (the
lime study's, seeded), so the coefficients equal lmask.lime's; any numpy 0/1
matrix works the same (e.g. np.random.default_rng(0).integers(0, 2, (512, K))).

    PYTHONPATH=build/python /usr/bin/python3 examples/lime_loop.py [--image data/fmnist-test-0.png] [--samples 512]
"""

import numpy as np

from explained_image import explained, lmask, parser, print_ranking

KERNEL_WIDTH, RIDGE_ALPHA = 0.25, 1.0  # lime_image's defaults, and the lime study's


def kernel_weights(z, width=KERNEL_WIDTH):
    """sqrt(exp(-d^2 / width^2)), d the cosine distance of each row of z to the all-ones row."""
    kept = z.sum(axis=1).astype(np.float64)
    d = np.where(kept == 0, 1.0, 1.0 - np.sqrt(kept / z.shape[1]))
    return np.sqrt(np.exp(-d * d / (width * width)))


def weighted_ridge(x, y, w, alpha=RIDGE_ALPHA):
    """argmin sum_i w_i (y_i - b - x_i . beta)^2 + alpha |beta|^2 with b unpenalised -> beta."""
    x_mean = (w[:, None] * x).sum(axis=0) / w.sum()
    y_mean = (w * y).sum() / w.sum()
    xc, yc = x - x_mean, y - y_mean
    return np.linalg.solve(xc.T @ (w[:, None] * xc) + alpha * np.eye(x.shape[1]), xc.T @ (w * yc))


def lime(classifier_fn, z, target):
    """LIME's fit: perturbations z [samples, K] (0/1, row 0 all ones) -> a coefficient per segment [K]."""
    y = classifier_fn(z)[:, target].astype(np.float64)
    return weighted_ridge(z.astype(np.float64), y, kernel_weights(z))


def main():
    p = parser("LIME in Python with lmask's Model.probs as classifier_fn")
    p.add_argument("--samples", type=int, default=512, help="perturbations, the intact image included")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    e = explained(args)

    def classifier_fn(rows):
        """LIME's classifier: perturbation rows [n, K] -> class probabilities [n, classes]."""
        masks = rows[:, e.segments]  # [n, S, S]: a pixel is visible iff its segment is kept
        return e.model.probs(e.image, masks, method=args.method)  # the one image under every mask

    z = lmask.perturbations(args.samples, e.count, seed=args.seed)  # uint8 [samples, K], row 0 all ones
    coefficients = lime(classifier_fn, z, e.target)

    p_clean = e.model.probs(e.image)[0, e.target]
    print(f"{args.image}: class {e.target} ({e.name}), p = {p_clean:.4f}; LIME with {args.method} masking, "
          f"{e.count} segments, {args.samples} perturbations, seed {args.seed}")
    print_ranking(coefficients, "coefficient", args.top)


if __name__ == "__main__":
    main()
