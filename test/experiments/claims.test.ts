// The probe-based claims on synthetic observables whose verdict is known: a rising CKA holds and a
// falling one does not, and likewise for W1, sharpness against 2/lr, C(k) and the ensemble loss.
import { describe, expect, it } from 'vitest';
import type { Analysis, SeriesAnalysis } from '../../src/experiments/analysis/analyze.js';
import type { SeriesObservables } from '../../src/experiments/analysis/observables.js';
import { CLAIMS } from '../../src/experiments/paper/claims.js';

const widths = [32, 64, 128, 256];

function teacher(obs: Partial<SeriesObservables>, lr = 0.1): Record<string, Analysis> {
  const s = {
    seriesId: 'S', label: 'mlp2 mup lr=0.1', widths, seeds: [0, 1],
    config: { parameterization: { name: 'mup' }, lr } as SeriesAnalysis['config'],
    statuses: { ok: 8 }, curves: {}, agreement: [], varianceSlope: [], divergedWidths: [], noReference: [],
    observables: { cka: [], preactivations: { bins: [], histograms: [], w1: [] }, sharpness: null, afterKernel: [], dynamics: [], ensemble: null, problems: [], ...obs },
  } as unknown as SeriesAnalysis;
  return { teacher: { series: [s], lrTransfer: [], unfinished: [], skipped: [] } as unknown as Analysis };
}
const claim = (id: string) => CLAIMS.find((c) => c.id === id)!;

describe('probe-based claims', () => {
  it('representations: CKA rising with width holds, falling does not', () => {
    const cka = (values: number[]) => widths.map((width, i) => ({ layer: 'input.act', step: 100, width, refWidth: 256, complete: true, vsWidest: values[i], vsWidestStd: 0, acrossSeeds: 0.9, pairs: 2 }));
    const up = claim('representations').evaluate(teacher({ cka: cka([0.85, 0.92, 0.97, 1]) }));
    expect(up.verdict).toBe('holds');
    expect(up.numbers['cka_input.act']).toBe(0.85);
    expect(claim('representations').evaluate(teacher({ cka: cka([0.95, 0.9, 0.97, 1]) })).verdict).toBe('does not hold');
    expect(claim('representations').evaluate(teacher({ cka: cka([0.5, 0.7, 0.9, 1]) })).verdict).toBe('does not hold'); // rising, but the narrowest is far
    expect(claim('representations').evaluate(teacher({})).verdict).toBe('not measurable here');
  });

  it('preactivations: W1 to the widest falling with width holds', () => {
    const w1 = (values: number[]) => widths.map((width, i) => ({ layer: 'input', step: 100, width, refWidth: 256, complete: true, w1: values[i] }));
    const pre = (values: number[]) => ({ preactivations: { bins: [], histograms: [], w1: w1(values) } }) as unknown as Partial<SeriesObservables>;
    expect(claim('preactivations').evaluate(teacher(pre([0.2, 0.1, 0.05, 0]))).verdict).toBe('holds');
    expect(claim('preactivations').evaluate(teacher(pre([0.1, 0.2, 0.05, 0]))).verdict).toBe('does not hold');
  });

  it('sharpness: the widest two agree and every width stays under 1.1 x 2/lr', () => {
    const sh = (values: number[]) => ({ sharpness: { lr: 0.1, edge: 20, points: [], finalRatio: widths.map((width, i) => ({ width, step: 100, sharpness: values[i], ratio: values[i] / 20 })) } });
    const ok = claim('sharpness').evaluate(teacher(sh([12, 14, 15, 15.5])));
    expect(ok.verdict).toBe('holds');
    expect(ok.numbers.maxRatioTo2OverLr).toBeCloseTo(15.5 / 20, 6);
    expect(claim('sharpness').evaluate(teacher(sh([12, 14, 10, 15.5]))).verdict).toBe('does not hold'); // widest two 35% apart
    expect(claim('sharpness').evaluate(teacher(sh([12, 14, 25, 25]))).verdict).toBe('does not hold'); // above the edge
  });

  it('spectral: the widest width puts more of the target in its top eigenvectors', () => {
    const ak = (c10: number[]) => widths.map((width, i) => ({ width, step: 100, seeds: 2, spectrum: [], targetPower: Array.from({ length: 10 }, (_, k) => (c10[i] * (k + 1)) / 10) }));
    const r = claim('spectral').evaluate(teacher({ afterKernel: ak([0.6, 0.7, 0.8, 0.9]) }));
    expect(r.verdict).toBe('holds');
    expect(r.numbers).toMatchObject({ k: 10, narrowC: 0.6, wideC: 0.9 });
    expect(claim('spectral').evaluate(teacher({ afterKernel: ak([0.9, 0.7, 0.8, 0.6]) })).verdict).toBe('does not hold');
  });

  it('narrow ensembles: their test loss above one wide net holds; the loss is used when targets were stored', () => {
    const ens = (narrowEnsemble: number) => ({ ensemble: { kind: 'regression', scale: 0.5, points: widths.map((width) => ({ step: 300, width, seeds: 2, complete: true, ensembleLoss: width === 32 ? narrowEnsemble : 0.05, singleLoss: 0.08, refWidth: 256, widestSingle: 0.06, widestEnsemble: 0.05 })) } });
    const worse = claim('narrow-ensemble-bias').evaluate(teacher(ens(0.07) as Partial<SeriesObservables>));
    expect(worse.verdict).toBe('holds');
    expect(worse.numbers).toMatchObject({ narrowEnsembleLoss: 0.07, wideSingleLoss: 0.06 });
    expect(claim('narrow-ensemble-bias').evaluate(teacher(ens(0.055) as Partial<SeriesObservables>)).verdict).toBe('does not hold');
  });
});
