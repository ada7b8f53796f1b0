// Shared by the one-workgroup-per-voice generation kernels (gen_voice_loop, shaped for CPU
// adapters, and gen_voice_loop_wide, for GPUs; included with `//! include lib_voice_loop`): their
// bindings, and the activations they keep in workgroup memory. One workgroup of 256 threads runs
// `nsteps` whole steps of one voice, workgroup barriers in place of dispatch boundaries; every
// weight comes from one packed buffer `all_w` (offsets in the parameters), and the state layout is
// the layered path's, so any path can continue another.
//! include lib_generation
//! include lib_sample_categorical
//! include lib_finish_step

@group(0) @binding(0) var<uniform> p: GenParams;
@group(0) @binding(1) var<uniform> q: LoopParams;
@group(0) @binding(2) var<storage, read_write> state: array<u32>;
@group(0) @binding(3) var<storage, read_write> hist: array<f32>;
@group(0) @binding(4) var<storage, read> all_w: array<f32>;
@group(0) @binding(5) var<storage, read> cond: array<f32>;
@group(0) @binding(6) var<storage, read_write> classes: array<u32>;
@group(0) @binding(7) var<storage, read> teacher: array<u32>;
@group(0) @binding(8) var<storage, read_write> step_logits: array<f32>;

const MAXW: u32 = 256u;   // largest residual / skip width this path serves
var<workgroup> lv: array<f32, 256>;     // l
var<workgroup> sv: array<f32, 256>;     // s
var<workgroup> gv: array<f32, 256>;     // gate output
var<workgroup> hv: array<f32, 256>;     // head hidden
var<workgroup> xin: array<f32, 3>;      // x[t-3], x[t-2], x[t-1]
var<workgroup> tsh: u32;                // this voice's step, shared so that it is uniform

fn small_w_at(i: u32) -> f32 { return all_w[q.small_w + i]; }

// The start of a step of voice b: its step (the same in every thread, so loops on it stay uniform),
// its last three inputs into xin, and the start conv into lv. The caller stops when the step is
// p.steps or more (the inputs are then not read).
fn begin_step(b: u32, lid: u32) -> u32 {
  if (lid == 0u) { tsh = state[b]; }
  let t = workgroupUniformLoad(&tsh);
  if (t >= p.steps) { return t; }
  if (lid < 3u) { xin[lid] = bitcast<f32>(state[p.B + b * 4u + ((t + 1u + lid) % 4u)]); }
  workgroupBarrier();
  let R = p.R;
  for (var c = lid; c < R; c += 256u) {
    lv[c] = small_w_at(p.at_start_b + c) + small_w_at(p.at_start_w + c) * xin[0]
      + small_w_at(p.at_start_w + R + c) * xin[1] + small_w_at(p.at_start_w + 2u * R + c) * xin[2];
  }
  workgroupBarrier();
  return t;
}
