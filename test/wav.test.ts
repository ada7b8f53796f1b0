// WAV out: 16-bit PCM (clipped, rounded) that Python's `wave` module opens, and 32-bit float with a
// WAVE_FORMAT_EXTENSIBLE header and a `fact` chunk; both read back by our reader. WAV in at any rate:
// mixed down and resampled to 16 kHz, saying what was done.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav, encodePcm16, encodeWav, readWav16k, readWavResampled, toInt16 } from '../src/formats/wav.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsynth-wav-'));
const python = spawnSync('python3', ['-c', 'import wave'], { encoding: 'utf8' }).status === 0;

const text = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/** Every chunk of a RIFF file: id, offset of its body, size. */
function chunks(b: Uint8Array): { id: string; at: number; size: number }[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = [];
  for (let at = 12; at + 8 <= b.length; ) {
    const size = view.getUint32(at + 4, true);
    out.push({ id: text(b, at, 4), at: at + 8, size });
    at += 8 + size + (size % 2);
  }
  return out;
}

/** A PCM WAV of interleaved 16-bit channels, written by hand (a stereo file from elsewhere). */
function pcm16Wav(channels: Float32Array[], rate: number): Uint8Array {
  const n = channels[0].length;
  const c = channels.length;
  const b = new Uint8Array(44 + n * c * 2);
  const v = new DataView(b.buffer);
  b.set(new TextEncoder().encode('RIFF'), 0);
  v.setUint32(4, 36 + n * c * 2, true);
  b.set(new TextEncoder().encode('WAVEfmt '), 8);
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, c, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * c * 2, true);
  v.setUint16(32, c * 2, true);
  v.setUint16(34, 16, true);
  b.set(new TextEncoder().encode('data'), 36);
  v.setUint32(40, n * c * 2, true);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++) v.setInt16(44 + (i * c + ch) * 2, Math.round(channels[ch][i] * 32767), true);
  return b;
}

describe('WAV out', () => {
  // Rounded, not truncated: 0.6 of a step is 1 step, -0.6 is -1, 0.4 is 0.
  const s = Float32Array.of(0, 0.5, -0.5, 1, -1, 1.7, -3, 0.6 / 32767, -0.6 / 32768, 0.4 / 32767, 0.25, Number.NaN);

  it('16-bit: a plain PCM header; samples clipped to [-1, 1] and rounded', () => {
    const b = encodeWav(s, 16000, '16');
    const v = new DataView(b.buffer);
    expect(text(b, 0, 4) + text(b, 8, 4)).toBe('RIFFWAVE');
    expect(chunks(b).map((c) => `${c.id}:${c.size}`)).toEqual(['fmt :16', `data:${s.length * 2}`]);
    expect(v.getUint16(20, true)).toBe(1); // WAVE_FORMAT_PCM
    expect(v.getUint16(34, true)).toBe(16);
    expect(v.getUint32(4, true)).toBe(b.length - 8);
    expect(Array.from(toInt16(s))).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768, 1, -1, 0, 8192, 0]);
    // s16le: the same integers, little-endian, without a header
    expect(encodePcm16(s)).toEqual(b.subarray(44));
    // read back: within half a step of the clipped input
    const back = decodeWav(b, 'x.wav').samples;
    for (let i = 0; i < s.length - 1; i++)
      expect(Math.abs(back[i] - Math.max(-1, Math.min(1, s[i])))).toBeLessThanOrEqual(0.5 / 32767);
  });

  it('float: WAVE_FORMAT_EXTENSIBLE (fmt 40 bytes, IEEE float sub-format) and a fact chunk; read back exactly', () => {
    const tone = Float32Array.from({ length: 1001 }, (_, i) => 1.2 * Math.sin(i / 7));
    const b = encodeWav(tone, 22050, '32f');
    const v = new DataView(b.buffer);
    const list = chunks(b);
    expect(list.map((c) => `${c.id}:${c.size}`)).toEqual(['fmt :40', 'fact:4', `data:${tone.length * 4}`]);
    const fmt = list[0].at;
    expect(v.getUint16(fmt, true)).toBe(0xfffe);
    expect(v.getUint16(fmt + 2, true)).toBe(1); // channels
    expect(v.getUint32(fmt + 4, true)).toBe(22050);
    expect(v.getUint32(fmt + 8, true)).toBe(22050 * 4);
    expect(v.getUint16(fmt + 12, true)).toBe(4);
    expect(v.getUint16(fmt + 14, true)).toBe(32);
    expect(v.getUint16(fmt + 16, true)).toBe(22); // extension size
    expect(v.getUint16(fmt + 18, true)).toBe(32); // valid bits
    expect(v.getUint32(fmt + 20, true)).toBe(4); // SPEAKER_FRONT_CENTER
    // KSDATAFORMAT_SUBTYPE_IEEE_FLOAT, 00000003-0000-0010-8000-00aa00389b71
    expect(Array.from(b.subarray(fmt + 24, fmt + 40))).toEqual([
      3, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
    ]);
    expect(v.getUint32(list[1].at, true)).toBe(tone.length); // fact: sample frames
    const back = decodeWav(b, 'f.wav');
    expect(back.sampleRate).toBe(22050);
    expect(back.channels).toBe(1);
    expect(back.samples).toEqual(tone); // not clipped: float keeps what it is given
  });

  it("Python's wave module opens the 16-bit file with the same samples", (ctx) => {
    if (!python) {
      console.warn('skipped: python3 (with its wave module) is not installed');
      ctx.skip();
    }
    const file = path.join(tmp, 'py.wav');
    fs.writeFileSync(file, encodeWav(s, 16000, '16'));
    const r = spawnSync(
      'python3',
      [
        '-c',
        'import sys, wave, struct\n' +
          'w = wave.open(sys.argv[1])\n' +
          'n = w.getnframes()\n' +
          'print(w.getnchannels(), w.getsampwidth(), w.getframerate(), n, *struct.unpack(f"<{n}h", w.readframes(n)))',
        file,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split(' ').map(Number)).toEqual([1, 2, 16000, s.length, ...toInt16(s)]);
  });
});

describe('WAV in at any rate', () => {
  it('a 48 kHz stereo file is mixed down and resampled to 16 kHz, and says so; 16 kHz mono is read as it is', async () => {
    const left = Float32Array.from({ length: 4800 }, (_, t) => 0.5 * Math.sin((2 * Math.PI * 440 * t) / 48000));
    const right = Float32Array.from({ length: 4800 }, (_, t) => 0.3 * Math.sin((2 * Math.PI * 440 * t) / 48000));
    const file = path.join(tmp, 'stereo48k.wav');
    fs.writeFileSync(file, pcm16Wav([left, right], 48000));
    const a = await readWavResampled(file);
    expect(a).toMatchObject({ sampleRate: 48000, channels: 2, resampled: true, mixedDown: true });
    expect(a.samples.length).toBe(1600);
    // the mono mix, 0.4 sin, at 16 kHz
    for (let t = 200; t < 1400; t++)
      expect(Math.abs(a.samples[t] - 0.4 * Math.sin((2 * Math.PI * 440 * t) / 16000))).toBeLessThan(2e-3);
    expect(() => readWav16k(file)).toThrow(/stereo48k\.wav: sample rate 48000 Hz, the model needs 16000 Hz/);
    const mono = path.join(tmp, 'mono16k.wav');
    const note = Float32Array.from({ length: 700 }, (_, t) => 0.2 * Math.cos(t / 5));
    fs.writeFileSync(mono, encodeWav(note));
    const m = await readWavResampled(mono);
    expect(m).toMatchObject({ sampleRate: 16000, channels: 1, resampled: false, mixedDown: false });
    expect(m.samples).toEqual(note);
    await expect(readWavResampled(path.join(tmp, 'absent.wav'))).rejects.toThrow(/absent\.wav: cannot read \(ENOENT\)/);
    await expect(readWavResampled(tmp)).rejects.toThrow(/cannot read \(a folder, not a WAV file\)/);
  });
});
