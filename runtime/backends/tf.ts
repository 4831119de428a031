/**
 * Loading TF.js. We import `@tensorflow/tfjs` (not tfjs-core alone, which registers no
 * gradients), lazily, so commands that compute nothing never pay for it.
 */
import type * as tfc from '@tensorflow/tfjs-core';

export type TFModule = typeof tfc;

let loaded: Promise<TFModule> | null = null;

/** The TF.js namespace, loaded once. Quiet: no "install tfjs-node" banner on first use. */
export function loadTf(): Promise<TFModule> {
  loaded ??= (async () => {
    const tf = (await import('@tensorflow/tfjs')) as unknown as TFModule;
    tf.env().set('PROD', true);
    return tf;
  })();
  return loaded;
}
