/**
 * @file `widthscope describe`: the parameterization table of a model built at a width.
 */
import type { Device } from '../tensor/device.js';
import { buildModel, type ModelSpec } from '../nn/models.js';
import { describeRules, type OptimizerKind, type Parameterization } from '../nn/parameterization.js';

export function describeModel(device: Device, o: Record<string, string>): string {
  const width = +o.width;
  const baseWidth = +(o.baseWidth ?? o['base-width'] ?? 64);
  const depth = +(o.depth ?? 2);
  const family = o.family ?? 'mlp';
  const spec: ModelSpec =
    family === 'transformer'
      ? { family: 'transformer', width, baseWidth, depth, headDim: 16, vocab: 64, context: 64 }
      : family === 'cnn'
        ? { family: 'cnn', width, baseWidth, depth, inputShape: [8, 8, 3], classes: 10 }
        : { family: 'mlp', width, baseWidth, depth, inputShape: [8, 8, 3], classes: 10 };
  const param = {
    parameterization: (o.parameterization ?? 'mup') as Parameterization,
    optimizer: (o.optimizer ?? 'adam') as OptimizerKind,
    gamma0: +(o.gamma0 ?? 1),
    width,
  };
  const model = buildModel({ device, seed: 1, param }, spec);
  const text = describeRules(model.parameters().map((p) => p.info), param);
  model.dispose();
  return `${family} width ${width}, base width ${baseWidth}, ${param.parameterization} + ${param.optimizer}\n${text}`;
}
