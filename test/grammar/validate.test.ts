/**
 * The lexer and parser skip Chevrotain's definition checks at start-up (a third of a cold
 * `rlp check`); here they run: token definitions and grammar are free of the errors those checks
 * find (unreachable or conflicting tokens, ambiguous alternatives, left recursion).
 */
import { createToken, Lexer } from 'chevrotain';
import { describe, expect, it } from 'vitest';
import { LEXER_OPTIONS } from '../../grammar/lexer.js';
import { RlpParser } from '../../grammar/parser.js';
import { ALL_TOKENS } from '../../grammar/tokens.js';

describe('Chevrotain definition checks', () => {
  it('pass for the token definitions', () => {
    const lexer = new Lexer([...ALL_TOKENS], { ...LEXER_OPTIONS, skipValidations: false, deferDefinitionErrorsHandling: true });
    expect(lexer.lexerDefinitionErrors).toEqual([]);
  });

  it('pass for the grammar', () => {
    // performSelfAnalysis throws on any definition error when the checks run.
    expect(() => new RlpParser(true)).not.toThrow();
  });

  it('would report a broken token definition (the check is live)', () => {
    const empty = createToken({ name: 'Empty', pattern: /q*/ });
    const bad = new Lexer([...ALL_TOKENS, empty], { ...LEXER_OPTIONS, skipValidations: false, deferDefinitionErrorsHandling: true });
    expect(bad.lexerDefinitionErrors.length).toBeGreaterThan(0);
  });
});
