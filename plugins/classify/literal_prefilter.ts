/**
 * A cheap first test for the signature patterns. Most pages match none of the ~180 wording and
 * page patterns, and running each one (on the title, every headline and the text) cost most of
 * classify's time: a call per pattern and haystack, not the scanning. A pattern cannot match a
 * text that lacks every one of its required literals ({@linkcode requiredLiterals}: for
 * `(domain|site) (is|was) parked|parking page`, `" parked"` or `"parking page"`), and looking for
 * those in the case-folded text ({@linkcode foldCase}) takes a fraction of that. A pattern whose
 * literals are all missing is skipped; the others run as before, so the verdicts stay the same.
 * @module
 */

/**
 * Letters whose lower case is not what the `i` flag compares them as (Unicode simple case folding,
 * CaseFolding.txt entries whose folding differs from the lower case): `ſ` matches `s`, `ς` matches
 * `σ`, `µ` matches `μ`, … `literal_prefilter_test.ts` checks every code point against this table.
 */
const FOLD_EXTRA: Record<string, string> = {
  "\u00b5": "\u03bc", // micro sign -> mu
  "\u017f": "s", // long s
  "\u0345": "\u03b9", // combining ypogegrammeni -> iota
  "\u03c2": "\u03c3", // final sigma -> sigma
  "\u03d0": "\u03b2", // beta symbol
  "\u03d1": "\u03b8", // theta symbol
  "\u03d5": "\u03c6", // phi symbol
  "\u03d6": "\u03c0", // pi symbol
  "\u03f0": "\u03ba", // kappa symbol
  "\u03f1": "\u03c1", // rho symbol
  "\u03f5": "\u03b5", // lunate epsilon symbol
  "\u1c80": "\u0432", // Cyrillic rounded ve
  "\u1c81": "\u0434", // Cyrillic long-legged de
  "\u1c82": "\u043e", // Cyrillic narrow o
  "\u1c83": "\u0441", // Cyrillic wide es
  "\u1c84": "\u0442", // Cyrillic tall te
  "\u1c85": "\u0442", // Cyrillic three-legged te
  "\u1c86": "\u044a", // Cyrillic tall hard sign
  "\u1c87": "\u0463", // Cyrillic tall yat
  "\u1c88": "\ua64b", // Cyrillic unblended uk
  "\u1e9b": "\u1e61", // long s with dot above
  "\u1fbe": "\u03b9", // Greek prosgegrammeni -> iota
  "\u1fd3": "\u0390", // iota with dialytika and oxia -> with tonos
  "\u1fe3": "\u03b0", // upsilon with dialytika and oxia -> with tonos
  "\ufb05": "\ufb06", // long s t ligature -> s t ligature
};
const FOLD_EXTRA_RE = new RegExp(`[${Object.keys(FOLD_EXTRA).join("")}]`, "g");

/**
 * `text` case-folded for {@linkcode requiredLiterals}: lower case, and the letters of
 * {@linkcode FOLD_EXTRA} as what they fold to. Two strings a pattern with the `i` flag takes for
 * the same have the same fold, so a literal found by a case-sensitive `includes` in the fold is
 * found whatever the case of the page.
 */
export function foldCase(text: string): string {
  const low = text.toLowerCase();
  FOLD_EXTRA_RE.lastIndex = 0;
  return FOLD_EXTRA_RE.test(low) ? low.replace(FOLD_EXTRA_RE, (c) => FOLD_EXTRA[c]) : low;
}

/** An atom of a pattern as far as required text goes. */
type Atom =
  | { kind: "char"; ch: string }
  | { kind: "group"; req: string[] | undefined }
  | { kind: "assertion" }
  | { kind: "other" };

/** Reads a pattern's source (Unicode mode), left to right. */
class Reader {
  i = 0;
  constructor(readonly src: string) {}

  get done(): boolean {
    return this.i >= this.src.length;
  }

  peek(k = 0): string {
    return this.src[this.i + k] ?? "";
  }

  fail(what: string): never {
    throw new SyntaxError(`${what} at ${this.i} of /${this.src}/`);
  }
}

/**
 * The literals a match of the pattern must contain one of (case-folded with
 * {@linkcode foldCase}), or undefined when no such list can be told (a branch made only of
 * classes, `.` or optional parts). Sound for any pattern: a text in whose fold none of them
 * occurs cannot match. Understands the Unicode-mode syntax (`u` flag); throws a `SyntaxError` on
 * other source.
 */
export function requiredLiterals(source: string): string[] | undefined {
  const r = new Reader(source);
  const req = disjunction(r);
  if (!r.done) r.fail(`unexpected "${r.peek()}"`);
  return req;
}

/** Alternatives: each must bring its own literals, else none can be required. */
function disjunction(r: Reader): string[] | undefined {
  const branches = [alternative(r)];
  while (r.peek() === "|") {
    r.i++;
    branches.push(alternative(r));
  }
  if (branches.some((b) => b === undefined)) return undefined;
  return minimal(branches.flat() as string[]);
}

/**
 * A sequence of terms: runs of literal characters each must appear, and so must one of the
 * literals of each group it cannot skip; the most selective of these stands for the sequence.
 */
function alternative(r: Reader): string[] | undefined {
  let best: string[] | undefined;
  let run = "";
  const offer = (req: string[] | undefined) => {
    if (req && req.length > 0 && better(req, best)) best = req;
  };
  const endRun = () => {
    if (run) offer([foldCase(run)]);
    run = "";
  };
  while (!r.done && r.peek() !== "|" && r.peek() !== ")") {
    const a = atom(r);
    const q = quantifier(r);
    const min = q?.min ?? 1;
    if (a.kind === "char" && min > 0) {
      run += a.ch;
      // A repeated character: what comes after it is not next to this run for sure.
      if (q) endRun();
      continue;
    }
    endRun();
    if (a.kind === "group" && min > 0) offer(a.req);
  }
  endRun();
  return best;
}

/** True when `a` narrows more than `b`: longer shortest literal, then fewer literals. */
function better(a: string[], b: string[] | undefined): boolean {
  if (!b) return true;
  const la = Math.min(...a.map((s) => s.length));
  const lb = Math.min(...b.map((s) => s.length));
  return la !== lb ? la > lb : a.length < b.length;
}

/** Drops literals that contain another one of the list: finding that one is enough. */
function minimal(list: string[]): string[] {
  const uniq = [...new Set(list)].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const s of uniq) if (!kept.some((k) => s.includes(k))) kept.push(s);
  return kept;
}

function atom(r: Reader): Atom {
  const c = r.peek();
  r.i++;
  switch (c) {
    case "^":
    case "$":
      return { kind: "assertion" };
    case ".":
      return { kind: "other" };
    case "[":
      skipClass(r);
      return { kind: "other" };
    case "(":
      return group(r);
    case "\\":
      return escape(r);
    case "*":
    case "+":
    case "?":
    case "{":
    case "}":
    case "]":
    case ")":
    case "|":
      return r.fail(`unexpected "${c}"`);
  }
  // A code point, not half of a surrogate pair.
  const cp = r.src.codePointAt(r.i - 1)!;
  if (cp > 0xffff) r.i++;
  return { kind: "char", ch: String.fromCodePoint(cp) };
}

function group(r: Reader): Atom {
  let lookaround = false;
  if (r.peek() === "?") {
    const next = r.peek(1);
    if (next === "=" || next === "!") {
      lookaround = true;
      r.i += 2;
    } else if (next === "<" && (r.peek(2) === "=" || r.peek(2) === "!")) {
      lookaround = true;
      r.i += 3;
    } else if (next === "<") {
      const end = r.src.indexOf(">", r.i);
      if (end < 0) r.fail("unterminated group name");
      r.i = end + 1;
    } else if (next === ":") r.i += 2;
    else r.fail(`unknown group "(?${next}"`);
  }
  const req = disjunction(r);
  if (r.peek() !== ")") r.fail("unterminated group");
  r.i++;
  // A lookaround matches no text of its own.
  return lookaround ? { kind: "assertion" } : { kind: "group", req };
}

function escape(r: Reader): Atom {
  const c = r.peek();
  r.i++;
  switch (c) {
    case "b":
    case "B":
      return { kind: "assertion" };
    case "p":
    case "P":
    case "k": {
      const close = c === "k" ? ">" : "}";
      const end = r.src.indexOf(close, r.i);
      if (end < 0) r.fail(`unterminated \\${c}`);
      r.i = end + 1;
      return { kind: "other" };
    }
    case "x": {
      const hex = r.src.slice(r.i, r.i + 2);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) r.fail("bad \\x escape");
      r.i += 2;
      return { kind: "char", ch: String.fromCodePoint(parseInt(hex, 16)) };
    }
    case "u": {
      const m = /^\{([0-9a-fA-F]+)\}|^([0-9a-fA-F]{4})/.exec(r.src.slice(r.i));
      if (!m) r.fail("bad \\u escape");
      r.i += m[0].length;
      return { kind: "char", ch: String.fromCodePoint(parseInt(m[1] ?? m[2], 16)) };
    }
    case "c":
      r.i++;
      return { kind: "other" };
    case "":
      return r.fail("pattern ends in a backslash");
  }
  // \d \w \s, their negations, \t \n and the like, \0 and back references: not a literal here.
  if (/[0-9a-zA-Z]/.test(c)) return { kind: "other" };
  // An escaped syntax character (\. \/ \( …) stands for itself.
  return { kind: "char", ch: c };
}

/** Skips a character class; the reader stands after its `]`. */
function skipClass(r: Reader): void {
  while (!r.done) {
    const c = r.peek();
    r.i++;
    if (c === "\\") r.i++;
    else if (c === "]") return;
  }
  r.fail("unterminated character class");
}

/** The quantifier after an atom, if any (a lazy `?` after it is read too). */
function quantifier(r: Reader): { min: number } | undefined {
  const c = r.peek();
  let min: number;
  if (c === "*" || c === "?") min = 0;
  else if (c === "+") min = 1;
  else if (c === "{") {
    const m = /^\{(\d+)(,\d*)?\}/.exec(r.src.slice(r.i));
    if (!m) r.fail("bad {n,m} quantifier");
    min = Number(m[1]);
    r.i += m[0].length - 1;
  } else return undefined;
  r.i++;
  if (r.peek() === "?") r.i++;
  return { min };
}

/**
 * Finds which of many literals a folded text holds in one scan (a call of `includes` per literal
 * cost more than the patterns it spares). The scan asks at each position for the longest literal
 * starting there, and the next search starts one character on; a shorter literal starting at the
 * same position is a prefix of the one found (the prefixes of each are worked out once here).
 */
export class LiteralIndex {
  #scan: RegExp | undefined;
  /** Each literal with the literals it starts with (itself included). */
  #prefixes = new Map<string, string[]>();

  /** An index of these literals (already folded, as {@linkcode requiredLiterals} gives them). */
  constructor(literals: Iterable<string>) {
    const list = [...new Set(literals)].filter((l) => l !== "")
      .sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    for (const l of list) this.#prefixes.set(l, list.filter((o) => l.startsWith(o)));
    const escaped = list.map((l) => l.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&"));
    // Longest first: an alternation takes the first alternative that matches at a position.
    if (list.length > 0) this.#scan = new RegExp(escaped.join("|"), "g");
  }

  /** The literals of this index that `folded` holds. */
  found(folded: string): Set<string> {
    const out = new Set<string>();
    if (!this.#scan) return out;
    const scan = this.#scan;
    scan.lastIndex = 0;
    for (let m = scan.exec(folded); m; m = scan.exec(folded)) {
      // The next search starts one character on: literals overlapping this one are found too.
      scan.lastIndex = m.index + 1;
      if (out.has(m[0])) continue;
      for (const l of this.#prefixes.get(m[0])!) out.add(l);
    }
    return out;
  }
}

/** True unless `found` lacks every one of `literals` (no literals: always true). */
export function mayMatch(
  literals: readonly string[] | undefined,
  found: ReadonlySet<string>,
): boolean {
  if (!literals) return true;
  for (const l of literals) if (found.has(l)) return true;
  return false;
}
