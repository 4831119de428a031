/**
 * A workspace of open documents over the file system: the compiler host an editor needs. Open
 * documents overlay the files on disk; unchanged files are not parsed again (a keystroke
 * reparses only the edited file); each document keeps its last analysis that parsed, so names
 * stay completable while the text is being typed.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseFile, type ParseResult } from '../../grammar/parse.js';
import type { SourceFile } from '../../grammar/source.js';
import { fsHost, type CompilerHost } from '../bind/host.js';
import { analyze, type Analysis } from './analysis.js';

/** Open documents, a parse cache, and analyses by document. */
export class Workspace {
  private readonly docs = new Map<string, string>();
  /** Parses by display path; a hit's spans point at an earlier SourceFile with the same path and text. */
  private readonly parsed = new Map<string, { text: string; result: ParseResult }>();
  private readonly analyses = new Map<string, { text: string; analysis: Analysis }>();
  private readonly lastGood = new Map<string, Analysis>();
  /** The host the compiler reads through: open documents first, then the disk. */
  readonly host: CompilerHost;

  constructor(cwd: string = process.cwd(), base: CompilerHost = fsHost(cwd)) {
    this.host = {
      stdlibDir: base.stdlibDir,
      read: (p) => this.docs.get(p) ?? base.read(p),
      display: (p) => base.display(p),
      stdlibModules: () => base.stdlibModules(),
      parse: (file) => this.parse(file),
    };
  }

  /** Open or change a document (absolute path). */
  set(path: string, text: string): void {
    this.docs.set(path, text);
  }

  /** Close a document: the file on disk is read again. */
  close(path: string): void {
    this.docs.delete(path);
    this.analyses.delete(path);
    this.lastGood.delete(path);
  }

  /** The text of a document, or of the file on disk. */
  text(path: string): string | undefined {
    return this.host.read(path);
  }

  /** The analysis of one document, exactly what `rlp check FILE` checks (memoized by text). */
  analysis(path: string): Analysis {
    const text = this.text(path) ?? '';
    const memo = this.analyses.get(path);
    if (memo !== undefined && memo.text === text) return memo.analysis;
    const analysis = analyze([path], this.host);
    this.analyses.set(path, { text, analysis });
    if (analysis.module(path)?.ast != null) this.lastGood.set(path, analysis);
    return analysis;
  }

  /** The latest analysis of a document in which it parsed (null if it never has). */
  lastParsed(path: string): Analysis | null {
    this.analysis(path);
    return this.lastGood.get(path) ?? null;
  }

  /**
   * An analysis for navigation across files: the document, the open documents, the `.rlp`
   * files beside it and the standard library, so references and renames reach `extends`
   * children in other files.
   */
  wide(path: string): Analysis {
    const roots = new Set<string>([path, ...this.docs.keys(), ...rlpFilesIn(dirname(path)), ...rlpFilesIn(this.host.stdlibDir)]);
    return analyze([...roots], this.host);
  }

  private parse(file: SourceFile): ParseResult {
    const hit = this.parsed.get(file.path);
    if (hit !== undefined && hit.text === file.text) return hit.result;
    const result = parseFile(file);
    this.parsed.set(file.path, { text: file.text, result });
    return result;
  }
}

function rlpFilesIn(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.rlp')).map((f) => join(dir, f));
  } catch {
    return [];
  }
}
