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

/** Lower case, ß as ss, accents folded; with `german`, ä/ö/ü as ae/oe/ue first. */
export function foldName(s: string, german = false): string {
  let t = s.toLowerCase().replace(/ß/g, "ss");
  if (german) t = t.replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue");
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
