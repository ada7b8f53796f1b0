#!/usr/bin/env node
// Two ways to map a batched matrix-vector product (h512_bo16's gate shape: 512 inputs, 1024
// outputs, 30 layers in one dispatch, B voices) onto invocations, timed on one adapter:
//   lanes  the layered path's gen_gate_lanes shape: an invocation per 4 outputs, VB voices in
//          registers; each voice's inputs read once per 8-lane subgroup and shuffled round
//   voice  an invocation per voice, 4*K4 outputs each: every lane of a subgroup reads the same
//          weights (addresses equal across the subgroup) and the FMAs run across voices
//   taps   the step start's inner loop (two input rows, two weight rows a channel, chained into one
//          accumulator), with its widths as constants and, as the generation kernels have them,
//          read from a uniform buffer; and its f16 form with 8 outputs a thread over a 1-D grid,
//          the layer taken from the invocation id or from the workgroup id (the step start's
//          choice since 2026-12-05: lavapipe then computes a layer's addresses once a subgroup)
// On a GPU the second is the textbook shape for weight reuse. On lavapipe (Mesa 25.0.7) it ran ~10x
// slower: its compiler loads storage lane by lane even where every lane's address is the same, so a
// weight read serves one 8-wide FMA instead of VB of them (bench/RESULTS.md, 2026-12-04).
//   node bench/matvec-mappings.mjs [batch=16] [vb=16] [k4=4]
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const load = (p) => import(path.join(root, 'dist', 'src', p));
const { createEngine } = await load('gpu/engine.js');
const { measureCeilings } = await load('bench/probes.js');

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const B = Number(args.batch ?? 16);
const VB = Number(args.vb ?? 16);
const K4 = Number(args.k4 ?? 4);
const R = 512;
const O = 1024;
const L = 30;
const R4 = R / 4;
const O4 = O / 4;
if (B % 8 !== 0) throw new Error(`batch must be a multiple of 8, got ${B}`);

const e = await createEngine();
const dev = e.device;
if (!dev.features.has('subgroups')) throw new Error('this adapter has no subgroups (the lanes shape needs them)');

// The lanes kernels' mapping over `rows` input rows: one is the gate's loop; two are the step
// start's (the ring at t - 2d and t - d, two weight rows a channel, both products chained into one
// accumulator: twice the arithmetic). Row r's block is read at channels c0 + lane (row 0) or
// R - 8 - c0 + lane (row 1), so the two rows differ.
const rowsOf = (rows) => Array.from({ length: rows }, (_, r) => r);
// What the subgroup kernels share: bindings (the weights as vec4s of `wElement`), the voice tile,
// and the entry point down to this invocation's lane, layer and voice group.
const subgroupKernelHead = (wElement) => `
enable subgroups;
@group(0) @binding(0) var<storage, read> w: array<vec4<${wElement}>>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
const VB: u32 = ${VB}u;
fn lo(q: vec4<u32>) -> vec4<f32> { return vec4<f32>(unpack2x16float(q.x), unpack2x16float(q.y)); }
fn hi(q: vec4<u32>) -> vec4<f32> { return vec4<f32>(unpack2x16float(q.z), unpack2x16float(q.w)); }
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(subgroup_invocation_id) sl: u32) {
  let lane = sl % 8u;
  let layer = wid.z;
  let vg = wid.y * VB;
  let nv = min(VB, ${B}u - vg);`;
const lanesKernel = (rows) => `${subgroupKernelHead('f32')}
  let o4 = gid.x;
  let wb = layer * ${rows}u * ${R}u * ${O4}u;
  var acc: array<vec4<f32>, VB>;
  ${rowsOf(rows)
    .map((r) => `var hv${r}: array<f32, VB>;`)
    .join(' ')}
  for (var c0 = 0u; c0 < ${R}u; c0 += 8u) {
    for (var v = 0u; v < VB; v++) {
      if (v < nv) { ${rowsOf(rows)
        .map((r) => `hv${r}[v] = x[(vg + v) * ${R}u + ${r === 0 ? 'c0' : `${R}u - 8u - c0`} + lane];`)
        .join(' ')} }
    }
    for (var k = 0u; k < 8u; k++) {
      ${rowsOf(rows)
        .map((r) => `let w${r} = w[wb + (${r * R}u + c0 + k) * ${O4}u + o4];`)
        .join(' ')}
      for (var v = 0u; v < VB; v++) {
        if (v < nv) {
          ${rowsOf(rows)
            .map((r) => `let h${r} = vec4<f32>(subgroupShuffle(hv${r}[v], k));`)
            .join(' ')}
          acc[v] = ${rowsOf(rows).reduceRight((inner, r) => `fma(h${r}, w${r}, ${inner})`, 'acc[v]')};
        }
      }
    }
  }
  for (var v = 0u; v < nv; v++) { y[(layer * ${B}u + vg + v) * ${O4}u + o4] = acc[v]; }
}`;
const lanes = lanesKernel(1);
const taps = lanesKernel(2);
// The step start's loop with its weights as f16 pairs (half the bytes, unpacked to f32): does the
// loop wait on memory? And with every layer reading layer 0's weights (4 MB, cache-resident).
const toF16 = (code) =>
  code
    .replace(
      'var<storage, read> w: array<vec4<f32>>;',
      'var<storage, read> wh: array<vec2<u32>>;\nfn wq(i: u32) -> vec4<f32> { let q = wh[i]; return vec4<f32>(unpack2x16float(q.x), unpack2x16float(q.y)); }',
    )
    .replace(/= w\[([^\]]+)\];/g, '= wq($1);');
const tapsF16 = toF16(taps);
const lanesF16 = toF16(lanes);
// The step start's loop in f16 with 8 outputs a thread: one 16-byte read per lane brings 8 weights
// (two output vec4s), half the per-lane reads of the f16-pairs loop; two accumulators per voice.
const taps8F16 = `${subgroupKernelHead('u32')}
  let o8 = gid.x;
  let O8 = ${O4 / 2}u;
  let wb = layer * 2u * ${R}u * O8;
  var acc_a: array<vec4<f32>, VB>;
  var acc_b: array<vec4<f32>, VB>;
  var hv0: array<f32, VB>;
  var hv1: array<f32, VB>;
  for (var c0 = 0u; c0 < ${R}u; c0 += 8u) {
    for (var v = 0u; v < VB; v++) {
      if (v < nv) { hv0[v] = x[(vg + v) * ${R}u + c0 + lane]; hv1[v] = x[(vg + v) * ${R}u + ${R}u - 8u - c0 + lane]; }
    }
    for (var k = 0u; k < 8u; k++) {
      let q0 = w[wb + (c0 + k) * O8 + o8];
      let q1 = w[wb + (${R}u + c0 + k) * O8 + o8];
      let w0a = lo(q0); let w0b = hi(q0); let w1a = lo(q1); let w1b = hi(q1);
      for (var v = 0u; v < VB; v++) {
        if (v < nv) {
          let h0 = vec4<f32>(subgroupShuffle(hv0[v], k));
          let h1 = vec4<f32>(subgroupShuffle(hv1[v], k));
          acc_a[v] = fma(h0, w0a, fma(h1, w1a, acc_a[v]));
          acc_b[v] = fma(h0, w0b, fma(h1, w1b, acc_b[v]));
        }
      }
    }
  }
  for (var v = 0u; v < nv; v++) {
    y[(layer * ${B}u + vg + v) * ${O4}u + 2u * o8] = acc_a[v];
    y[(layer * ${B}u + vg + v) * ${O4}u + 2u * o8 + 1u] = acc_b[v];
  }
}`;
const tapsCached = taps.replace(`let wb = layer * 2u * ${R}u * ${O4}u;`, 'let wb = 0u;');
// The 8-output f16 loop over a 1-D grid, as the step start runs it: the layer from the invocation
// id (a value per lane, to the compiler) or from the workgroup id (alike across the workgroup,
// which each layer's 128 threads fill twice over).
const taps8LayerOf = (expr) =>
  taps8F16
    .replace('let layer = wid.z;', `let layer = ${expr};`)
    .replace('let o8 = gid.x;', `let o8 = gid.x % ${O4 / 2}u;`);
const taps8PerInvocation = taps8LayerOf(`gid.x / ${O4 / 2}u`);
const taps8PerWorkgroup = taps8LayerOf(`(wid.x * 64u) / ${O4 / 2}u`);

// The same with the widths read from a uniform buffer, as the generation kernels read theirs (GenParams).
const tapsUniform = taps
  .replace(
    'var<storage, read_write> y: array<vec4<f32>>;',
    'var<storage, read_write> y: array<vec4<f32>>;\n@group(0) @binding(3) var<uniform> u: vec4<u32>;',
  )
  .replaceAll(`${R}u`, 'u.x')
  .replaceAll(`${O4}u`, 'u.y');

// Accumulators as separate variables: an array indexed in a loop stays in memory on lavapipe.
const accs = Array.from({ length: K4 }, (_, k) => `a${k}`);
const perChannel = (j) =>
  `{ let xs = vec4<f32>(xv[${j}]); let r = wb + (c4 * 4u + ${j}u) * ${O4}u; ` +
  accs.map((a, k) => `${a} = fma(xs, w[r + ${k}u], ${a});`).join(' ') +
  ' }';
const voice = `
@group(0) @binding(0) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let v = wid.y * 8u + lid.x;
  let layer = wid.z;
  let ob = wid.x * ${K4}u;
  let wb = layer * ${R}u * ${O4}u + ob;
  ${accs.map((a) => `var ${a} = vec4<f32>(0.0);`).join(' ')}
  for (var c4 = 0u; c4 < ${R4}u; c4++) {
    let xv = x[v * ${R4}u + c4];
    ${[0, 1, 2, 3].map(perChannel).join('\n    ')}
  }
  let yb = (layer * ${B}u + v) * ${O4}u + ob;
  ${accs.map((a, k) => `y[yb + ${k}u] = ${a};`).join(' ')}
}`;

const buffer = (floats) =>
  dev.createBuffer({ size: floats * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
const w = buffer(2 * L * R * O); // the taps kernel reads two rows a channel
const x = buffer(B * R);
const y = buffer(L * B * O);
dev.queue.writeBuffer(
  x,
  0,
  Float32Array.from({ length: B * R }, (_, i) => Math.sin(i)),
);
const widths = dev.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
dev.queue.writeBuffer(widths, 0, Uint32Array.of(R, O4, B, 0));
const kernel = (code) => {
  const pipeline = dev.createComputePipeline({
    layout: 'auto',
    compute: { module: dev.createShaderModule({ code }), entryPoint: 'main' },
  });
  const group = dev.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [w, x, y, ...(code.includes('var<uniform> u') ? [widths] : [])].map((buffer, binding) => ({
      binding,
      resource: { buffer },
    })),
  });
  return { pipeline, group };
};
const time = async (k, grid, reps) => {
  const enc = dev.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(k.pipeline);
  pass.setBindGroup(0, k.group);
  for (let r = 0; r < reps; r++) pass.dispatchWorkgroups(...grid);
  pass.end();
  dev.queue.submit([enc.finish()]);
  const t0 = performance.now();
  await dev.queue.onSubmittedWorkDone();
  return performance.now() - t0;
};

const ceil = await measureCeilings(e);
console.log(
  `adapter ${e.adapter.name}; batch ${B}; FMA probe ${ceil.fmaGflops.toFixed(1)} GFLOP/s, read ${ceil.readGBps.toFixed(1)} GB/s`,
);
const flop = 2 * B * R * O * L;
for (const [name, k, grid, work = 1] of [
  [`lanes (VB ${VB})`, kernel(lanes), [O4 / 64, Math.ceil(B / VB), L]],
  [`lanes, weights as f16 pairs`, kernel(lanesF16), [O4 / 64, Math.ceil(B / VB), L]],
  [`voice (K4 ${K4})`, kernel(voice), [O4 / K4, B / 8, L]],
  [`taps (VB ${VB}, two rows; counted as twice the arithmetic)`, kernel(taps), [O4 / 64, Math.ceil(B / VB), L], 2],
  [`taps, widths from a uniform`, kernel(tapsUniform), [O4 / 64, Math.ceil(B / VB), L], 2],
  [`taps, weights as f16 pairs`, kernel(tapsF16), [O4 / 64, Math.ceil(B / VB), L], 2],
  [`taps, f16, 8 outputs a thread`, kernel(taps8F16), [O4 / 2 / 64, Math.ceil(B / VB), L], 2],
  [`taps, every layer on layer 0's weights (cache-resident)`, kernel(tapsCached), [O4 / 64, Math.ceil(B / VB), L], 2],
  [
    `taps, f16, 8 outputs, layer from the invocation id`,
    kernel(taps8PerInvocation),
    [(O4 / 2 / 64) * L, Math.ceil(B / VB), 1],
    2,
  ],
  [
    `taps, f16, 8 outputs, layer from the workgroup id`,
    kernel(taps8PerWorkgroup),
    [(O4 / 2 / 64) * L, Math.ceil(B / VB), 1],
    2,
  ],
]) {
  await time(k, grid, 1); // compiles
  const ms = [];
  // A dispatch's time as the difference of 6 and 2 in a row: fixed costs cancel.
  for (let i = 0; i < 3; i++) ms.push(((await time(k, grid, 6)) - (await time(k, grid, 2))) / 4);
  const best = Math.min(...ms);
  const gflops = (work * flop) / best / 1e6;
  console.log(
    `${name}: ${best.toFixed(2)} ms a dispatch (30 layers), ${gflops.toFixed(1)} GFLOP/s, ${((100 * gflops) / ceil.fmaGflops).toFixed(0)}% of the FMA probe`,
  );
}
e.destroy();
