/** Type annotations and constant expressions (param defaults, state initial values). */
import type { Expr, TypeExpr } from '../../grammar/ast.js';
import { diag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { didYouMean, listChoices } from '../suggest.js';
import { sortDims, tensor, type DType, type TensorType } from '../types.js';

const TENSOR_DTYPES: Readonly<Record<string, DType>> = { f32: 'f32', i32: 'i32', bool: 'bool' };
export const PARAM_TYPES: readonly string[] = Object.freeze(['int', 'float', 'bool', 'string', 'choice']);
export type ParamType = 'int' | 'float' | 'bool' | 'string' | 'choice';

/** Resolve `f32[B,G,T]`-style annotations; reports and returns null when unknown. */
export function resolveTensorType(te: TypeExpr, dimOrder: readonly string[], out: Diagnostic[]): TensorType | null {
  const dtype = TENSOR_DTYPES[te.name.name];
  if (te.choices !== null) {
    out.push(diag('RLP3008', te.span, { name: `${te.name.name}(...)` }, { help: '`choice("a", "b")` is a param type; tensors are written `f32[B,G,T]`' }));
    return null;
  }
  if (dtype === undefined) {
    const valid = Object.keys(TENSOR_DTYPES);
    const alias: Record<string, string> = { float: 'f32', int: 'i32' };
    const help = alias[te.name.name] !== undefined ? `tensor types are written \`${alias[te.name.name]}\`` : didYouMean(te.name.name, valid) ?? `expected ${listChoices(valid)}`;
    out.push(diag('RLP3008', te.name.span, { name: te.name.name }, { help }));
    return null;
  }
  const dims: string[] = [];
  for (const d of te.dims ?? []) {
    if (!dimOrder.includes(d.name)) {
      out.push(diag('RLP2014', d.span, { name: d.name }, { help: didYouMean(d.name, dimOrder) ?? `known dimensions: ${listChoices(dimOrder)}; declare new ones with \`dim NAME\`` }));
      return null;
    }
    dims.push(d.name);
  }
  return tensor(dtype, sortDims(dims, dimOrder));
}

/** Resolve a param type (`int`, `float`, `bool`, `string`, `choice("a", "b")`). */
export function resolveParamType(te: TypeExpr, out: Diagnostic[]): ParamType | null {
  const n = te.name.name;
  if (n === 'choice' && te.choices !== null) return 'choice';
  if (n === 'choice' || te.choices !== null) {
    const help = n === 'choice' ? 'list the strings it may take: `choice("a", "b")`' : 'only `choice` takes a list of strings: `choice("a", "b")`';
    out.push(diag('RLP3008', te.span, { name: te.choices !== null ? `${n}(...)` : n }, { help }));
    return null;
  }
  if (te.dims === null && (PARAM_TYPES as readonly string[]).includes(n)) return n as ParamType;
  const alias: Record<string, string> = { f32: 'float', i32: 'int' };
  const help = te.dims !== null ? 'params are scalars: int, float, bool or string' : alias[n] !== undefined ? `param types are written \`${alias[n]}\`` : didYouMean(n, PARAM_TYPES) ?? `expected ${listChoices(PARAM_TYPES)}`;
  out.push(diag('RLP3008', te.span, { name: te.dims === null ? n : `${n}[...]` }, { help }));
  return null;
}

/** A compile-time constant. */
export interface ConstValue {
  readonly value: number | boolean | string;
  readonly isInt: boolean;
}

/** Evaluate a constant expression (literals, unary minus, arithmetic); null if not constant. */
export function constEval(e: Expr): ConstValue | null {
  switch (e.kind) {
    case 'Number':
      return { value: e.value, isInt: e.isInt };
    case 'Bool':
      return { value: e.value, isInt: false };
    case 'String':
      return { value: e.value, isInt: false };
    case 'Unary': {
      const v = constEval(e.operand);
      if (v === null) return null;
      if (e.op === 'not') return typeof v.value === 'boolean' ? { value: !v.value, isInt: false } : null;
      return typeof v.value === 'number' ? { value: e.op === '-' ? -v.value : v.value, isInt: v.isInt } : null;
    }
    case 'Binary': {
      const a = constEval(e.left);
      const b = constEval(e.right);
      if (a === null || b === null || typeof a.value !== 'number' || typeof b.value !== 'number') return null;
      const ints = a.isInt && b.isInt;
      switch (e.op) {
        case '+': return { value: a.value + b.value, isInt: ints };
        case '-': return { value: a.value - b.value, isInt: ints };
        case '*': return { value: a.value * b.value, isInt: ints };
        case '/': return { value: a.value / b.value, isInt: false };
        case '**': return { value: a.value ** b.value, isInt: ints && b.value >= 0 };
        default: return null;
      }
    }
    default:
      return null;
  }
}

/** Describe a constant for messages: `0.5` (a float). */
export function describeConst(c: ConstValue): string {
  const kind = typeof c.value === 'string' ? 'string' : typeof c.value === 'boolean' ? 'bool' : c.isInt ? 'int' : 'float';
  return `\`${typeof c.value === 'string' ? JSON.stringify(c.value) : String(c.value)}\` (${kind === 'int' ? 'an' : 'a'} ${kind})`;
}

/** Whether a constant fits a param type (ints are accepted as floats). */
export function constFits(c: ConstValue, t: ParamType): boolean {
  switch (t) {
    case 'int': return typeof c.value === 'number' && c.isInt;
    case 'float': return typeof c.value === 'number';
    case 'bool': return typeof c.value === 'boolean';
    case 'string': return typeof c.value === 'string';
    case 'choice': return typeof c.value === 'string';
  }
}
