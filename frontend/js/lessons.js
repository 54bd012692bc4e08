// The lessons: one click sets up the page (data, network, weights, the view to look at) and
// two or three sentences say what to look at. Each is built from the lecture.

export const LESSONS = [
  {
    id: "and-by-hand",
    title: "AND by hand",
    teaser: "W = [1 1], b = −1.5, hard limit",
    text: "A single perceptron with W = [1 1], b = −1.5 and a hard limit: n = x₁ + x₂ − 1.5 is "
      + "positive only at (1, 1). The line x₁ + x₂ = 1.5 cuts that corner off, so every row of the "
      + "truth table is right. Click a weight or the bias on the graph to change it and watch which rows go wrong.",
    tab: "truth",
    config: { dataset: "and", features: ["x1", "x2"], hidden: [], activations: ["hardlim"],
      rule: "perceptron", lr: 0.1, batch: "stochastic" },
    layers: [{ W: [[1, 1]], b: [-1.5] }],
  },
  {
    id: "or-by-hand",
    title: "OR by hand",
    teaser: "the same weights, b = −0.5",
    text: "The same perceptron with b = −0.5: now n ≥ 0 as soon as one input is 1. Only the bias "
      + "changed, so the line slid parallel to AND's, to x₁ + x₂ = 0.5. Set b back to −1.5 on the graph and AND returns.",
    tab: "truth",
    config: { dataset: "or", features: ["x1", "x2"], hidden: [], activations: ["hardlim"],
      rule: "perceptron", lr: 0.1, batch: "stochastic" },
    layers: [{ W: [[1, 1]], b: [-0.5] }],
  },
  {
    id: "xor-no-line",
    title: "XOR: no single line",
    teaser: "the perceptron rule never converges",
    text: "XOR is 1 when exactly one input is 1: (0, 1) and (1, 0) on one side, (0, 0) and (1, 1) on "
      + "the other, and no line does that. Press “Run the rule”: the perceptron rule never gets "
      + "through an epoch without an error, and the run ends saying it did not converge.",
    tab: "perceptron",
    config: { dataset: "xor", features: ["x1", "x2"], hidden: [], activations: ["hardlim"],
      rule: "perceptron", lr: 0.1, batch: "stochastic" },
  },
  {
    id: "xor-hidden",
    title: "XOR with a hidden layer, by hand",
    teaser: "the lecture's two-layer design",
    text: "The lecture's design: hidden neuron 1 fires when x₁ − x₂ ≥ 0.5, neuron 2 when "
      + "x₂ − x₁ ≥ 0.5, and the output is their OR. Two lines make a band, and every row is right. "
      + "A hard limit has no derivative, so this network is designed by hand, not trained (the note says so).",
    tab: "truth",
    config: { dataset: "xor", features: ["x1", "x2"], hidden: [2], activations: ["hardlim", "hardlim"],
      rule: "backprop", lr: 0.1, batch: "batch" },
    layers: [{ W: [[1, -1], [-1, 1]], b: [-0.5, -0.5] }, { W: [[1, 1]], b: [-0.5] }],
  },
  {
    id: "perceptron-and",
    title: "The perceptron learns AND",
    teaser: "W¹ = W¹ + η(y − ŷ)x, one sample at a time",
    text: "Start from zero weights and apply W¹ = W¹ + η(y − ŷ)x, b¹ = b¹ + η(y − ŷ) one sample at a time: "
      + "only a wrong answer (y ≠ ŷ) moves the line. Press “Next sample” a few times, then “Run the "
      + "rule”: after a whole epoch without an error it has converged, because AND is linearly separable.",
    tab: "perceptron",
    config: { dataset: "and", features: ["x1", "x2"], hidden: [], activations: ["hardlim"],
      rule: "perceptron", lr: 0.1, batch: "stochastic" },
  },
  {
    id: "worked-example",
    title: "The backprop worked example",
    teaser: "2-2-1, ReLU then Linear: the lecture's numbers",
    text: "The lecture's network: W¹ = [1 1; 1 1], b¹ = 0, W² = [1 1], b² = 0, ReLU then Linear, "
      + "one sample x = (1, 1) with y = 0, and η = 0.1. Press Forward, Backward, Update: n¹ = [2 2], "
      + "ŷ = 4, s² = 8, s¹ = [8 8] and the new weights come out exactly as on the slides.",
    tab: "lab",
    config: { dataset: "xor", features: ["x1", "x2"], hidden: [2], activations: ["relu", "linear"],
      rule: "backprop", lr: 0.1, batch: "stochastic", reg: "none", regRate: 0 },
    layers: [{ W: [[1, 1], [1, 1]], b: [0, 0] }, { W: [[1, 1]], b: [0] }],
    given: { x: [1, 1], y: [0], label: "the lecture's example" },
  },
  {
    id: "batch-modes",
    title: "Batch vs stochastic vs mini-batch",
    teaser: "one network trained three ways",
    text: "The same data and the same initial weights, trained three ways: every sample per update "
      + "(batch), one (stochastic), ten (mini-batch). Per epoch, stochastic gets down fastest but "
      + "noisily; per update, the three are much closer, and a batch update costs 100 samples' work.",
    tab: "compare",
    config: { dataset: "circle", samples: 200, noise: 0.1, ratio: 0.5, features: ["x1", "x2"],
      hidden: [4], activations: ["tanh", "sigmoid"], rule: "backprop", lr: 0.1,
      batch: "minibatch", batchSize: 10, reg: "none", regRate: 0, seed: 0 },
  },
  {
    id: "spiral-depth",
    title: "A spiral that needs depth",
    teaser: "three hidden layers of 8",
    text: "Two interleaved spirals: no line, and hardly one small layer, can separate them from x₁ "
      + "and x₂ alone. Three hidden layers of 8 build curved regions out of the first layer's lines: "
      + "press ▶ and watch the deeper neurons. Then remove a layer (−) and compare.",
    tab: null,
    config: { dataset: "spiral", samples: 400, noise: 0, ratio: 0.5, features: ["x1", "x2"],
      hidden: [8, 8, 8], activations: ["tanh", "tanh", "tanh", "sigmoid"], rule: "backprop",
      lr: 0.1, batch: "minibatch", batchSize: 10, reg: "none", regRate: 0 },
  },
];
