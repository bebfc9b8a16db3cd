/**
 * Business names as plugins compare them: accents folded, legal forms (GmbH, Ltd, SARL…) and
 * filler words (the, und, de…) dropped. Shared by the scoring and search-verification plugins.
 * @module
 */

/** Legal forms and filler words that say nothing about which business it is. */
export const NAME_STOP_WORDS: ReadonlySet<string> = new Set([
  ..."the and und et y en e de der die das la le les el los van von du des of".split(" "),
  ..."gmbh ag kg ug ltd llc inc bv sarl sas sa sl srl lda co company mbh ohg ek plc nv".split(" "),
]);

/** Letters NFKD does not take apart: their plain spellings. */
const UNDECOMPOSED: Record<string, string> = {
  "ø": "o",
  "æ": "ae",
  "œ": "oe",
  "ł": "l",
  "đ": "d",
  "ð": "d",
  "þ": "th",
  "ı": "i",
};

/**
 * Lower case, ß as ss, accents folded (also ø, æ, œ, ł, đ); with `german`, ä/ö/ü as ae/oe/ue
 * first. Text in decomposed form (`u` + combining diaeresis, as macOS and scraped pages give it)
 * folds like the composed one.
 */
export function foldName(s: string, german = false): string {
  let t = s.normalize("NFC").toLowerCase().replace(/ß/g, "ss");
  if (german) t = t.replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue");
  t = t.replace(/[øæœłđðþı]/g, (c) => UNDECOMPOSED[c]);
  return t.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
}

/** Distinctive words of a business name (at least `minLength` letters). */
export function nameWords(
  name: string,
  opts: { german?: boolean; minLength?: number } = {},
): string[] {
  return foldName(name, opts.german).split(/[^a-z0-9]+/)
    .filter((w) => w.length >= (opts.minLength ?? 2) && !NAME_STOP_WORDS.has(w));
}
