#!/usr/bin/python3
"""The README's zoo performance table from a tools/bench_zoo.sh log.

    bench_zoo_table.py LOG

Per architecture, batch and threads: the best images/s over the log's rounds
(the best of each run's iterations, then the best run) of lmask's oneDNN
clean forward, of its layer-masked forward at 50% and 90% removal, of
PyTorch and of ONNX Runtime, and the ratios the issue asks for: lmask clean
against ONNX Runtime and PyTorch, layer-masked against lmask clean.
Markdown on stdout.
"""
import json
import sys
from collections import defaultdict


def main(path):
    best = defaultdict(float)
    header = ""
    with open(path) as f:
        for line in f:
            if line.startswith("=="):
                header = line.strip("= \n")
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if "peer" in r:
                what = r["peer"]
            elif r["mode"] == "clean":
                what = "lmask"
            else:
                what = f"layer{round(r['remove'] * 100)}"
            key = (r["arch"], r["batch"], r["threads"], what)
            best[key] = max(best[key], r["best_images_per_s"])
    print(f"Best images/s of each ({header}); ratios of those.\n")
    print("| model | batch | threads | lmask clean | PyTorch | ONNX Runtime | clean ÷ ORT | clean ÷ PyTorch "
          "| layer 50% ÷ clean | layer 90% ÷ clean |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for arch, batch, threads in sorted({k[:3] for k in best}):
        def get(w):
            return best.get((arch, batch, threads, w), 0.0)
        clean, torch, ort = get("lmask"), get("pytorch"), get("onnxruntime")
        ratio = lambda a, b: f"{a / b:.2f}×" if a and b else "—"
        print(f"| {arch} | {batch} | {threads} | {clean:.1f} | {torch:.1f} | {ort:.1f} | {ratio(clean, ort)} | "
              f"{ratio(clean, torch)} | {ratio(get('layer50'), clean)} | {ratio(get('layer90'), clean)} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
