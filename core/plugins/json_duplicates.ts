/**
 * Whether a JSON text names a member twice in one object (`{"a":1,"a":2}`), which `JSON.parse`
 * accepts silently (the last one wins): a manifest could then show a reader one permission and
 * give the plugin another. A scan of the text, without building a document: a YAML parse for
 * the same answer cost ~50 ms of every `sluice` command's start over the builtin manifests.
 * @module
 */

const BACKSLASH = 0x5c;
const QUOTE = 0x22;

/** Index just past the string whose opening quote is at `at` (the text is valid JSON). */
function stringEnd(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++;
  }
  return text.length;
}

/**
 * True when some object of `text` has two members of the same name (after escapes: `"a"` and
 * `"\u0061"` are one name). `text` must be valid JSON (parse it first); for anything else the
 * answer means nothing.
 */
export function hasDuplicateKey(text: string): boolean {
  /** Per open container: the member names seen (objects) or null (arrays). */
  const stack: (Set<string> | null)[] = [];
  /** In an object, the next string is a member's name (after `{` or `,`). */
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (expectName) {
        const token = text.slice(i, end);
        const name = token.includes("\\") ? JSON.parse(token) as string : token.slice(1, -1);
        const names = stack[stack.length - 1]!;
        if (names.has(name)) return true;
        names.add(name);
        expectName = false;
      }
      i = end - 1;
    } else if (c === 0x7b) { // {
      stack.push(new Set());
      expectName = true;
    } else if (c === 0x5b) { // [
      stack.push(null);
      expectName = false;
    } else if (c === 0x7d || c === 0x5d) { // } ]
      stack.pop();
      expectName = false;
    } else if (c === 0x2c) { // ,
      expectName = stack.length > 0 && stack[stack.length - 1] !== null;
    }
  }
  return false;
}
