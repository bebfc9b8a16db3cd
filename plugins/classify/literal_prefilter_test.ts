import assert from "node:assert/strict";
import { foldCase, LiteralIndex, mayMatch, requiredLiterals } from "./literal_prefilter.ts";
import { defaultSignatures } from "./signatures.ts";
import { pageView } from "./page_view.ts";
import { response } from "./test_support.ts";
import { generateWorld } from "../../testing/world.ts";
import { renderPage } from "../../testing/web_site.ts";

Deno.test("requiredLiterals: runs, groups, alternatives, optional and repeated parts", () => {
  const cases: [string, string[] | undefined][] = [
    ["coming soon", ["coming soon"]],
    ["Coming Soon", ["coming soon"]],
    ["coming|soon", ["soon", "coming"]],
    ["(domain|site) (is|was) parked|parking page", [" parked", "parking page"]],
    // An optional or repeatable part ends a run; the longest run stands for the sequence.
    ["sales? team", [" team"]],
    ["ab+cdef", ["cdef"]],
    ["web ?site", ["site"]],
    ["(?:www\\.)?example\\.com", ["example.com"]],
    ["a(?:bc)*defg", ["defg"]],
    ["(x|yy){2}zz", ["zz"]],
    // A group of literals is a candidate when it narrows more than the runs beside it.
    ["(for sale|available for purchase) x", ["for sale", "available for purchase"]],
    // A literal that holds another is redundant: finding the shorter is enough.
    ["domain|domain name|domains", ["domain"]],
    // Lookarounds, anchors and word boundaries match no text: they end runs.
    ["(?<!\\p{L})seite(?!\\p{L})", ["seite"]],
    ["^em breve$", ["em breve"]],
    ["foo\\bbar", ["foo"]],
    ["(?<name>abc)d", ["abc"]],
    // Escapes: syntax characters stand for themselves, classes do not.
    ["lander\\/index\\.html", ["lander/index.html"]],
    ["\\u00e9t\\u{e9}", ["été"]],
    ["\\x41BC", ["abc"]],
    ["\\d+ items", [" items"]],
    ["[ab]cd", ["cd"]],
    ["a[\\]x]bcd", ["bcd"]],
    ["\\p{L}+", undefined],
    [".*", undefined],
    ["abc|\\d+", undefined],
    ["(abc)?", undefined],
    ["x?", undefined],
    // Astral characters are one character of a run.
    ["😀ok", ["😀ok"]],
    // Folding: final sigma and long s as the i flag compares them.
    ["ΠΩΛΕΊΤΑΙ", ["πωλείται"]],
    ["λογαριασμός", ["λογαριασμόσ"]],
  ];
  for (const [src, want] of cases) {
    const got = requiredLiterals(src);
    assert.deepEqual(
      got && [...got].sort(),
      want && [...want].sort(),
      `/${src}/ requires ${JSON.stringify(want)}`,
    );
    // Every source here is a valid pattern.
    new RegExp(src, "iu");
  }
  assert.throws(() => requiredLiterals("(abc"), /unterminated group/);
  assert.throws(() => requiredLiterals("abc)"), /unexpected "\)"/);
  assert.throws(() => requiredLiterals("[abc"), /unterminated character class/);
});

Deno.test("foldCase: two characters the i flag takes for the same fold alike (every cased code point)", () => {
  // Every code point with a case mapping, and with it what it is equivalent to: a member of an
  // equivalence class the fold table misses (ſ ~ s, ς ~ σ, …) shows up as two folds for one class.
  const cased: string[] = [];
  const caseless: string[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    (c.toLowerCase() !== c || c.toUpperCase() !== c ? cased : caseless).push(c);
  }
  assert.ok(cased.length > 2500, `${cased.length} cased code points`);
  const all = cased.join("");
  const escape = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
  // A code point without case mappings that the i flag still takes for a cased one would be
  // missed below: there is none.
  const anyCased = new RegExp(`^[${cased.map(escape).join("")}]$`, "iu");
  assert.ok(anyCased.test("a") && anyCased.test("\u212a") && !anyCased.test("1"));
  assert.deepEqual(caseless.filter((c) => anyCased.test(c)), []);
  const wrong: string[] = [];
  for (const c of cased) {
    for (const m of all.matchAll(new RegExp(escape(c), "giu"))) {
      if (foldCase(m[0]) !== foldCase(c)) {
        wrong.push(`${c} (U+${c.codePointAt(0)!.toString(16)}) ~ ${m[0]}`);
      }
    }
  }
  assert.deepEqual(wrong, [], "pairs the i flag matches but foldCase folds apart");
  // And the fold of a whole text is the fold of its characters (final sigma included).
  assert.equal(foldCase("ΛΟΓΑΡΙΑΣΜΌΣ ΈΛΗΞΕ"), "λογαριασμόσ έληξε");
  assert.equal(foldCase("Paſſwort"), "passwort");
});

Deno.test("LiteralIndex finds every literal a text holds, overlapping ones included", () => {
  const index = new LiteralIndex([
    "domain",
    "domain parking ",
    "main",
    "parking",
    "omain p",
    "king page",
    "absent",
    "a.b",
    "[x]",
  ]);
  assert.deepEqual(
    [...index.found("the domain parking page")].sort(),
    ["domain", "domain parking ", "king page", "main", "omain p", "parking"],
  );
  // Literals are text, not patterns.
  assert.deepEqual([...index.found("a.b axb [x]")].sort(), ["[x]", "a.b"]);
  assert.deepEqual([...index.found("")], []);
  assert.deepEqual([...new LiteralIndex([]).found("domain")], []);
  assert.equal(mayMatch(undefined, new Set()), true);
  assert.equal(mayMatch(["x", "main"], index.found("domain")), true);
  assert.equal(mayMatch(["x", "absent"], index.found("domain")), false);
});

/** A small random pattern: literals, classes, groups, alternatives, quantifiers, lookarounds. */
function randomPattern(rand: () => number, depth = 0): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const branches = 1 + Math.floor(rand() * (depth ? 2 : 3));
  const out: string[] = [];
  for (let b = 0; b < branches; b++) {
    let seq = "";
    const terms = 1 + Math.floor(rand() * 5);
    for (let t = 0; t < terms; t++) {
      const r = rand();
      let atom: string;
      if (r < 0.55) atom = pick(["a", "b", "c", "A", "ß", "ſ", "σ", "Σ", "ς", " ", "\\.", "k"]);
      else if (r < 0.65) atom = pick(["[ab]", "\\w", ".", "\\p{L}", "\\s"]);
      else if (r < 0.8 && depth < 2) atom = `(${randomPattern(rand, depth + 1)})`;
      else if (r < 0.85 && depth < 2) atom = `(?:${randomPattern(rand, depth + 1)})`;
      else if (r < 0.9) atom = pick(["^", "$", "\\b", "(?!a)", "(?<=b)"]);
      else atom = pick(["a", "bc"]);
      const q = atom.length === 1 || atom.startsWith("(") || atom.startsWith("\\") ||
          atom.startsWith("[")
        ? pick(["", "", "", "?", "*", "+", "{2}", "{0,2}", "{1,3}?"])
        : "";
      // Quantified assertions are syntax errors in Unicode mode.
      seq += /^(\^|\$|\\b|\(\?[!<=])/.test(atom) ? atom : atom + q;
    }
    out.push(seq);
  }
  return out.join("|");
}

Deno.test("requiredLiterals: a random pattern that matches a random text always passes the prefilter", () => {
  let s = 7;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  const alphabet = [
    "a",
    "b",
    "c",
    "A",
    "B",
    "ß",
    "ẞ",
    "s",
    "S",
    "ſ",
    "σ",
    "Σ",
    "ς",
    " ",
    ".",
    "k",
    "K",
    "\u212a",
  ];
  let matched = 0, filtered = 0;
  for (let n = 0; n < 3000; n++) {
    const src = randomPattern(rand);
    let re: RegExp;
    try {
      re = new RegExp(src, "iu");
    } catch {
      continue;
    }
    const literals = requiredLiterals(src);
    // With literals of other patterns beside (the index finds overlapping ones).
    const index = new LiteralIndex([...(literals ?? []), "ab", "abc", "bc", "a", "ss", "σσ"]);
    for (let k = 0; k < 30; k++) {
      let text = "";
      const len = Math.floor(rand() * 12);
      for (let i = 0; i < len; i++) text += alphabet[Math.floor(rand() * alphabet.length)];
      const pass = mayMatch(literals, index.found(foldCase(text)));
      if (re.test(text)) {
        matched++;
        assert.ok(
          pass,
          `/${src}/iu matches ${JSON.stringify(text)} but ${JSON.stringify(literals)}`,
        );
      } else if (!pass) filtered++;
    }
  }
  // The test means something: many matches checked, and many texts ruled out without the pattern.
  assert.ok(matched > 5000, `${matched} matches`);
  assert.ok(filtered > 5000, `${filtered} texts ruled out`);
});

Deno.test("the shipped signatures: literals for most, and never a page they match ruled out", () => {
  const sigs = defaultSignatures();
  const withLiterals = [...sigs.phrases, ...sigs.pages].filter((p) => p.literals).length;
  assert.ok(
    withLiterals >= 0.8 * (sigs.phrases.length + sigs.pages.length),
    `${withLiterals} of ${sigs.phrases.length + sigs.pages.length} patterns have literals`,
  );
  // The simulated world's pages (every label, ten languages), as written and in other cases.
  const world = generateWorld({ size: 1500, seed: 99 });
  const pages: { html: string; headers: Record<string, string> }[] = [];
  for (const [host, site] of world.sites) {
    const info = { host, path: "/", url: "/", scheme: "https" as const, method: "GET" };
    const r = renderPage(site, info);
    if (r.body instanceof Uint8Array) {
      pages.push({ html: new TextDecoder().decode(r.body), headers: r.headers });
    }
  }
  assert.ok(pages.length > 1000, `${pages.length} pages`);
  let hits = 0;
  for (const { html: body, headers } of pages) {
    for (const html of [body, body.toUpperCase(), body.replace(/s/g, "ſ")]) {
      const page = pageView(response(html, { headers }));
      const wording = sigs.phraseLiterals.found(
        foldCase([...page.headlines, page.text].join("\n")),
      );
      for (const p of sigs.phrases) {
        if (page.headlines.some((h) => p.pattern.test(h)) || p.pattern.test(page.text)) {
          hits++;
          assert.ok(mayMatch(p.literals, wording), `${p.id} matches a page its literals rule out`);
        }
      }
      for (const s of sigs.pages) {
        const hay = s.where === "title"
          ? page.title
          : s.where === "text"
          ? page.text
          : s.where === "html"
          ? page.html
          : page.headers[s.where.slice("header:".length)] ?? "";
        if (s.pattern.test(hay)) {
          hits++;
          const found = sigs.pageLiterals.found(foldCase(hay));
          assert.ok(mayMatch(s.literals, found), `${s.id} matches a page it rules out`);
        }
      }
    }
  }
  assert.ok(hits > 1000, `${hits} pattern hits checked`);
});
