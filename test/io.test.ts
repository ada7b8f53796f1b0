// NPY and WAV files: round trips, the real NSynth notes, and bad files.
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy, decodeNpy } from '../src/formats/npy.js';
import { decodeWav, encodeWav, readWav16k } from '../src/formats/wav.js';
import wavefilePkg from 'wavefile';

const { WaveFile } = wavefilePkg as unknown as { WaveFile: typeof import('wavefile').WaveFile };

const NSYNTH = path.resolve(__dirname, '../../shared/data/nsynth');
const haveData = fs.existsSync(NSYNTH);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-io-'));

describe('npy', () => {
  it('round-trips float32 arrays of any rank', () => {
    const data = Float32Array.from({ length: 60 }, (_, i) => i * 0.25 - 3);
    for (const shape of [[60], [4, 15], [2, 3, 10]]) {
      const back = decodeNpy(encodeNpy(data, shape), 'x.npy');
      expect(back.shape).toEqual(shape);
      expect(back.data).toEqual(data);
    }
  });
  it('refuses bad files with the file name', () => {
    expect(() => decodeNpy(new Uint8Array([1, 2, 3]), 'a.npy')).toThrow(/a\.npy: not a \.npy file/);
    const ok = encodeNpy(new Float32Array(8), [2, 4]);
    expect(() => decodeNpy(ok.subarray(0, ok.length - 4), 'b.npy')).toThrow(
      /b\.npy: 28 data bytes, shape \[2,4\] of <f4 needs 32/,
    );
    const ints = ok.slice();
    ints[ints.indexOf(0x66 /* 'f' of '<f4' */)] = 0x69; // 'i'
    expect(() => decodeNpy(ints, 'c.npy')).toThrow(/c\.npy: dtype <i4 is not supported/);
  });
});

describe('wav', () => {
  it('reads the real NSynth notes: 16 kHz, 64000 samples in [-1, 1]', (ctx) => {
    if (!haveData) {
      console.warn(`skipped: ${NSYNTH} is absent (CI always has ../shared/data)`);
      ctx.skip();
    }
    for (const f of fs.readdirSync(NSYNTH).filter((n) => n.endsWith('.wav'))) {
      const s = readWav16k(path.join(NSYNTH, f));
      expect(s.length, f).toBe(64000);
      let peak = 0;
      for (const v of s) peak = Math.max(peak, Math.abs(v));
      expect(peak, f).toBeGreaterThan(0.01);
      expect(peak, f).toBeLessThanOrEqual(1);
    }
  });
  it('round-trips float32 WAV and refuses other sample rates and garbage, naming the file', () => {
    const s = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 10) * 0.9);
    const back = decodeWav(encodeWav(s), 'x.wav');
    expect(back.sampleRate).toBe(16000);
    expect(back.samples).toEqual(s);
    const f44 = path.join(tmp, 'cd.wav');
    fs.writeFileSync(f44, encodeWav(s, 44100));
    expect(() => readWav16k(f44)).toThrow(/cd\.wav: sample rate 44100 Hz, the model needs 16000 Hz/);
    const junk = path.join(tmp, 'junk.wav');
    fs.writeFileSync(junk, new Uint8Array(100).fill(7));
    expect(() => readWav16k(junk)).toThrow(/junk\.wav: not a readable WAV file/);
    expect(() => readWav16k(path.join(tmp, 'missing.wav'))).toThrow(/missing\.wav: cannot read \(ENOENT\)/);
    // A file over the limit is refused from its size, before it is read (a sparse file: no disk used).
    const huge = path.join(tmp, 'huge.wav');
    fs.writeFileSync(huge, '');
    fs.truncateSync(huge, 2 ** 30 + 1);
    expect(() => readWav16k(huge)).toThrow(/huge\.wav: 1024 MB, over the 1024 MB read at once/);
    fs.rmSync(huge);
    // A format chunk with 0 channels or a rate of 0 is named as such (bytes 22-23 and 24-27 of the header).
    const header = (offset: number, bytes: number) => {
      const b = new Uint8Array(encodeWav(s));
      const view = new DataView(b.buffer);
      if (bytes === 2) view.setUint16(offset, 0, true);
      else view.setUint32(offset, 0, true);
      return b;
    };
    expect(() => decodeWav(header(22, 2), 'mono.wav')).toThrow(/mono\.wav: the format chunk says 0 channels/);
    expect(() => decodeWav(header(24, 4), 'rate.wav')).toThrow(
      /rate\.wav: the format chunk says a sample rate of 0 Hz/,
    );
  });

  it("decodes 16-bit PCM and float WAVs (mono and stereo) exactly as wavefile's generic conversion does", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const [depth, channels] of [
      ['16', 1],
      ['16', 2],
      ['32f', 1],
      ['32f', 3],
      ['24', 2], // not a fast path: still decoded, through wavefile
    ] as const) {
      const frames = 777;
      const interleaved =
        depth === '16'
          ? Int16Array.from({ length: frames * channels }, (_, i) =>
              i < 4 ? [-32768, 32767, 0, -1][i] : Math.round((rand() * 2 - 1) * 32767),
            )
          : depth === '24'
            ? Int32Array.from({ length: frames * channels }, () => Math.round((rand() * 2 - 1) * 8388607))
            : Float32Array.from({ length: frames * channels }, () => rand() * 2 - 1);
      const perChannel = Array.from({ length: channels }, (_, c) =>
        Array.from({ length: frames }, (_, i) => interleaved[i * channels + c]),
      );
      const wav = new WaveFile();
      wav.fromScratch(channels, 16000, depth, channels === 1 ? perChannel[0] : perChannel);
      const bytes = wav.toBuffer();
      const ours = decodeWav(bytes, 'x.wav').samples;
      // the generic path: toBitDepth('32f'), then channels averaged in float32
      const generic = new WaveFile();
      generic.fromBuffer(bytes);
      if (generic.bitDepth !== '32f') generic.toBitDepth('32f');
      const raw = generic.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
      const chans = Array.isArray(raw) ? raw : [raw];
      const want = new Float32Array(frames);
      for (const ch of chans) for (let i = 0; i < frames; i++) want[i] += ch[i] / chans.length;
      expect(ours, `${depth}-bit, ${channels} channel(s)`).toEqual(want);
    }
  });
});
