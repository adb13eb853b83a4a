/**
 * The import graph's rules (`npm run lint:layers`, run by .ci/run): no circular imports, no import
 * from a lower layer to a higher one, and nothing but kernels (.wgsl) in src/kernels.
 * Layers, top to bottom (a layer may import any layer below it):
 *   src/index.ts      the public API
 *   src/cli           the command
 *   src/experiments   sweeps, runner, analyses, report
 *   src/nn            modules, parameterizations, optimizers
 *   src/autograd      the tape, rules, differentiable ops
 *   src/data          datasets and synthetic streams (raw tensors, no autograd)
 *   src/reference     the f64 oracle of every op (plain arrays; imports only shape helpers below)
 *   src/ops           the launchers (checks, dispatches)
 *   src/tensor        device, pool, kernel registry, tensors
 *   src/util          environment and error helpers
 * data sits above reference and ops because it makes tensors with the raw ops; autograd above
 * data because the autograd suite and tests feed it data; reference above ops because neither
 * imports the other at run time and the oracle may use the ops' shape helpers.
 */
const LAYERS = [
  'src/index.ts', 'src/cli', 'src/experiments', 'src/nn', 'src/autograd', 'src/data', 'src/reference', 'src/ops',
  'src/tensor', 'src/util',
];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A path pattern for a layer: the file itself, or everything under the folder. */
const pattern = (layer) => (layer.endsWith('.ts') ? `^${escape(layer)}$` : `^${escape(layer)}/`);

const layerRules = LAYERS.slice(1).map((layer, i) => ({
  name: `layer-${layer.replace(/^src\//, '')}`,
  comment: `${layer} may import only the layers below it (${LAYERS.slice(i + 2).join(', ')})`,
  severity: 'error',
  from: { path: pattern(layer) },
  to: { path: LAYERS.slice(0, i + 1).map(pattern) },
}));

const KERNEL_SCRIPT = '^src/kernels/.+\\.(?:[cm]?[jt]s|tsx|jsx)$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'a module may not reach itself through its imports (type-only imports included)',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'kernels-only-wgsl',
      comment: 'src/kernels holds only .wgsl: its loader is src/tensor/kernel-registry.ts, kernel selection lives in src/ops',
      severity: 'error',
      from: { path: KERNEL_SCRIPT },
      to: {},
    },
    {
      name: 'kernels-only-wgsl-imported',
      comment: 'src/kernels holds only .wgsl (no script there to import)',
      severity: 'error',
      from: {},
      to: { path: KERNEL_SCRIPT },
    },
    {
      name: 'kernels-only-wgsl-orphan',
      comment: 'src/kernels holds only .wgsl (not even a script that nothing imports)',
      severity: 'error',
      from: { orphan: true, path: KERNEL_SCRIPT },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/types/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
