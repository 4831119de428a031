/**
 * Loading TF.js. We load `@tensorflow/tfjs` (not tfjs-core alone, which registers no
 * gradients), lazily, so commands that compute nothing never pay for it. Its packages are
 * CommonJS: `require`d, not `import`ed, because importing them makes Node's ES module loader
 * lex every file for its exports (about 1 s of a cold start, against 0.3 s to require them).
 */
import { createRequire } from 'node:module';
import type * as tfc from '@tensorflow/tfjs-core';
// Types only (elided at run time): brings TF.js's chained tensor methods (`t.slice`...) into scope.
import type {} from '@tensorflow/tfjs';

export type TFModule = typeof tfc;

let loaded: Promise<TFModule> | null = null;

/** Load a TF.js package (CommonJS) by `require`, from this module's node_modules. */
export function requireTf(name: string): unknown {
  return createRequire(import.meta.url)(name);
}

/** The TF.js namespace, loaded once. Quiet: no "install tfjs-node" banner on first use. */
export function loadTf(): Promise<TFModule> {
  loaded ??= (async () => {
    const tf = requireTf('@tensorflow/tfjs') as TFModule;
    tf.env().set('PROD', true);
    return tf;
  })();
  return loaded;
}
