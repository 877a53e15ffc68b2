// Synthetic message text: made-up words drawn with a Zipf distribution, so word frequencies look
// like a language's, and how many messages hold each word (to pick search words by frequency).
import { VOCABULARY_SIZE, ZIPF_EXPONENT } from './options.js';
import { seededRandom } from '../support.js';
/** Consonant-vowel syllables only, so no word can collide with the English of the posted text. */
export function makeVocabulary(size: number, random: () => number): string[] {
  const consonants = 'bdfgklmnprstvz';
  const vowels = 'aeiou';
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 2 + Math.floor(random() * 3);
    let word = '';
    for (let s = 0; s < syllables; s++) {
      word += consonants[Math.floor(random() * consonants.length)]!;
      word += vowels[Math.floor(random() * vowels.length)]!;
    }
    words.add(word);
  }
  return [...words];
}

export class TextGenerator {
  readonly words: string[];
  /** Documents (messages) each word appears in, subject or body, over everything generated. */
  readonly docFreq: Uint32Array;
  docs = 0;
  private readonly random: () => number;
  private readonly cdf: Float64Array;
  private readonly lastDoc: Int32Array;

  constructor(seed: number) {
    this.random = seededRandom(seed);
    this.words = makeVocabulary(VOCABULARY_SIZE, this.random);
    this.cdf = new Float64Array(VOCABULARY_SIZE);
    let total = 0;
    for (let rank = 0; rank < VOCABULARY_SIZE; rank++) {
      total += 1 / (rank + 1) ** ZIPF_EXPONENT;
      this.cdf[rank] = total;
    }
    for (let rank = 0; rank < VOCABULARY_SIZE; rank++) this.cdf[rank]! /= total;
    this.docFreq = new Uint32Array(VOCABULARY_SIZE);
    this.lastDoc = new Int32Array(VOCABULARY_SIZE).fill(-1);
  }

  private word(): string {
    const x = this.random();
    let lo = 0;
    let hi = VOCABULARY_SIZE - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    if (this.lastDoc[lo] !== this.docs) {
      this.lastDoc[lo] = this.docs;
      this.docFreq[lo]!++;
    }
    return this.words[lo]!;
  }

  private between(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  /** A message: a 3–7 word subject, a body of 2–4 sentences of 5–12 words. */
  message(): { subject: string; body: string } {
    const subjectWords = Array.from({ length: this.between(3, 7) }, () => this.word());
    const sentences = Array.from({ length: this.between(2, 4) }, () => {
      const words = Array.from({ length: this.between(5, 12) }, () => this.word());
      return `${words.join(' ')}.`;
    });
    this.docs++;
    return { subject: subjectWords.join(' '), body: sentences.join(' ') };
  }
}
