// kernels/mu_law_quantize.wgsl and the host decode table against Magenta's formulas
// (src/ops/mu-law.ts).
import { describe, it, expect } from 'vitest';
import { testEngine, rng, runAll } from '../helpers.js';
import {
  muLawQuantize,
  muLawQuantizeReference,
  muLawFormula,
  muLawDecodeReference,
  MU_LAW_EDGES,
  MU_LAW_DECODE_TABLE,
} from '../../src/ops/mu-law.js';

describe('mu-law', () => {
  it("the edge-based quantiser equals Magenta's formula, with x = 1.0 clamped to 127", () => {
    const r = rng(6);
    const xs = [0, 1, -1, 0.5, -0.5, 1e-9, -1e-9, ...Array.from({ length: 20000 }, () => r.uniform(-1, 1))];
    // ... and points just either side of every edge
    for (let k = 1; k <= 128; k++)
      xs.push(
        MU_LAW_EDGES[k] * (1 + 1e-6),
        MU_LAW_EDGES[k] * (1 - 1e-6),
        -MU_LAW_EDGES[k] * (1 + 1e-6),
        -MU_LAW_EDGES[k] * (1 - 1e-6),
      );
    for (const x of xs) expect(muLawQuantizeReference(x)).toBe(muLawFormula(Math.fround(x)));
    expect(muLawQuantizeReference(1.0)).toBe(127);
    expect(muLawQuantizeReference(-1.0)).toBe(-128);
    expect(muLawQuantizeReference(0)).toBe(0);
  });

  it("GPU quantise equals the reference exactly; the decode table is Magenta's inv_mu_law and round-trips", async () => {
    const e = await testEngine();
    const r = rng(8);
    const audio = Float32Array.from({ length: 5000 }, (_, i) =>
      i < 256 ? MU_LAW_DECODE_TABLE[i] : r.uniform(-1.2, 1.2),
    );
    audio[300] = 1.0;
    audio[301] = -1.0;
    audio[302] = 0;
    const n = audio.length;
    const scaled = e.tensor([n]);
    const classes = e.tensor([n], 'u32');
    await runAll(e, [await muLawQuantize(e, e.upload(audio), e.upload(MU_LAW_EDGES), scaled, classes)]);
    const k = await e.read(classes, 'u32');
    const s = await e.read(scaled);
    for (let i = 0; i < n; i++) {
      const q = muLawQuantizeReference(Math.max(-1, Math.min(1, audio[i])));
      expect(k[i], `sample ${i} = ${audio[i]}`).toBe(q + 128);
      expect(s[i]).toBe(q / 128);
    }
    // encode(decode(q)) == q for all 256 classes (the fast generator's feedback identity)
    for (let c = 0; c < 256; c++) expect(k[c]).toBe(c);
    expect(k[300]).toBe(255);
    expect(muLawDecodeReference(k.subarray(0, 256))).toEqual(MU_LAW_DECODE_TABLE);
    expect(MU_LAW_DECODE_TABLE[255]).toBeCloseTo(0.97849, 4);
    expect(MU_LAW_DECODE_TABLE[128]).toBe(0);
  });
});
