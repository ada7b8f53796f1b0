"""A NumPy/OpenBLAS implementation of one fast-generation step (the CPU anchor the GPU engine is
compared with in the same run). Prints JSON: {"samplesPerSecond": per voice, "aggregate": ...}.
Usage: python3 src/bench/numpy_step.py R S LAYERS LAYERS_PER_STAGE BATCH STEPS"""
import json
import sys
import time

import numpy as np

R, S, L, LPS, B, STEPS = (int(v) for v in sys.argv[1:7])
rng = np.random.default_rng(0)
f32 = np.float32
w_past = [rng.standard_normal((2 * R, 2 * R), dtype=f32) * 0.02 for _ in range(L)]
w_cur = [rng.standard_normal((R, 2 * R), dtype=f32) * 0.02 for _ in range(L)]
w_rs = [rng.standard_normal((R, R + S), dtype=f32) * 0.02 for _ in range(L)]
w_start = rng.standard_normal((3, R), dtype=f32)
w_ss = rng.standard_normal((R, S), dtype=f32) * 0.02
w_out = rng.standard_normal((S, S), dtype=f32) * 0.02
w_log = rng.standard_normal((S, 256), dtype=f32) * 0.02
cond = rng.standard_normal((L, B, 2 * R), dtype=f32) * 0.1
dil = [2 ** (i % LPS) for i in range(L)]
rings = [np.zeros((2 * d, B, R), dtype=f32) for d in dil]
x = np.zeros((3, B), dtype=f32)


def step(t):
    global x
    l = x.T @ w_start
    s = l @ w_ss
    for i in range(L):
        d = dil[i]
        ring = rings[i]
        past = np.concatenate([ring[t % (2 * d)], ring[(t + d) % (2 * d)]], axis=1)
        z = past @ w_past[i] + l @ w_cur[i] + cond[i]
        g = (1 / (1 + np.exp(-z[:, :R]))) * np.tanh(z[:, R:])
        ring[t % (2 * d)] = l
        rs = g @ w_rs[i]
        l = l + rs[:, :R]
        s = s + rs[:, R:]
    h = np.maximum(np.maximum(s, 0) @ w_out, 0)
    logits = h @ w_log
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    k = (p.cumsum(axis=1) < rng.random((B, 1))).sum(axis=1).clip(0, 255)
    x = np.roll(x, -1, axis=0)
    x[2] = (k - 128) / 128.0


step(0)
t0 = time.perf_counter()
for t in range(1, STEPS + 1):
    step(t)
dt = time.perf_counter() - t0
print(json.dumps({"samplesPerSecond": STEPS / dt, "aggregate": STEPS * B / dt}))
