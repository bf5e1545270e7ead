// Times every ONNX model of an hwnas profiling kit with ONNX Runtime (CPU) and writes the
// results file `hwnas table import-kit` reads. Needs Node.js and onnxruntime-node only
// (`npm ci --ignore-scripts` here), so it runs on any machine ONNX Runtime runs on.
//
// Usage: node run-kit.mjs KIT_DIR RESULTS.jsonl [--threads N] [--resume]
//
// ONNX Runtime's graph optimisations are all on (ORT_ENABLE_ALL), one inference at a time,
// intra-op threads --threads (default 1), inter-op 1. Each model: one fixed random input,
// the kit's warm-up runs, then its repetitions, each timed alone with a monotonic clock.
// The identity model OVERHEAD is timed first; its median is the runtime's cost of one call.
//
// RESULTS.jsonl: a header line {"format": "hwnas-kit-results", "version": 1, "kit":
// <fingerprint>, "runtime": "onnxruntime", "runtime_version", "device", "threads",
// "protocol": {"warmup", "repetitions", "statistic": "median", "graph_optimization": "all"}},
// then one line per model {"id", "median_ms", "mean_ms", "std_ms", "count"}, written as
// each is measured: an interrupted run continues with --resume (a results file of another
// kit is refused).
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

function fail(message) {
  console.error(`run-kit: ${message}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const resume = args.includes('--resume');
if (resume) args.splice(args.indexOf('--resume'), 1);
const threadsArg = flag('--threads');
const threads = threadsArg === undefined ? 1 : Number(threadsArg);
if (!Number.isInteger(threads) || threads < 1 || threads > 1024) fail(`--threads is '${threadsArg}'; give 1 to 1024`);
if (args.length !== 2) fail('usage: node run-kit.mjs KIT_DIR RESULTS.jsonl [--threads N] [--resume]');
const [kit, results] = args;

let manifest;
try {
  manifest = JSON.parse(readFileSync(path.join(kit, 'manifest.json'), 'utf8'));
} catch (e) {
  fail(`${path.join(kit, 'manifest.json')} cannot be read (${e.message}); give the folder \`hwnas profile --kit\` wrote`);
}
if (manifest.format !== 'hwnas-profiling-kit' || manifest.version !== 1)
  fail(`${kit} is not an hwnas profiling kit of version 1 (format ${manifest.format}, version ${manifest.version})`);
const { warmup, repetitions } = manifest.protocol;
const header = {
  format: 'hwnas-kit-results', version: 1, kit: manifest.fingerprint, runtime: 'onnxruntime',
  runtime_version: ort.env.versions?.common ?? 'unknown',
  device: `${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.arch()}, ${os.platform()} ${os.release()})`, threads,
  protocol: { warmup, repetitions, statistic: 'median', unit: 'ms', graph_optimization: 'all' },
};

const done = new Set();
if (existsSync(results)) {
  if (!resume) fail(`${results} exists; pass --resume to continue it, or give another file (nothing was replaced)`);
  const lines = readFileSync(results, 'utf8').split('\n').filter((l) => l.trim() !== '');
  let first;
  try {
    first = JSON.parse(lines[0]);
  } catch (e) {
    fail(`${results} has no results header on its first line; give a file run-kit wrote`);
  }
  if (first.kit !== manifest.fingerprint)
    fail(`${results} was measured on kit ${first.kit}, not on ${kit} (${manifest.fingerprint}); give another file`);
  if (first.threads !== threads) fail(`${results} was measured with ${first.threads} threads, not ${threads}`);
  // Lines cut by the interruption are dropped and their models measured again.
  const kept = [lines[0]];
  for (const l of lines.slice(1)) {
    try {
      done.add(JSON.parse(l).id);
      kept.push(l);
    } catch (e) {}
  }
  writeFileSync(results, kept.join('\n') + '\n');
} else {
  writeFileSync(results, JSON.stringify(header) + '\n');
}

const models = [manifest.overhead, ...manifest.layers, ...manifest.networks];
const options = {
  executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
  executionMode: 'sequential',
};
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
let measured = 0;
for (const m of models) {
  if (done.has(m.id)) continue;
  const session = await ort.InferenceSession.create(path.join(kit, m.onnx), options);
  const size = m.input.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; ++i) data[i] = ((i * 7919) % 2001) / 1000 - 1;  // fixed values in [-1, 1]
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, m.input) };
  for (let i = 0; i < warmup; ++i) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < repetitions; ++i) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  const std = ms.length > 1 ? Math.sqrt(ms.reduce((a, b) => a + (b - mean) ** 2, 0) / (ms.length - 1)) : 0;
  appendFileSync(results, JSON.stringify({ id: m.id, median_ms: median(ms), mean_ms: mean, std_ms: std, count: ms.length }) + '\n');
  await session.release();
  ++measured;
}
console.log(JSON.stringify({ kit: manifest.fingerprint, results, measured, already: done.size, models: models.length }));
