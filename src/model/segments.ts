// Long inputs are processed in overlapping windows so that no activation buffer exceeds the
// adapter's storage-binding limit. Every window starts and ends on a frame boundary and carries
// enough context that the samples it reports are exact (a causal decoder needs `left` samples of
// history; the centred encoder needs `left` and `right`).
export interface Segment {
  /** Window of input processed: [w0, w1). */
  w0: number;
  w1: number;
  /** Part of the window whose outputs are kept: [c0, c1). */
  c0: number;
  c1: number;
}

export function planSegments(T: number, window: number, left: number, right: number, hop: number): Segment[] {
  if (window >= T) return [{ w0: 0, w1: T, c0: 0, c1: T }];
  if (window % hop || left % hop || right % hop) throw new Error('segments must be frame-aligned');
  if (window <= left + right) throw new Error(`window ${window} leaves no room beside its context ${left}+${right}`);
  const out: Segment[] = [];
  let c0 = 0;
  while (c0 < T) {
    const w0 = Math.max(0, c0 - left);
    const w1 = Math.min(T, w0 + window);
    const c1 = w1 === T ? T : w1 - right;
    out.push({ w0, w1, c0, c1 });
    c0 = c1;
  }
  return out;
}
