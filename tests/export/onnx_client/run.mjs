// Outside client of hwnas's ONNX export: ONNX Runtime (npm onnxruntime-node, CPU) under
// Node.js, no hwnas code.
//
// Usage: node run.mjs MODEL.onnx INPUT.f32 N C H W OUTPUT.f32
// Reads the input batch as raw little-endian float32 (N*C*H*W values), runs the model's
// single input through it and writes its single output as raw float32; prints
// {"shape": [...], "input": name, "output": name} on stdout.
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [model, input, n, c, h, w, output] = process.argv.slice(2);
const dims = [n, c, h, w].map(Number);
const raw = readFileSync(input);
const data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
if (data.length !== dims.reduce((a, b) => a * b, 1)) {
  console.error(`input holds ${data.length} floats, not ${dims.join('x')}`);
  process.exit(2);
}
const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
if (session.inputNames.length !== 1 || session.outputNames.length !== 1) {
  console.error(`expected one input and one output, got ${session.inputNames} -> ${session.outputNames}`);
  process.exit(2);
}
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
const result = (await session.run(feeds))[session.outputNames[0]];
writeFileSync(output, Buffer.from(result.data.buffer, result.data.byteOffset, result.data.byteLength));
console.log(JSON.stringify({ shape: result.dims, input: session.inputNames[0], output: session.outputNames[0] }));
