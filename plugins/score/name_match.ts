/**
 * Does a business name match its domain? Compares the domain's first label with the name's
 * letters (accents folded, also as German ae/oe/ue, legal forms and filler words dropped).
 * @module
 */

const STOP = new Set([
  "the",
  "and",
  "und",
  "et",
  "y",
  "en",
  "e",
  "de",
  "der",
  "die",
  "das",
  "la",
  "le",
  "les",
  "el",
  "los",
  "van",
  "von",
  "du",
  "des",
  "of",
  "gmbh",
  "ag",
  "kg",
  "ug",
  "ltd",
  "llc",
  "inc",
  "bv",
  "sarl",
  "sas",
  "sa",
  "sl",
  "srl",
  "lda",
  "co",
  "company",
  "mbh",
  "ohg",
  "ek",
  "plc",
  "nv",
]);

function fold(s: string, german: boolean): string {
  let t = s.toLowerCase().replace(/ß/g, "ss");
  if (german) t = t.replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue");
  return t.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
}

/** True when the domain's registrable label contains the name's distinctive words (or vice versa). */
export function nameMatchesDomain(name: string, domain: string): boolean {
  const label = fold(domain.split(".")[0] ?? "", false).replace(/[^a-z0-9]/g, "");
  if (label.length < 3) return false;
  return matches(fold(name, false), label) || matches(fold(name, true), label);
}

function matches(name: string, label: string): boolean {
  const words = name.split(/[^a-z0-9]+/).filter((w) => w.length >= 3 && !STOP.has(w));
  if (words.length === 0) return false;
  const joined = words.join("");
  if (label.includes(joined) || (joined.length >= 4 && joined.includes(label))) return true;
  const hits = words.filter((w) => label.includes(w)).length;
  return hits > 0 && hits >= Math.ceil(words.length / 2);
}
