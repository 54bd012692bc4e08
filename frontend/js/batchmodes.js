// The lecture's batch-modes section in numbers, for a network and its training data: how many
// updates an epoch makes, how much an update holds in memory, and how noisy its gradient is.

const BYTES_PER_NUMBER = 8; // float64, as the server computes

/** Samples per update of `mode` with `n` training samples (mini-batches of `size`). */
export function samplesPerUpdate(mode, n, size) {
  if (mode === "batch") return n;
  if (mode === "stochastic") return Math.min(1, n);
  return Math.min(size, n);
}

/** Updates in one epoch: the last mini-batch may be smaller. */
export function updatesPerEpoch(mode, n, size) {
  const m = samplesPerUpdate(mode, n, size);
  return m ? Math.ceil(n / m) : 0;
}

/**
 * The spread of an update's gradient around the whole training set's, relative to one
 * sample's: a mean of m of the n samples drawn without replacement has the standard deviation
 * sqrt((n − m) / (m (n − 1))) times one sample's (0 for the whole set, 1 for one sample).
 */
export function gradientNoise(m, n) {
  if (n <= 1 || m >= n) return 0;
  return Math.sqrt((n - m) / (m * (n - 1)));
}

/**
 * What an update of `mode` costs and gives, for a network of layer `sizes` (inputs first):
 * {samples, updates, bytes (n, a and s of every layer for the batch), noise}.
 */
export function batchFacts(mode, { n, size, sizes }) {
  const samples = samplesPerUpdate(mode, n, size);
  // a⁰, then n, a and s of every layer with weights
  const perSample = sizes[0] + 3 * sizes.slice(1).reduce((a, b) => a + b, 0);
  return {
    samples,
    updates: updatesPerEpoch(mode, n, size),
    bytes: samples * perSample * BYTES_PER_NUMBER,
    noise: gradientNoise(samples, n),
  };
}

/** The lecture's advice on a mini-batch size (small batches, from 2 to 32), or null if it is one. */
export function sizeAdvice(size) {
  if (size === 1) return "A mini-batch of one sample is stochastic gradient descent.";
  if (size > 32) return "The lecture advises small mini-batches, from 2 to 32 samples.";
  return null;
}
