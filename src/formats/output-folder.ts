// Which existing folders a command may replace or write into: only ones it could have written itself.
// `nsynth convert --out precious` once replaced an unrelated folder (and a user's thesis with it);
// now a folder is replaced only if it is empty or holds nothing but one of our model outputs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_NAME, WEIGHTS_FORMAT } from './weights-file.js';

/** `generatedBy` of the tfjs weights manifests we write (src/convert/tfjs.ts). */
export const TFJS_GENERATED_BY = 'nsynth-webgpu';

/**
 * The names a model folder of ours holds, or null if `dir` is not one (its manifest missing or
 * foreign); `trainedSteps`: the training steps its manifest records (hours of a machine's time,
 * which a random model or a conversion is not), 0 for none.
 */
function ourModelFiles(dir: string, names: Set<string>): { files: Set<string>; trainedSteps: number } | null {
  const json = (name: string): Record<string, unknown> | null => {
    try {
      const v = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
      return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
    } catch {
      return null;
    }
  };
  if (names.has(MANIFEST_NAME)) {
    const m = json(MANIFEST_NAME);
    if (m?.format !== WEIGHTS_FORMAT) return null;
    const data = m.data as { file?: unknown } | undefined;
    const steps = (m.meta as { steps?: unknown } | undefined)?.steps;
    return {
      files: new Set([MANIFEST_NAME, typeof data?.file === 'string' ? data.file : 'weights.bin']),
      trainedSteps: typeof steps === 'number' && steps > 0 ? steps : 0,
    };
  }
  if (names.has('model.json')) {
    const m = json('model.json');
    if (m?.generatedBy !== TFJS_GENERATED_BY || !Array.isArray(m.weightsManifest)) return null;
    const files = new Set(['model.json']);
    for (const group of m.weightsManifest as { paths?: unknown }[])
      if (Array.isArray(group?.paths)) for (const p of group.paths) if (typeof p === 'string') files.add(p);
    return { files, trainedSteps: 0 };
  }
  return null;
}

/**
 * Why the folder `dir` may not be replaced by a model output, or null if it may: it does not exist,
 * is empty, or holds only an nsynth weights folder or a tfjs export of ours (stray temporaries of
 * our atomic writes, `*.tmp`, are tolerated); a weights folder whose manifest records training
 * (the shipped weights/default, a `nsynth train` export) only with `overwriteTrained`.
 */
export function whyNotReplaceable(dir: string, o: { overwriteTrained?: boolean } = {}): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return null;
  }
  if (!st.isDirectory()) return `${dir} exists and is not a folder`;
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  if (entries.length === 0) return null;
  const names = new Set(entries.map((e) => e.name));
  const ours = ourModelFiles(dir, names);
  if (!ours) {
    const shown = [...names].slice(0, 3).join(', ') + (names.size > 3 ? ', ...' : '');
    return `${dir} exists and is not a model folder written by nsynth (it holds ${shown})`;
  }
  if (ours.trainedSteps > 0 && !o.overwriteTrained)
    return `${dir} holds a trained model (${ours.trainedSteps.toLocaleString('en')} training steps; --overwrite replaces it)`;
  for (const e of entries) {
    if (ours.files.has(e.name) && e.isFile()) continue;
    if (e.isFile() && e.name.endsWith('.tmp')) continue;
    return `${dir} holds ${e.name}${e.isDirectory() ? '/' : ''}, which nsynth did not write there`;
  }
  return null;
}

/** Throws unless `dir` may be replaced (see whyNotReplaceable); `flag` names the option in the message. */
export function assertReplaceable(dir: string, flag = '--out', o: { overwriteTrained?: boolean } = {}): void {
  const why = whyNotReplaceable(dir, o);
  if (why) throw new Error(`${flag} ${dir}: ${why}; choose another folder, or remove it first`);
}
