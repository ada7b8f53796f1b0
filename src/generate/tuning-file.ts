// Node's store for tuned kernel choices (tuning.ts): one JSON file, NSYNTH_TUNING_CACHE or
// ~/.cache/nsynth-webgpu/tuning.json, rewritten atomically; a file that cannot be read or written
// leaves the choices in memory for the session (tuning is an optimisation, never an error).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../formats/atomic-write.js';
import type { TunedEntry, TuningStore } from './tuning.js';

export function tuningCachePath(): string {
  return process.env.NSYNTH_TUNING_CACHE || path.join(os.homedir(), '.cache', 'nsynth-webgpu', 'tuning.json');
}

export function fileStore(): TuningStore | null {
  const file = tuningCachePath();
  let entries: Record<string, TunedEntry> = {};
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) entries = parsed as Record<string, TunedEntry>;
  } catch {
    // absent or unreadable: start empty (and overwrite it with valid JSON on the first choice)
  }
  return {
    get: (key) => {
      const e = entries[key];
      return e && typeof e === 'object' && typeof e.path === 'string' ? e : undefined;
    },
    set: (key, e) => {
      entries[key] = e;
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        writeFileAtomic(file, `${JSON.stringify(entries, null, 2)}\n`);
      } catch {
        // read-only home or full disk: the choice holds for this session
      }
    },
  };
}
