// The target id of a position that carries no loss (padding, the unmasked positions of masked-LM
// batches): crossEntropy skips rows whose target is IGNORE_INDEX. -100, PyTorch's ignore_index.
export const IGNORE_INDEX = -100;
