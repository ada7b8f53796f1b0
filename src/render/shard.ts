// Which part of a jobs file this process renders: `--shard i/N` (job k belongs to shard k mod N,
// so shards get equal shares of a file whatever its order), or `auto` from the variables that
// the schedulers people already run set for each task.

export interface Shard {
  index: number;
  count: number;
}

/** `i/N` with 0 <= i < N. */
export function parseShard(text: string, from = '--shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`${from}: "${text}" is not i/N (e.g. 3/16: the fourth of 16 shards)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new Error(`${from}: "${text}": the index must be in [0, N) and N at least 1`);
  return { index, count };
}

/**
 * The shard from the environment: NSYNTH_SHARD=i/N; a Kubernetes Indexed Job (JOB_COMPLETION_INDEX,
 * with NSYNTH_SHARD_COUNT set to the Job's completions: Kubernetes does not pass that count); a
 * Slurm job array (SLURM_ARRAY_TASK_ID from SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT).
 */
export function shardFromEnv(env: Record<string, string | undefined> = process.env): Shard {
  if (env.NSYNTH_SHARD) return parseShard(env.NSYNTH_SHARD, 'NSYNTH_SHARD');
  const int = (name: string): number => {
    const v = env[name];
    if (v === undefined || !/^\d+$/.test(v.trim()))
      throw new Error(`--shard auto: ${name} is ${v === undefined ? 'not set' : `"${v}", not a number`}`);
    return Number(v);
  };
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    if (env.NSYNTH_SHARD_COUNT === undefined)
      throw new Error(
        "--shard auto: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but NSYNTH_SHARD_COUNT is not: set it to the Job's completions (examples/scale/render-indexed-job.yaml)",
      );
    return checked({ index: int('JOB_COMPLETION_INDEX'), count: int('NSYNTH_SHARD_COUNT') }, 'JOB_COMPLETION_INDEX');
  }
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    // --array=MIN-MAX[:STEP]: task ids MIN, MIN+STEP, ... are shards 0, 1, ... of COUNT. (A single
    // task resubmitted with --array=7 is shard 0 of 1: give it NSYNTH_SHARD=7/16 instead.)
    const min = env.SLURM_ARRAY_TASK_MIN !== undefined ? int('SLURM_ARRAY_TASK_MIN') : 0;
    const step = env.SLURM_ARRAY_TASK_STEP !== undefined ? Math.max(1, int('SLURM_ARRAY_TASK_STEP')) : 1;
    const offset = int('SLURM_ARRAY_TASK_ID') - min;
    if (offset % step !== 0)
      throw new Error(`--shard auto: SLURM_ARRAY_TASK_ID ${min + offset} is not MIN + k * STEP (${min}, step ${step})`);
    return checked({ index: offset / step, count: int('SLURM_ARRAY_TASK_COUNT') }, 'SLURM_ARRAY_TASK_ID');
  }
  throw new Error(
    '--shard auto: none of NSYNTH_SHARD, JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm) is set; give --shard i/N',
  );
}

function checked(s: Shard, from: string): Shard {
  if (s.count < 1 || s.index < 0 || s.index >= s.count)
    throw new Error(`--shard auto: ${from} gives shard ${s.index} of ${s.count}, outside [0, ${s.count})`);
  return s;
}

export function inShard(s: Shard): (jobIndex: number) => boolean {
  return (k) => k % s.count === s.index;
}

export function shardLabel(s: Shard): string {
  const w = String(s.count - 1).length;
  return `${String(s.index).padStart(w, '0')}-of-${s.count}`;
}
