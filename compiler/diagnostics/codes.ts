/**
 * The diagnostic code table: every message the compiler can print, in one place.
 * RLP0xxx lexing, 1xxx parsing, 2xxx names, 3xxx types and shapes, 4xxx pipeline semantics,
 * 5xxx lowering/backends, 6xxx runtime/data, 9xxx internal.
 */

export type Severity = 'error' | 'warning';
export type Args = Readonly<Record<string, string | number>>;

/** One entry of the code table. */
export interface CodeInfo {
  readonly code: string;
  readonly severity: Severity;
  /** A short title, used by `rlp explain` and docs. */
  readonly title: string;
  /** The one-line message, built from the diagnostic's arguments. */
  readonly message: (a: Args) => string;
  /** The long form printed by `rlp explain`. */
  readonly explain: string;
}

function code(code: string, severity: Severity, title: string, message: (a: Args) => string, explain: string): CodeInfo {
  return Object.freeze({ code, severity, title, message, explain });
}

const E = 'error';
const W = 'warning';

/** All codes, in numeric order. */
export const CODES: readonly CodeInfo[] = Object.freeze([
  code('RLP0001', E, 'unexpected character', (a) => `unexpected character \`${a.char}\``,
    'The lexer found a character that starts no token of the language. Names are ASCII letters, digits and `_`; operators are `+ - * / ** < <= > >= == != =`; comments start with `#` or `//` (doc comments with `///`).'),
  code('RLP0002', E, 'unterminated string', () => 'unterminated string: a string must close with `"` on the same line',
    'String literals are written in double quotes and may not span lines. Use `\\n` for a newline inside a string.'),
  code('RLP0003', E, 'unterminated block comment', () => 'unterminated block comment: `/*` is never closed by `*/`',
    'A block comment opened with `/*` runs until the next `*/`. This one reaches the end of the file.'),
  code('RLP0004', E, 'malformed number', (a) => `malformed number \`${a.text}\`: an exponent needs digits`,
    'Numbers are written as `12`, `0.5`, `.5`, `1e-6` or `2.5E3`. An `e` must be followed by digits, with an optional sign.'),
  code('RLP0005', E, 'UTF-16 file', () => 'this file is UTF-16 text; rlp reads UTF-8: save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)',
    'rlp source files, batch files and datasets are UTF-8 (a leading byte-order mark is skipped). Some Windows editors save UTF-16; convert the file to UTF-8.'),

  code('RLP0006', E, 'file too large', (a) => `file too large: more than ${a.limit} characters of source (this one has ${a.size})`,
    'A source file holds at most this many characters; a larger one is refused before it is read into tokens, so that its size bounds the compiler\'s time and memory. Split generated programs into several files joined with `import`.'),

  code('RLP1001', E, 'unexpected token', (a) => `expected ${a.expected}, found ${a.found}`,
    'The parser expected one kind of token and found another. The message lists what would have been accepted at that point.'),
  code('RLP1002', E, 'stray token', (a) => `unexpected ${a.found}`,
    'The parser could not fit this token into any declaration. A file holds `import "..."`, `pipeline NAME { ... }`, `fn NAME(...) = ...` and `dim NAME` declarations.'),
  code('RLP1003', E, 'unclosed delimiter', (a) => `unclosed \`${a.open}\`: expected a matching \`${a.want}\` before the end of the file`,
    'Every `{`, `(` and `[` needs a matching closer. The span points at the opener that is never closed.'),
  code('RLP1004', E, 'unmatched closing delimiter', (a) => `unmatched \`${a.close}\`: nothing is open here`,
    'This closing bracket has no opening bracket before it. Remove it, or add the opener it belongs to.'),
  code('RLP1005', E, 'mismatched closing delimiter', (a) => `mismatched \`${a.found}\`: expected \`${a.want}\` to close \`${a.open}\``,
    'Brackets must nest: the innermost open bracket has to be closed first.'),
  code('RLP1006', E, 'nesting too deep', (a) => `nested too deeply: more than ${a.limit} levels of brackets or prefix operators`,
    'The compiler limits how deeply brackets and prefix operators nest, so that no input can exhaust its stack. Split the expression with named bindings.'),
  code('RLP1007', E, 'expression too deep', (a) => `expression nested too deeply: more than ${a.limit} levels`,
    'The compiler limits the depth of one expression tree: operands nested inside operands, as in `2 ** (2 ** (...))` or `f(g(h(...)))`. A flat chain such as `a + b + c + ...` is not nesting and does not count. Split a deep expression into named bindings.'),
  code('RLP1008', E, 'expression too long', (a) => `expression too long: more than ${a.limit} operators in one chain`,
    'One expression may chain at most this many operators (`a + b + c + ...`); the compiler walks such a chain recursively. Split a longer one into several bindings, or use a reduction such as `sum(x, over D)`.'),
  code('RLP1009', E, 'list too long', (a) => `list too long: more than ${a.limit} items in one bracket`,
    'One call\'s arguments, or one `[...]` list of dimensions, holds at most this many items; a longer list is refused before parsing, so that a huge generated expression costs no more than reading it. No op takes more than a few arguments: combine many values with a reduction such as `sum(x, over D)`.'),

  code('RLP2001', E, 'missing import', (a) => `cannot find module \`${a.path}\`${a.hint ?? ''}`,
    'An import names a file that does not exist. `import "std/NAME"` loads `stdlib/NAME.rlp`; any other path is relative to the importing file, with `.rlp` added when missing.'),
  code('RLP2002', E, 'import cycle', (a) => `import cycle: ${a.chain}`,
    'Files may not import each other in a cycle. Move the shared declarations into a third file that both import.'),
  code('RLP2003', E, 'duplicate definition', (a) => `\`${a.name}\` is defined more than once${a.where ?? ''}`,
    'Each name may be declared once in its scope: top-level pipelines, functions and dims of a file and its imports; params, state and bindings of a pipeline; parameters and locals of a function.'),
  code('RLP2004', E, 'unknown pipeline', (a) => `unknown pipeline \`${a.name}\``,
    '`extends` names a pipeline that is not declared in this file or in a file it imports.'),
  code('RLP2005', E, 'extends cycle', (a) => `pipeline \`${a.name}\` extends itself: ${a.chain}`,
    'A chain of `extends` may not come back to where it started.'),
  code('RLP2006', E, 'override of nothing', (a) => `\`${a.name}\` does not override any binding of \`${a.parent}\`, and nothing uses it`,
    'In a pipeline that `extends` another, a binding either replaces a binding of the parent with the same name, or is a new helper used by another binding. A binding that does neither is usually a misspelled override, so it is an error.'),
  code('RLP2007', E, 'override in another stage', (a) => `\`${a.name}\` is bound in stage \`${a.was}\` of \`${a.parent}\`, not in \`${a.now}\``,
    'An override replaces a binding in the same stage. Move the override into the stage where the parent binds the name.'),
  code('RLP2008', E, 'unknown name', (a) => `unknown name \`${a.name}\``,
    'The name is not a binding, param or state of this pipeline, a standard input, or a parameter or local of the enclosing function. Standard inputs: logp, old_logp, ref_logp, mask, reward, values, old_values, entropy, token_reward, greedy_reward, step. In the reward stage, reward functions are named too: the built-ins (correct, format, length) and the exports of a `--rewards` module.'),
  code('RLP2009', E, 'unknown function', (a) => `unknown function \`${a.name}\``,
    'The call names neither a built-in op nor a `fn` declared in this file or an imported one. `rlp explain ops` lists the built-in ops.'),
  code('RLP2010', E, 'binding cycle', (a) => `binding cycle: ${a.chain}`,
    'Bindings may not depend on themselves, directly or through others. Use `state` and `update` for values that carry across steps.'),
  code('RLP2011', E, 'recursive function', (a) => `\`${a.name}\` calls itself: functions may not recurse`,
    'Functions are expanded inline, so a function may not call itself, directly or through others.'),
  code('RLP2012', E, 'not a state variable', (a) => `\`${a.name}\` is not a state variable of \`${a.pipeline}\``,
    'An `update` block assigns new values to variables declared in the `state` block.'),
  code('RLP2013', E, 'not a pipeline', (a) => `\`${a.name}\` is a ${a.what}, not a pipeline`,
    '`extends` takes the name of a pipeline.'),
  code('RLP2014', E, 'unknown dimension', (a) => `unknown dimension \`${a.name}\``,
    'Dimensions are B (prompts), G (samples per prompt), T (completion tokens), V (vocabulary) and any declared with `dim NAME`.'),

  // --- issue 10: bounded compile work ---
  code('RLP4020', E, 'program too large', (a) => `this pipeline expands to more than ${a.limit} expressions once its functions are inlined`,
    'Functions are inlined at each call; calls with the same arguments are expanded once. A program whose expansion grows past the limit (for example a chain of functions each calling the previous one twice with different arguments, which doubles per level) is refused instead of compiling for hours. Share intermediate results through bindings, or call functions with the same arguments.'),
  code('RLP4021', E, 'calls nested too deeply', (a) => `function calls nested too deeply: calling \`${a.name}\` here is more than ${a.limit} calls deep`,
    'A function may call another function, which may call another, and so on, up to this depth. Each call is inlined where it is made, and every value remembers the calls it came from, so a deeper chain is refused rather than exhausting the compiler\'s stack. Compute intermediate results in bindings, or merge small functions.'),
  // --- issue 10: what an import may reach ---
  code('RLP2020', E, 'import not allowed', (a) => `cannot import \`${a.path}\`: ${a.why}`,
    'An import names another .rlp file: a path relative to the importing file (`./losses` or `./losses.rlp`), an absolute path to a .rlp file, or `std/NAME`, a module of the standard library. No other file is read, and `std/` paths cannot leave the standard library\'s folder.'),

  code('RLP3001', E, 'dimension mismatch', (a) => `cannot combine \`${a.left}\` with \`${a.right}\`: dimension \`${a.dim}\` is missing`,
    'Operands are aligned by dimension name. A value may be combined with a finer one only when its dimensions are a leading part of B, G, T (a per-prompt value with a per-sample one, a per-sample value with a per-token one). Anything else must be made explicit, e.g. `expand(x, over G)`, or reduced first.'),
  code('RLP3002', E, 'reduction over a missing dimension', (a) => `cannot reduce over \`${a.dim}\`: the value is \`${a.type}\``,
    'A reduction removes the dimensions it names; each must be a dimension of the value.'),
  code('RLP3003', E, 'unmasked reduction of a padded value', (a) => `reducing a padded value over \`${a.dims}\` needs \`where ${a.mask}\``,
    'Token-level values are padded: past the end of a completion they hold garbage. A reduction of a padded value must say which entries count, with `where MASK`; the numerator and the denominator of a mean then use the same mask. Multiply by the mask first if you want padding to count as zero.'),
  code('RLP3004', E, 'where does not cover padding', (a) => `the \`where\` mask does not cover the padding of the value (padded by \`${a.mask}\`)`,
    'The mask given to `where` must be zero wherever the value is padding: `mask` itself, or a product with it such as `mask * (A > 0)`.'),
  code('RLP3005', E, 'wrong element type', (a) => `${a.what} must be ${a.want}, found \`${a.found}\``,
    'Arithmetic takes numbers (bool converts to 0/1), `and`/`or`/`not` and conditions take bool.'),
  code('RLP3006', E, 'declared type mismatch', (a) => `\`${a.name}\` is declared \`${a.declared}\` but its value is \`${a.found}\``,
    'A binding annotated with a type must produce exactly that type. A coarser value (per sample) is not spread over a finer level (per token) implicitly: write `expand(x, over T)`.'),
  code('RLP3007', E, 'param default type', (a) => `param \`${a.name}\` is \`${a.type}\` but its default is ${a.found}`,
    'The default of a param must be a constant of the declared type; `int` values are accepted for `float` params.'),
  code('RLP3008', E, 'unknown type', (a) => `unknown type \`${a.name}\``,
    'Param types: int, float, bool, string, and `choice("a", "b", ...)` (one of the listed strings, fixed at compile time). Tensor types: f32, i32, bool, optionally with dimensions, e.g. `f32[B,G,T]`.'),
  code('RLP3009', E, 'wrong number of arguments', (a) => `\`${a.callee}\` takes ${a.want}, found ${a.found}`,
    'The call passes more positional arguments than the function or op declares.'),
  code('RLP3010', E, 'unknown keyword argument', (a) => `\`${a.callee}\` has no parameter \`${a.name}\``,
    'A keyword argument must name one of the parameters of the function or op.'),
  code('RLP3011', E, 'missing argument', (a) => `\`${a.callee}\` is missing argument \`${a.name}\``,
    'Every parameter without a default must be passed, by position or by name.'),
  code('RLP3012', E, 'argument given twice', (a) => `argument \`${a.name}\` of \`${a.callee}\` is given twice`,
    'Each parameter may be passed once, either by position or by name.'),
  code('RLP3013', E, 'over on a non-reduction', (a) => `\`${a.callee}\` does not take ${a.clause}`,
    '`over` and `where` belong to reductions (mean, sum, std, var, min, max, count), scans and `expand`.'),
  code('RLP3014', E, 'reduction without over', (a) => `\`${a.callee}\` needs \`over\`: name the dimensions to ${a.verb}`,
    'A reduction names the dimensions it removes, e.g. `mean(r, over G)` or `sum(x, over [G, T], where mask)`.'),
  code('RLP3015', E, 'argument type', (a) => `argument \`${a.name}\` of \`${a.callee}\` must be ${a.want}, found \`${a.found}\``,
    'The argument does not have the type the function or op declares for it.'),
  code('RLP3016', E, 'different masks', (a) => `cannot combine values padded by different masks \`${a.left}\` and \`${a.right}\``,
    'A token-level value carries the mask it is valid under. Two values valid under different masks cannot be combined without saying which mask applies.'),
  code('RLP3017', E, 'bad index', (a) => `${a.what}`,
    'Indexing `x[D=i]` picks position i along dimension D and removes D. The index must be a constant non-negative integer.'),
  code('RLP3018', E, 'not a constant', (a) => `\`${a.name}\` must be a constant expression`,
    'Defaults of params and initial values of state are constants: numbers, `true`/`false`, strings, and arithmetic on them.'),
  code('RLP3019', E, 'expand over an existing dimension', (a) => `cannot expand over \`${a.dim}\`: the value already has it`,
    '`expand(x, over D)` adds dimension D to x; x must not have D already.'),
  code('RLP3020', E, 'param override changes type', (a) => `param \`${a.name}\` is \`${a.was}\` in \`${a.parent}\`; it cannot become \`${a.now}\``,
    'A derived pipeline may change the default of a param, not its type.'),
  code('RLP3021', E, 'sort of a multi-dimensional value', (a) => `\`sort\` needs a value whose only dimension is \`${a.dims}\`, found \`${a.type}\``,
    '`sort(x, over D)` sorts a one-dimensional value along its dimension D, e.g. per-pair margins `f32[B]`.'),
  code('RLP3022', E, 'scan over several dims', (a) => `a scan runs along one dimension, found \`over ${a.dims}\``,
    '`shift` and `discounted_cumsum` run along a single dimension, usually `over T`.'),

  // Param ranges (`group: int = 8 in [1, 4096]`).
  code('RLP3030', E, 'param default outside its range', (a) => `param \`${a.name}\` defaults to ${a.value}, outside its range ${a.range}`,
    'A param may declare the values it accepts after its default: `group: int = 8 in [1, 4096]`, `clip_low: float = 0.2 in [0, 1)`. `[` and `]` include a bound, `(` and `)` exclude it, and `inf` leaves an end open. The default must lie in the range; so must every `--set` value.'),
  code('RLP3031', E, 'malformed param range', (a) => `${a.what}`,
    'A range is written after a numeric param\'s default: `in [lo, hi]`, `in [lo, hi)`, `in (lo, hi]` or `in (lo, hi)`, with number bounds (or `inf`, `-inf`), the lower first. Only `int` and `float` params in a `params` block declare ranges.'),

  // ---- choice params (issue 13) -----------------------------------------------------------------
  code('RLP3040', E, 'bad choice declaration', (a) => `choice param \`${a.name}\` ${a.what}`,
    'A choice param lists the strings it may take and names one of them as its default: `agg: choice("token-mean", "token-sum") = "token-mean"`. The list is not empty and has no string twice.'),
  code('RLP3041', E, 'not one of the choices', (a) => `${a.what} is not a choice of \`${a.name}\`; it takes ${a.choices}`,
    'A choice param takes one of the strings its declaration lists, as its default, from `--set NAME=VALUE`, and in comparisons `NAME == "value"`. The choice is made at compile time, so a comparison with a string it can never equal is an error, not a silently false condition.'),
  code('RLP3042', E, 'string comparison needs constants', (a) => `${a.what}`,
    'Strings compare only when both sides are known at compile time: string literals and choice params (`agg == "token-sum"`). The comparison is folded to `true` or `false`, and a `select` on it keeps only the chosen branch in the IR.'),

  code('RLP4001', E, 'unknown block', (a) => `unknown block \`${a.name}\``,
    'A pipeline holds `params`, `state`, `update` and the stages `sample`, `reward`, `advantage`, `normalize`, `loss`.'),
  code('RLP4002', E, 'use of a later stage', (a) => `\`${a.name}\` in stage \`${a.stage}\` uses \`${a.used}\` from the later stage \`${a.later}\``,
    'Stages run in order: sample, reward, advantage, normalize, loss, then update. A binding may use bindings of its own stage and of earlier stages only.'),
  code('RLP4003', E, 'minimize needs a scalar', (a) => `\`minimize\` needs a scalar, found \`${a.type}\``,
    'The loss is one number for the whole batch. Reduce it over every dimension, e.g. `mean(x, over [B, G, T], where mask)`.'),
  code('RLP4004', E, 'no minimize', (a) => `pipeline \`${a.name}\` has a \`loss\` stage but no \`minimize\``,
    'The loss stage states the objective with exactly one `minimize EXPR`.'),
  code('RLP4005', E, 'two minimize', () => 'more than one `minimize` in this pipeline',
    'A pipeline states one objective. Add the terms into one expression.'),
  code('RLP4006', E, 'minimize outside loss', (a) => `\`minimize\` belongs in the \`loss\` stage, not in \`${a.block}\``,
    'The objective is stated in the loss stage.'),
  code('RLP4007', E, 'unused expression', (a) => `the value of this expression is never used${a.hint ?? ''}`,
    'Outside the sample stage and function bodies every statement is a binding `name = expr` or `minimize expr`.'),
  code('RLP4008', E, 'binding without value', (a) => `\`${a.name}\` has no value`,
    'A binding in a stage or in `update` is written `name = expr`.'),
  code('RLP4009', E, 'untyped declaration', (a) => `${a.what} \`${a.name}\` needs a type, e.g. \`${a.name}: ${a.example}\``,
    'Params and state variables declare their type: `beta: float = 0.04`, `m: f32 = 0`.'),
  code('RLP4010', E, 'function without result', (a) => `the body of \`${a.name}\` must end with an expression (its result)`,
    'A function is `fn f(x) = expr` or `fn f(x) { t = ...; expr }`, whose last statement is the result.'),
  code('RLP4011', E, 'duplicate block', (a) => `block \`${a.name}\` appears more than once in \`${a.pipeline}\``,
    'Each block appears at most once in a pipeline; put all its bindings together.'),
  code('RLP4012', W, 'unused param', (a) => `param \`${a.name}\` is never used`,
    'A declared param that nothing reads is probably a mistake.'),
  code('RLP4013', E, 'state without initial value', (a) => `state \`${a.name}\` needs an initial value`,
    'State variables start from a constant: `m: f32 = 0`.'),
  code('RLP4014', E, 'reward column missing', (a) => `reward function \`${a.name}\` reads the column \`${a.column}\`, which ${a.data} ${a.how}`,
    'Reward functions get the dataset\'s columns by name (TRL\'s convention). The built-in `correct` reads `answer`, `format` reads `format` (a regex); a --rewards module declares what a function reads with `fn.columns = [...]`. Add the column to every row, or use another reward.'),

  // ---- declared inputs (`inputs { name: f32[B,G] "doc" }`) ----
  code('RLP4030', E, 'input with a value', (a) => `input \`${a.name}\` cannot have a value`,
    'An `inputs` block declares values the batch feeds: `tool_calls: f32[B,G] "number of tool calls"`. A value computed from other values belongs in a stage as a binding.'),
  code('RLP4031', E, 'declared standard input', (a) => `\`${a.name}\` is a standard input (\`${a.type}\`) and cannot be declared`,
    'Standard inputs (`logp`, `mask`, `reward`, ... listed by `rlp explain NAME`) are known to every pipeline with a fixed type. An `inputs` block declares only other names.'),
  code('RLP3050', E, 'rank over a missing dimension', (a) => `\`rank\` needs one dimension of its value in \`over\`, found \`${a.dims}\` for \`${a.type}\``,
    '`rank(x, over D)` ranks each entry of x among the entries of its line along D (0 = the smallest). D must be one dimension of x.'),
  code('RLP3051', E, 'group_mean arguments', (a) => `\`group_mean\` needs x and key of the same dims, one of them in \`over\`: found x \`${a.x}\`, key \`${a.key}\`, over \`${a.dims}\``,
    '`group_mean(x, key, over D)` averages, for each entry, the entries of its line along D with the same key. x and key must have the same dims, and D must be one of them.'),
  code('RLP3052', E, 'fill arguments', (a) => `\`fill_forward\` and \`fill_backward\` need x and flag of the same dims and one of them in \`over\`: found x \`${a.x}\`, flag \`${a.flag}\`, over \`${a.dims}\``,
    'A segment scan carries the value at flagged positions along one dim: `fill_forward(value, is_cut, over T)`.'),
  code('RLP3053', E, 'pair_logsigmoid arguments', (a) => `\`pair_logsigmoid\` needs x and key of the same dims, one of them in \`over\`, and a scale that is a number or of x's dims: found x \`${a.x}\`, key \`${a.key}\`, over \`${a.dims}\``,
    'Pairs are built inside the lines along one dim: `pair_logsigmoid(score, level, scale, over G)`.'),
  code('RLP3054', E, 'group_sum arguments', (a) => `\`group_sum\` needs x and key of the same dims, with every \`over\` dim among them: found x \`${a.x}\`, key \`${a.key}\`, over \`${a.dims}\``,
    'Group-by a second key sums within the blocks along the `over` dims: `group_sum(x, anchor, over [G, S])`.'),
  code('RLP4032', W, 'unused input', (a) => `input \`${a.name}\` is declared but never read`,
    'A declared input that nothing reads is probably a mistake; remove it, or use it in a stage.'),

  code('RLP5001', E, 'backend unavailable', (a) => `the \`${a.backend}\` backend cannot run here: ${a.detail}`,
    'A backend could not be started. `wasm` (the default) and `cpu` always work; `webgpu` needs a WebGPU adapter (on Linux, a Vulkan driver such as Mesa lavapipe); `tensorflow` needs `@tensorflow/tfjs-node` installed. `rlp env` shows what each backend reports.'),

  // ---- export to PyTorch (`rlp export --target torch`, issue 15)
  code('RLP5010', E, 'op without a PyTorch form', (a) => `op \`${a.op}\` has no PyTorch form, so \`${a.pipeline}\` cannot be exported to torch`,
    'Every op declares its PyTorch form next to its TF.js lowering (the `torch` field of its declaration in compiler/ops/). This op has none yet: add it there, or rewrite the pipeline without the op.'),
  code('RLP5011', E, 'dimension without a size', (a) => `dimension \`${a.dim}\` has no size in \`${a.fn}\`: none of its arguments carries it`,
    'An exported function learns its dim sizes from the tensors it is given. A value that spreads over a dim (`expand(x, over D)`) needs some argument that has D.'),
  code('RLP5012', W, 'not exported: sampling', (a) => `the sample stage of \`${a.pipeline}\` is not exported: ${a.what}`,
    'The exported functions start from the trainer\'s rollouts: sampling (n per prompt, temperature, max tokens, and features that need rlp\'s generator: dynamic refill, prompt suffixes, hints, forced prefixes, continuations) stays with the trainer\'s generator. Configure the trainer to sample the same way; features it lacks are not reproduced.'),

  code('RLP6001', E, 'missing input', (a) => `missing input \`${a.name}\``,
    'The batch does not feed a value the pipeline needs. Feed every standard input the pipeline reads (listed by `rlp explain NAME`), or feed a stage value that replaces what needs it (a fed `reward` skips the reward stage).'),
  code('RLP6002', E, 'wrong shape', (a) => `${a.what}`,
    'A fed tensor must have one axis per named dimension of its declared type, in that order, and every dimension must have the same size in every tensor of the batch.'),
  code('RLP6003', E, 'data length', (a) => `\`${a.name}\` has ${a.found} values, but its shape [${a.shape}] needs ${a.want}`,
    'A tensor is `{"shape": [...], "data": [...]}` with `data` flat and row-major: its length is the product of the shape.'),
  code('RLP6004', E, 'non-numeric value', (a) => `${a.what}`,
    'Tensor data are numbers: a flat JSON array of numbers, or in msgpack a number array or float32 bytes.'),
  code('RLP6005', E, 'non-finite input', (a) => `\`${a.name}\` holds ${a.kind} at index ${a.index}`,
    'NaN and infinite inputs are refused, since they silently poison every reduction they reach. Pass `--allow-nonfinite` to feed them anyway.'),
  code('RLP6006', E, 'unknown param', (a) => `\`${a.name}\` is not a param of \`${a.pipeline}\``,
    '`--set NAME=VALUE` sets a param declared in the pipeline\'s `params` block (or inherited through `extends`).'),
  code('RLP6007', E, 'corrupt msgpack', (a) => `cannot decode \`${a.file}\` as msgpack: ${a.detail}`,
    'The file is truncated or is not msgpack. Batch files hold one map from input names to tensors.'),
  code('RLP6008', E, 'empty batch file', (a) => `\`${a.file}\` is empty`,
    'A batch file holds one object mapping input names to tensors.'),
  code('RLP6009', E, 'malformed batch', (a) => `${a.what}`,
    'A batch file is one object (JSON) or map (msgpack) from input names to tensors `{"shape": [..], "data": [..]}`, or to bare numbers for scalars.'),
  code('RLP6010', E, 'unknown input', (a) => `\`${a.name}\` is not an input or a binding of \`${a.pipeline}\``,
    'Every fed name must be a standard input the pipeline reads, or one of its bindings (as `stage.name` or `name`).'),
  code('RLP6011', E, 'bad param value', (a) => `param \`${a.name}\` is \`${a.type}\`, but \`${a.value}\` is not ${a.want}`,
    '`--set` values are parsed by the param\'s type: int (42), float (0.1, 1e-6), bool (true, false) or string.'),
  code('RLP6012', E, 'bad gradient target', (a) => `cannot take the gradient with respect to \`${a.name}\`: ${a.why}`,
    '`--grad NAME` differentiates the loss with respect to a fed f32 value, usually `logp`.'),
  code('RLP6013', E, 'param without value', (a) => `param \`${a.name}\` has no default and was not set`,
    'A param declared without a default must be given on the command line: `--set NAME=VALUE`.'),
  code('RLP6020', E, 'runtime failure', (a) => `computing this failed: ${a.detail}`,
    'A step of the plan failed at run time. The span points at the expression it computes.'),
  code('RLP6030', E, 'param value outside its range', (a) => `param \`${a.name}\` is set to ${a.value}, outside its range ${a.range}`,
    'A param declares the values it accepts (`group: int = 8 in [1, 4096]`); a `--set` value outside that range would compute something the pipeline does not define. `rlp explain PIPELINE` lists every param with its range.'),
  code('RLP6031', E, 'no such pipeline', (a) => `\`--pipeline ${a.name}\`: \`${a.file}\` declares no pipeline \`${a.name}\``,
    'A file may declare several pipelines; `--pipeline NAME` chooses one of them. `rlp check FILE` lists what the file declares.'),
  code('RLP6032', W, 'unread standard input', (a) => `${a.names}: standard input${a.s} that \`${a.pipeline}\` does not read, ${a.action}`,
    'Batches dumped from TRL or verl carry every standard column (`logp`, `old_logp`, `ref_logp`, `mask`, `reward`, ...), and one batch may be evaluated by several pipelines, so a standard input the pipeline does not read is ignored with this warning. `rlp eval --strict` makes it an error. A name that is not a standard input, a binding or a reward function stays an error (RLP6010).'),
  code('RLP6033', W, 'fed value leaves bindings unused', (a) => `feeding \`${a.name}\` leaves ${a.cut} unused: th${a.s === '' ? 'is value no longer reaches' : 'ese values no longer reach'} any result`,
    'A fed binding replaces its computation, so the bindings it was computed from (a length penalty in the reward stage, say) stop reaching the loss. To evaluate them, feed what they are computed from instead: a reward function\'s output as `reward_fn.NAME` (or `NAME`), and let the stage compute the rest.'),

  code('RLP9001', E, 'internal compiler error', (a) => `internal compiler error: ${a.detail} (this is a bug in rlp; please report it)`,
    'The compiler broke one of its own invariants. This is never caused by your program alone; please report it with the input that triggered it.'),
]);

const BY_CODE = new Map(CODES.map((c) => [c.code, c]));

/** Look up a code; throws for a code that is not in the table (a compiler bug). */
export function codeInfo(code: string): CodeInfo {
  const info = BY_CODE.get(code);
  if (info === undefined) throw new Error(`internal: unknown diagnostic code ${code}`);
  return info;
}

/** Whether `code` is in the table. */
export function isKnownCode(code: string): boolean {
  return BY_CODE.has(code);
}
