// A note's MIDI pitch for a pitch-conditioned model, from what the note carries: the pitch given,
// the NSynth file name (`guitar_acoustic_010-060-127.wav` is MIDI 60), an `examples.json` beside it
// (the release's layout), else the nearest MIDI note to its median f0. Node only (reads metadata).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cents, medianF0, yinF0 } from '../dsp/f0.js';

/** The MIDI pitch an NSynth file name carries (`guitar_acoustic_010-060-127.wav` -> 60), if any. */
export function pitchFromNSynthName(file: string): number | undefined {
  const m = /-(\d{3})-\d{3}\.wav$/i.exec(path.basename(file));
  return m ? Number(m[1]) : undefined;
}

/** The pitch in an `examples.json` beside the file (or one folder up, the release's `audio/` layout). */
export function pitchFromMetadata(file: string): number | undefined {
  const key = path.basename(file).replace(/\.wav$/i, '');
  for (const dir of [path.dirname(file), path.dirname(path.dirname(file))]) {
    const meta = path.join(dir, 'examples.json');
    if (!fs.existsSync(meta)) continue;
    try {
      const pitch = (JSON.parse(fs.readFileSync(meta, 'utf8')) as Record<string, { pitch?: unknown }>)[key]?.pitch;
      if (Number.isInteger(pitch)) return pitch as number;
    } catch {
      // A damaged examples.json is no pitch source; the f0 estimate follows.
    }
  }
  return undefined;
}

/** The note's MIDI pitch: --pitch, the NSynth file name, its metadata, else the nearest to its median f0. */
export function notePitch(
  file: string,
  audio: Float32Array,
  given?: number,
  givenAs = '--pitch',
): { pitch: number; from: string } {
  if (given !== undefined) return { pitch: given, from: givenAs };
  const named = pitchFromNSynthName(file);
  if (named !== undefined) return { pitch: named, from: 'the file name' };
  const meta = pitchFromMetadata(file);
  if (meta !== undefined) return { pitch: meta, from: 'examples.json' };
  const f0 = medianF0(yinF0(audio));
  if (f0 === 0) throw new Error(`${file}: no clear pitch to condition on; give ${givenAs} MIDI`);
  return { pitch: Math.round(69 + cents(f0, 440) / 100), from: `its f0 (${f0.toFixed(1)} Hz)` };
}
