import { LspClient } from '../test/helpers/lsp-client.js';
import { posOf } from '../test/helpers/lsp-text.js';
const c = await LspClient.start();
type Q = [string, string, number, number];
const comps: Q[] = [['stdlib/grpo.rlp', 'over [B, G]', 0, 6], ['stdlib/rloo.rlp', 'over ', 0, 5], ['stdlib/grpo.rlp', '"std/prelude"', 0, 1], ['stdlib/grpo.rlp', '  loss {', 0, 2], ['stdlib/grpo.rlp', 'ratio = exp', 0, 0], ['stdlib/grpo.rlp', 'reward = correct', 0, 9]];
for (const [f, n, k, d] of comps) { const p = posOf(f, n, k, d); const h: any = await c.at('textDocument/completion', f, p.line, p.character); console.log('COMP', f, JSON.stringify(n), d, h.length, JSON.stringify(h.slice(0, 4).map((x: any) => [x.label, x.detail]))); }
const sig: any = await c.at('textDocument/signatureHelp', 'stdlib/grpo.rlp', posOf('stdlib/grpo.rlp', 'clip_low, clip_high)', 0, 0).line, posOf('stdlib/grpo.rlp', 'clip_low, clip_high)', 0, 0).character);
console.log('SIG', JSON.stringify(sig));
const sym: any = await c.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: 'file://' + process.cwd() + '/stdlib/dr_grpo.rlp' } });
console.log('SYM', JSON.stringify(sym).slice(0, 400));
const tok: any = await c.conn.sendRequest('textDocument/semanticTokens/full', { textDocument: { uri: 'file://' + process.cwd() + '/stdlib/dr_grpo.rlp' } });
console.log('TOK', JSON.stringify(tok).slice(0, 300));
await c.stop();
