/**
 * @file A synthetic token language: a random sparse Markov chain over `vocab` tokens. Every
 * batch is fresh (drawn from (dataSeed, batch index)), the same for every width and seed of a
 * sweep; the chain's entropy rate is the best achievable next-token loss.
 */
import { mixSeed, mulberry32 } from './prng.js';

export interface MarkovSpec {
  vocab: number;
  /** Successors each token can have (smaller: an easier, more predictable language). */
  branching: number;
  /** Seed of the chain itself (the language). */
  seed: number;
}

export class MarkovLanguage {
  /** Cumulative transition probabilities, row-major [vocab, branching], and successor ids. */
  private readonly cdf: Float64Array;
  private readonly next: Int32Array;
  readonly probs: Float64Array;

  constructor(readonly spec: MarkovSpec) {
    const { vocab: V, branching: K, seed } = spec;
    if (!(Number.isInteger(V) && V >= 2) || !(Number.isInteger(K) && K >= 1 && K <= V)) {
      throw new Error(`MarkovLanguage: need integer vocab >= 2 and 1 <= branching <= vocab, got vocab ${V}, branching ${K}`);
    }
    const r = mulberry32(seed);
    this.cdf = new Float64Array(V * K);
    this.next = new Int32Array(V * K);
    this.probs = new Float64Array(V * V);
    for (let v = 0; v < V; v++) {
      // K distinct successors (partial Fisher-Yates), weights ~ Exp(1) normalized (a Dirichlet(1) draw)
      const ids = Array.from({ length: V }, (_, i) => i);
      let total = 0;
      const w = new Float64Array(K);
      for (let k = 0; k < K; k++) {
        const j = k + Math.floor(r() * (V - k));
        [ids[k], ids[j]] = [ids[j], ids[k]];
        w[k] = -Math.log(1 - r());
        total += w[k];
      }
      let acc = 0;
      for (let k = 0; k < K; k++) {
        acc += w[k] / total;
        this.cdf[v * K + k] = acc;
        this.next[v * K + k] = ids[k];
        this.probs[v * V + ids[k]] += w[k] / total;
      }
      this.cdf[v * K + K - 1] = 1;
    }
  }

  /** Token sequences [batch, length] for batch index `index` (row b starts from a uniform token). */
  sample(batch: number, length: number, dataSeed: number, index: number): Int32Array {
    const { vocab: V, branching: K } = this.spec;
    const r = mulberry32(mixSeed(dataSeed, index));
    const out = new Int32Array(batch * length);
    for (let b = 0; b < batch; b++) {
      let t = Math.floor(r() * V);
      for (let i = 0; i < length; i++) {
        out[b * length + i] = t;
        const u = r();
        let k = 0;
        while (k < K - 1 && this.cdf[t * K + k] < u) k++;
        t = this.next[t * K + k];
      }
    }
    return out;
  }

  /** The stationary distribution (power iteration). */
  stationary(iters = 500): Float64Array {
    const V = this.spec.vocab;
    let pi = new Float64Array(V).fill(1 / V);
    for (let it = 0; it < iters; it++) {
      const nxt = new Float64Array(V);
      for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) nxt[b] += pi[a] * this.probs[a * V + b];
      pi = nxt;
    }
    return pi;
  }

  /** Entropy rate in nats per token: the lowest achievable average next-token cross-entropy. */
  entropyRate(): number {
    const V = this.spec.vocab;
    const pi = this.stationary();
    let h = 0;
    for (let a = 0; a < V; a++) {
      for (let b = 0; b < V; b++) {
        const p = this.probs[a * V + b];
        if (p > 0) h -= pi[a] * p * Math.log(p);
      }
    }
    return h;
  }
}
