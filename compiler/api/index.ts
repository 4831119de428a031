/**
 * The compiler's editor API: everything a language server (or a playground, or a notebook)
 * needs, in one place. `rlp lsp` (runtime/cli/lsp/server.ts) is a thin layer over it.
 *
 * Positions are character offsets into a file's text (UTF-16 code units, as JavaScript strings
 * and LSP count them); files are absolute paths. Every lookup takes an `Analysis`.
 *
 *   Parse and check
 *     new Workspace(cwd)             open documents over the disk; unchanged files are not reparsed
 *       .set(path, text) / .close(path)
 *       .analysis(path)              the document checked exactly as `rlp check FILE` checks it
 *       .lastParsed(path)            its latest analysis that parsed (for completion mid-typing)
 *       .wide(path)                  the document, the open ones, the .rlp files beside it and the
 *                                    stdlib: for references and renames across `extends` children
 *     analyze(paths, host)           check files through any CompilerHost (compiler/bind/host.ts)
 *     Analysis.diagnostics           the diagnostics of `rlp check`, as values with spans
 *     Analysis.types(pipeline)       the type of each binding and state variable that checked
 *
 *   Lookups by position
 *     occurrenceAt(a, path, offset)  the name there and the symbol it resolves to (symbols.ts)
 *     hoverAt                        type (`f32[B,G,T]@mask`) and level of a binding; a param's
 *                                    declaration (default, range) and doc; an op's or function's
 *                                    signature and doc; a pipeline's doc comment
 *     definitionAt                   the declaration, across `import` and `extends`, into the stdlib
 *     referencesAt                   every occurrence of the same symbol in the analysis
 *     renameRangeAt, renameAt        the edits renaming a binding, param, state, function, local,
 *                                    pipeline or declared dim everywhere, overrides in children too
 *     completionsAt(a, path, text, offset)   names in scope, params, inputs, ops with signatures,
 *                                    functions, dims after `over`, block keywords, `std/` paths
 *     signatureAt(a, path, text, offset)     the call's signatures and its active parameter
 *     cursorContext(text, offset)    where the cursor is, from tokens (works on text that does not parse)
 *
 *   Whole files
 *     outline(module)                pipelines > blocks > bindings, functions, dims
 *     semanticTokens(a, module)      every resolved name, classified (TOKEN_TYPES, TOKEN_MODIFIERS)
 *     fixesFor(a, diagnostic)        quick fixes: did-you-mean, `where MASK`, `expand(x, over D)`
 */
export { analyze, occurrenceAt, type Analysis } from './analysis.js';
export { completionsAt, type Completion, type CompletionKind } from './complete.js';
export { cursorContext, type CallContext, type CursorContext, type CursorPlace } from './context.js';
export { BLOCK_DOCS, DIM_DOCS, declarationText, fnSignature, opSignature } from './describe.js';
export { fixesFor, type Fix } from './fixes.js';
export { describeSymbol, hoverAt, type Hover } from './hover.js';
export { checkNewName, definitionAt, referencesAt, renameAt, renameRangeAt, type Location, type TextEdit } from './navigate.js';
export { outline, semanticTokens, TOKEN_MODIFIERS, TOKEN_TYPES, type OutlineEntry, type OutlineKind, type SemanticToken } from './outline.js';
export { signatureAt, type Signature, type SignatureHelp } from './signature.js';
export { declarationSpan, isRenamable, symbolKey, type MemberSymbol, type Occurrence, type RlpSymbol } from './symbols.js';
export { Workspace } from './workspace.js';
