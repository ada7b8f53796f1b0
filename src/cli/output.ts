// How commands talk: results on stdout (a line for people, or one JSON object with --json), notes
// about what was done to the input on stderr (one line each, `nsynth: ...`), and progress bars on
// stderr only where a person watches it (a terminal) and did not ask for --quiet.
import cliProgress from 'cli-progress';
import { MODEL_RATE } from '../formats/wav.js';
import { tuningCachePath } from '../generate/tuning-file.js';

/** A one-line note on stderr: something the user should know was done (a resample, a trim). */
export function notice(message: string): void {
  process.stderr.write(`nsynth: ${message}\n`);
}

/** Where a note's conditioning pitch came from, when it was read from the note rather than given. */
export function pitchNotice(name: string, p: { pitch: number; from: string } | undefined): void {
  if (p && p.from !== '--pitch') notice(`${name}: pitch ${p.pitch}, from ${p.from}`);
}

/** A command's result as one JSON object (stdout unless stdout carries the audio). */
export function printJson(result: object, to: NodeJS.WriteStream = process.stdout): void {
  to.write(`${JSON.stringify(result, null, 1)}\n`);
}

/** Whether progress is drawn: stderr is a terminal and neither --quiet nor --json was given. */
export function showsProgress(o: { quiet?: boolean; json?: boolean }): boolean {
  return !o.quiet && !o.json && !!process.stderr.isTTY;
}

/**
 * A progress bar on stderr, or null where none is drawn (see showsProgress). `format` is
 * cli-progress's, e.g. 'encoding |{bar}| {value}/{total} notes | ETA {eta_formatted}'.
 */
export function progressBar(format: string, o: { quiet?: boolean; json?: boolean }): cliProgress.SingleBar | null {
  if (!showsProgress(o)) return null;
  return new cliProgress.SingleBar(
    { format, hideCursor: true, etaBuffer: 20, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
}

/**
 * For GenerateOptions.onTuning: on first use of an adapter, config and batch size, `auto` times the
 * generation kernels before any audio comes (a minute for h512_bo16 on a software adapter), so one
 * note says why the bar waits and where the choice is kept; the candidates follow one per line.
 * Nothing under --quiet.
 */
export function tuningNotes(o: { quiet?: boolean }): ((line: string) => void) | undefined {
  if (o.quiet) return undefined;
  let first = true;
  return (line) => {
    if (first)
      notice(
        `timing the generation kernels on this adapter (once per adapter, config and batch size; kept in ${tuningCachePath()}; NSYNTH_TUNING=off skips it)`,
      );
    first = false;
    notice(line);
  };
}

/** Seconds since `t0` (a performance.now() reading), to 0.01 s: the `seconds` of a JSON result. */
export function secondsSince(t0: number): number {
  return Math.round((performance.now() - t0) / 10) / 100;
}

/**
 * What every audio-writing command's JSON result starts with (generate, reconstruct, interpolate):
 * the model, the adapter, the sampling settings and how the audio is stored.
 */
export function audioResultHead(
  model: string,
  adapter: string,
  o: { seed: number; temperature: number; float?: boolean },
): { model: string; adapter: string; seed: number; temperature: number; sampleRate: number; format: string } {
  return {
    model,
    adapter,
    seed: o.seed,
    temperature: o.temperature,
    sampleRate: MODEL_RATE,
    format: o.float ? 'float32' : 'pcm16',
  };
}
