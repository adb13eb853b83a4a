import * as ws from '../src/index.js';
import { matmul } from '../src/ops/matmul.js';
import { randn } from '../src/ops/creation.js';
import { configKey, REG_4X4, REG_8X8, REG_NARROW, PACKED_32, selectMatmul } from '../src/ops/matmul-select.js';
import { timeInterleaved } from './harness.js';
const dev = await ws.init();
for (const spec of process.argv.slice(2)) {
  const [M, K, N, t] = spec.split('x');
  const transB = t === 'T';
  const a = randn([+M, +K], { seed: 1, device: dev });
  const b = randn(transB ? [+N, +K] : [+K, +N], { seed: 2, device: dev });
  const cands = [REG_4X4, REG_8X8, REG_NARROW, PACKED_32];
  const sel = selectMatmul({ M: +M, N: +N, K: +K, batch: 1, transA: false, transB } as any, { isSoftware: true, subgroups: true } as any);
  const launches = cands.map((cfg) => () => matmul(a, b, { transB, config: cfg }).dispose());
  const { medians } = await timeInterleaved(dev, launches, { minRounds: 9, maxTimeS: 3 });
  console.log(spec, `(selected ${configKey(sel)})`, cands.map((cfg, i) => `${configKey(cfg)} ${medians[i].toFixed(3)}`).join(' | '));
}
ws.shutdown();
