// Teacher-forced negative log-likelihood in bits per sample: how well a decoder predicts a note's
// own next mu-law class (8 bits per sample is a uniform guess over 256 classes).
import { logSoftmaxNllReference } from '../ops/log-softmax-nll.js';

/** Mean -log2 p(class_t) over the rows of logits [T, classes]. */
export function bitsPerSample(logits: Float32Array, classes: ArrayLike<number>, numClasses = 256): number {
  const rows = logits.length / numClasses;
  if (rows !== classes.length) throw new Error(`bitsPerSample: ${rows} rows of logits for ${classes.length} classes`);
  const { nll } = logSoftmaxNllReference(logits, numClasses, classes);
  let sum = 0;
  for (const v of nll) sum += v;
  return sum / rows / Math.LN2;
}
