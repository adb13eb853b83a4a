/**
 * @file The observables of the width-consistency study (notes/observables.md): host-side f64
 * math (CKA, eigen-solver, histograms, W1, target power, catapult) and the model probes that feed
 * it (layer capture, sharpness, eNTK).
 */
export { matrix, centreColumns, gram, transposeTimes, frobeniusDot, type Matrix } from './matrix.js';
export { linearCKA, kernelCKA, hsic, centreGram } from './cka.js';
export { symmetricEigen, type SymmetricEigen } from './eigen.js';
export { cumulativeTargetPower } from './target-power.js';
export { bins, binsFromReference, histogram, type Bins, type Histogram } from './histogram.js';
export { wasserstein1, wasserstein1Histogram } from './wasserstein.js';
export { detectCatapult, largestTrainableLr, trains, type Catapult, type CatapultOptions, type CurvePoint, type LrRun } from './catapult.js';
export { featureLayers, preactivationLayers, captureLayers, captureFeatures, capturePreactivations, asFeatures, type LayerCapture, type SpatialReduction } from './features.js';
export { topHessianEigen, modelSharpness, type PowerIterationOptions, type TopEigen } from './sharpness.js';
export { empiricalNTK, tangentKernel, ntkSpectrum, type NtkOutput, type NtkOptions, type NtkSpectrum } from './entk.js';
export { asFunctionOf } from './parameters.js';
