/**
 * Does a business name match its domain? Compares the domain's first label with the name's
 * letters (accents folded, also as German ae/oe/ue, legal forms and filler words dropped).
 * @module
 */
import { foldName, nameWords } from "@sluice/sdk/text/business_name.ts";

/** True when the domain's registrable label contains the name's distinctive words (or vice versa). */
export function nameMatchesDomain(name: string, domain: string): boolean {
  const label = foldName(domain.split(".")[0] ?? "").replace(/[^a-z0-9]/g, "");
  if (label.length < 3) return false;
  return matches(nameWords(name, { minLength: 3 }), label) ||
    matches(nameWords(name, { german: true, minLength: 3 }), label);
}

function matches(words: string[], label: string): boolean {
  if (words.length === 0) return false;
  const joined = words.join("");
  if (label.includes(joined) || (joined.length >= 4 && joined.includes(label))) return true;
  const hits = words.filter((w) => label.includes(w)).length;
  return hits > 0 && hits >= Math.ceil(words.length / 2);
}
