/**
 * The policy's configuration and parameters: a small decoder-only transformer, initialized from
 * a seed so that the same seed gives the same weights on every machine and backend.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { TFModule } from '../backends/tf.js';

/** Sizes of the transformer. */
export interface PolicyConfig {
  readonly vocab: number;
  readonly dModel: number;
  readonly nHeads: number;
  readonly nLayers: number;
  readonly dFF: number;
  /** The longest prompt + completion the position table covers. */
  readonly maxLen: number;
}

/** The parameters of one block. */
export interface BlockParams {
  readonly ln1g: tfc.Variable;
  readonly ln1b: tfc.Variable;
  readonly wq: tfc.Variable;
  readonly wk: tfc.Variable;
  readonly wv: tfc.Variable;
  readonly wo: tfc.Variable;
  readonly ln2g: tfc.Variable;
  readonly ln2b: tfc.Variable;
  readonly w1: tfc.Variable;
  readonly b1: tfc.Variable;
  readonly w2: tfc.Variable;
  readonly b2: tfc.Variable;
}

/** All parameters; the output head is tied to the token embedding. */
export interface PolicyParams {
  readonly config: PolicyConfig;
  readonly tokEmb: tfc.Variable;
  readonly posEmb: tfc.Variable;
  readonly blocks: readonly BlockParams[];
  readonly lnfg: tfc.Variable;
  readonly lnfb: tfc.Variable;
}

/** A seeded source of standard normal numbers (mulberry32 + Box-Muller). */
export function normalSource(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

let instances = 0;

/** The stable name of a variable inside its policy (TF.js names must be unique per process). */
export function localName(v: tfc.Variable): string {
  return v.name.slice(v.name.indexOf('/') + 1);
}

/** Create the parameters of a policy from a seed (GPT-2 style: N(0, 0.02), residual outputs scaled). */
export function initPolicy(tf: TFModule, config: PolicyConfig, seed: number): PolicyParams {
  const normal = normalSource(seed);
  const prefix = `policy${instances++}/`;
  const v = (shape: number[], std: number, name: string): tfc.Variable => {
    const n = shape.reduce((x, y) => x * y, 1);
    return tf.tidy(() => tf.variable(tf.tensor(Float32Array.from({ length: n }, () => std * normal()), shape), true, prefix + name));
  };
  const c = (shape: number[], value: number, name: string): tfc.Variable => tf.tidy(() => tf.variable(tf.fill(shape, value), true, prefix + name));
  const d = config.dModel;
  const resid = 0.02 / Math.sqrt(2 * config.nLayers);
  if (d % config.nHeads !== 0) throw new Error(`dModel ${d} is not a multiple of nHeads ${config.nHeads}`);
  const blocks = Array.from({ length: config.nLayers }, (_, l) => ({
    ln1g: c([d], 1, `b${l}.ln1g`), ln1b: c([d], 0, `b${l}.ln1b`),
    wq: v([d, d], 0.02, `b${l}.wq`), wk: v([d, d], 0.02, `b${l}.wk`), wv: v([d, d], 0.02, `b${l}.wv`), wo: v([d, d], resid, `b${l}.wo`),
    ln2g: c([d], 1, `b${l}.ln2g`), ln2b: c([d], 0, `b${l}.ln2b`),
    w1: v([d, config.dFF], 0.02, `b${l}.w1`), b1: c([config.dFF], 0, `b${l}.b1`),
    w2: v([config.dFF, d], resid, `b${l}.w2`), b2: c([d], 0, `b${l}.b2`),
  }));
  return {
    config,
    tokEmb: v([config.vocab, d], 0.02, 'tokEmb'),
    posEmb: v([config.maxLen, d], 0.01, 'posEmb'),
    blocks,
    lnfg: c([d], 1, 'lnfg'),
    lnfb: c([d], 0, 'lnfb'),
  };
}

/** Every variable of a policy, in a fixed order (for optimizers and checkpoints). */
export function policyVariables(p: PolicyParams): tfc.Variable[] {
  return [p.tokEmb, p.posEmb, ...p.blocks.flatMap((b) => [b.ln1g, b.ln1b, b.wq, b.wk, b.wv, b.wo, b.ln2g, b.ln2b, b.w1, b.b1, b.w2, b.b2]), p.lnfg, p.lnfb];
}

/** Free a policy's variables. */
export function disposePolicy(tf: TFModule, p: PolicyParams): void {
  tf.dispose(policyVariables(p));
}
