/**
 * Registers TF.js's gradient functions. `@tensorflow/tfjs-core`'s Node bundle ships the ops but not
 * their gradients (they live in ESM-only files Node cannot load); `@tensorflow/tfjs-layers`'s Node
 * bundle carries them and registers them into the global gradient registry when loaded. Import
 * this module for its side effect before computing any gradient.
 */
import '@tensorflow/tfjs-layers';
