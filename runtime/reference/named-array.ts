/** A plain-JS tensor with named dimensions, used by the reference interpreter. */

/** Row-major float64 data with named dims. */
export interface NamedArray {
  readonly dims: readonly string[];
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Make a NamedArray (data length must match the shape). */
export function named(dims: readonly string[], shape: readonly number[], data: ArrayLike<number>): NamedArray {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`internal: data has ${data.length} values for shape [${shape.join(',')}]`);
  return { dims, shape, data: Float64Array.from(data) };
}

/** A rank-0 array. */
export function scalar(v: number): NamedArray {
  return named([], [], [v]);
}

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/**
 * For every flat index of an array with `outDims`/`outShape`, the flat index into `a`
 * (broadcasting by name: dims `a` lacks are ignored).
 */
export function broadcastIndex(a: NamedArray, outDims: readonly string[], outShape: readonly number[]): Int32Array {
  const n = outShape.reduce((x, y) => x * y, 1);
  const aStr = strides(a.shape);
  const step = outDims.map((d) => {
    const k = a.dims.indexOf(d);
    return k < 0 ? 0 : aStr[k]!;
  });
  const idx = new Int32Array(n);
  const counter = new Array<number>(outDims.length).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = off;
    for (let k = outDims.length - 1; k >= 0; k--) {
      counter[k]!++;
      off += step[k]!;
      if (counter[k]! < outShape[k]!) break;
      off -= step[k]! * outShape[k]!;
      counter[k] = 0;
    }
  }
  return idx;
}
