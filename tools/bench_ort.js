#!/usr/bin/env node
// bench_ort.js — ONNX Runtime's CPU peer for lmask's benchmarks
// (tools/bench_zoo.sh): the clean forward of an ONNX model, one JSON line
// with the best and median images/s over the timed iterations.
//
//   ORT_NODE=/path/to/node_modules/onnxruntime-node \
//     bench_ort.js MODEL.onnx --batch 8 --threads 1 --iters 10 [--warmup 2] [--size 224]
//
// ORT_NODE is the package as `npm install --ignore-scripts onnxruntime-node`
// leaves it (its install script fetches GPU binaries and fails; the CPU
// library is inside). Session: all graph optimisations, intra-op threads as
// given, one inter-op thread, sequential execution. The input is a fixed
// pseudo-random batch (values do not change the time of a CNN).
"use strict";

function fail(message) {
  process.stderr.write(`bench_ort.js: ${message}\n`);
  process.exit(1);
}

function options(argv) {
  const o = { batch: 1, threads: 1, iters: 10, warmup: 2, size: 224 };
  if (argv.length < 1) fail("usage: bench_ort.js MODEL.onnx [--batch B] [--threads T] [--iters N] [--warmup W] [--size S]");
  o.model = argv[0];
  for (let i = 1; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    const value = Number(argv[i + 1]);
    if (!(key in o) || key === "model" || !Number.isInteger(value) || value < (key === "warmup" ? 0 : 1))
      fail(`bad option ${argv[i]} ${argv[i + 1]}`);
    o[key] = value;
  }
  return o;
}

async function main() {
  const o = options(process.argv.slice(2));
  let ort;
  try {
    ort = require(process.env.ORT_NODE || "onnxruntime-node");
  } catch (e) {
    fail(`cannot load onnxruntime-node (set ORT_NODE): ${e.message.split("\n")[0]}`);
  }
  let session;
  try {
    session = await ort.InferenceSession.create(o.model, {
      graphOptimizationLevel: "all", intraOpNumThreads: o.threads, interOpNumThreads: 1, executionMode: "sequential",
    });
  } catch (e) {
    fail(`${o.model}: ${e.message.split("\n")[0]}`);
  }
  const count = o.batch * 3 * o.size * o.size;
  const data = new Float32Array(count);
  let s = 12345;
  for (let i = 0; i < count; ++i) s = (s * 1103515245 + 12345) % 2147483648, data[i] = s / 1073741824 - 1;
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", data, [o.batch, 3, o.size, o.size]) };
  const times = [];
  for (let i = 0; i < o.warmup + o.iters; ++i) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (i >= o.warmup) times.push(t);
  }
  times.sort((a, b) => a - b);
  const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  const round = (v) => Math.round(v * 1000) / 1000;
  console.log(JSON.stringify({ peer: "onnxruntime", threads: o.threads, batch: o.batch, iters: o.iters,
    best_images_per_s: round(o.batch / times[0]), median_images_per_s: round(o.batch / median) }));
}

main().catch((e) => fail(e.message.split("\n")[0]));
