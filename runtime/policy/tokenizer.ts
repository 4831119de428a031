/**
 * The character tokenizer shipped with rlp: three special tokens and the characters the built-in
 * tasks and most small verifiable tasks need. Fixed, so checkpoints stay compatible.
 */

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;

const CHARS = ' 0123456789+-*/=:,.()<>abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ?!\'"_#';

/** A character that the tokenizer cannot encode. */
export class UnknownCharacter extends Error {
  constructor(
    readonly char: string,
    readonly index: number,
  ) {
    super(`the character ${JSON.stringify(char)} at index ${index} is not in rlp's character vocabulary`);
    this.name = 'UnknownCharacter';
  }
}

/** Encode and decode text as token ids. */
export interface Tokenizer {
  readonly vocabSize: number;
  encode(text: string): Int32Array;
  /** Decode ids, stopping at EOS and skipping PAD/BOS. */
  decode(ids: ArrayLike<number>): string;
}

/** The character tokenizer. */
export function charTokenizer(): Tokenizer {
  const index = new Map<string, number>([...CHARS].map((c, i) => [c, i + 3]));
  return {
    vocabSize: CHARS.length + 3,
    encode(text) {
      return Int32Array.from([...text], (c, i) => {
        const id = index.get(c);
        if (id === undefined) throw new UnknownCharacter(c, i);
        return id;
      });
    },
    decode(ids) {
      let out = '';
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (id === EOS) break;
        if (id === PAD || id === BOS) continue;
        out += CHARS[id - 3] ?? '';
      }
      return out;
    },
  };
}
