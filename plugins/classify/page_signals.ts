/**
 * Signals read from the final page: fingerprints (challenges, default server pages, unclaimed
 * platform pages, suspended pages, JavaScript parking landers), wording (parking, sale,
 * placeholder, suspended; strong phrases or weak-and-weak pairs), thin or empty content, and
 * redirects written into the page (meta refresh, script).
 * @module
 */
import { countWords, type PageView, subheadTexts } from "./page_view.ts";
import type { Phrase, Signatures } from "./signatures.ts";
import { foldCase, mayMatch } from "./literal_prefilter.ts";
import type { Signal } from "./types.ts";

const clip = (s: string, n = 80) => (s.length > n ? s.slice(0, n - 1) + "…" : s);

/** A character of a space-separated word (scripts written without spaces do not count). */
const WORD_CHAR = /(?![\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Thai}])[\p{L}\p{N}\p{M}]/u;
/** Most characters an excerpt grows by to end its sentence (a clause, not a paragraph). */
const SENTENCE_REACH = 60;

/**
 * The text of a match for evidence a person reads: grown to whole words (a pattern may match a
 * word stem: `estacionad` of `estacionado`) and on to the end of its sentence when that is near
 * (`owner has not put` -> `owner has not put any content here yet`).
 */
export function excerpt(text: string, re: RegExp): string | undefined {
  const m = re.exec(text);
  if (!m) return undefined;
  let start = m.index;
  let end = m.index + m[0].length;
  // Whole words, within a few characters.
  const reach = 24;
  let s = start;
  while (s > 0 && start - s < reach && WORD_CHAR.test(text[s - 1]) && WORD_CHAR.test(text[s])) s--;
  if (s === 0 || !WORD_CHAR.test(text[s - 1])) start = s;
  let e = end;
  while (
    e < text.length && e - end < reach && WORD_CHAR.test(text[e]) && WORD_CHAR.test(text[e - 1])
  ) {
    e++;
  }
  if (e === text.length || !WORD_CHAR.test(text[e])) end = e;
  // The rest of the sentence, when it ends soon: the words after a phrase finish what it says.
  const rest = text.slice(end, end + SENTENCE_REACH + 1);
  const stop = rest.search(/[.!?。！？\n]|$/);
  if (stop > 0 && stop <= SENTENCE_REACH && /^\s/.test(rest)) end += stop;
  return clip(text.slice(start, end).replace(/\s+/g, " ").trim());
}

/** Fingerprint signals (every match is strong). One signal per signal id, first match wins. */
export function fingerprintSignals(page: PageView, sigs: Signatures): Signal[] {
  const seen = new Set<string>();
  const out: Signal[] = [];
  // The literals in each part of the page a pattern looks at (see literal_prefilter.ts).
  const found = new Map<string, Set<string>>();
  for (const s of sigs.pages) {
    if (seen.has(s.signal)) continue;
    let hay: string;
    if (s.where === "title") hay = page.title;
    else if (s.where === "text") hay = page.text;
    else if (s.where === "html") hay = page.html;
    else hay = page.headers[s.where.slice("header:".length)] ?? "";
    if (!hay) continue;
    // Most patterns' literals are missing from most pages: then the pattern cannot match.
    if (s.literals) {
      let inHay = found.get(s.where);
      if (!inHay) found.set(s.where, inHay = sigs.pageLiterals.found(foldCase(hay)));
      if (!mayMatch(s.literals, inHay)) continue;
    }
    const hit = excerpt(hay, s.pattern);
    if (hit === undefined) continue;
    seen.add(s.signal);
    out.push({
      id: s.signal,
      status: s.status,
      strength: "strong",
      evidence: `${s.service}: ${s.where} matches "${hit}" (${s.id})`,
      source: s.source,
    });
  }
  return out;
}

/** Wording hit: which phrase, where and whether it was in a headline. */
interface WordingHit {
  phrase: Phrase;
  match: string;
  inHeadline: boolean;
  /**
   * True when the phrase is all of a segment (one other word at most) of a headline that speaks
   * for the page: the title, or its only h1 (see {@linkcode SUBSTANTIVE_SLACK}).
   */
  mainHeadlineIsPhrase: boolean;
  /** True when it is about the site itself (see {@linkcode SHORT_PAGE_WORDS}). */
  aboutSite: boolean;
}

/** Separators between the parts of a title or headline: `Name | Coming soon`, `Shop: …`. */
const HEADLINE_PARTS = /\s[|–—·•-]\s|\s*[|–—·•]\s+|\s*\|\s*/;
/** Words (with a letter) a headline segment may have besides the phrase and still be about it. */
const HEADLINE_SLACK = 2;

/**
 * True when the phrase makes up its headline segment: at most {@linkcode HEADLINE_SLACK} other
 * words in it. "Coming soon" and "Harbor Bakery – Website coming soon" are about the site; "Our
 * new online shop is coming soon" announces something on a site that exists. After a colon only
 * the last part counts: "Harbor Bakery: coming soon" is about the site, while "Coming soon:
 * online booking" introduces what is coming.
 */
export function phraseIsHeadline(
  headline: string,
  pattern: RegExp,
  slack: number = HEADLINE_SLACK,
): boolean {
  for (const seg of segmentsWith(headline, pattern)) if (seg.rest <= slack) return true;
  return false;
}

/**
 * The segments of a heading the pattern matches in, split at separators and, within a part,
 * after its last colon; `rest`: the words (with a letter) beside the match.
 */
function* segmentsWith(heading: string, re: RegExp): Generator<{ part: string; rest: number }> {
  for (const whole of heading.split(HEADLINE_PARTS)) {
    const part = whole.split(":").map((x) => x.trim()).filter(Boolean).at(-1) ?? "";
    const m = re.exec(part);
    if (!m) continue;
    const rest = (part.slice(0, m.index) + " " + part.slice(m.index + m[0].length))
      .split(/\s+/).filter((w) => /\p{L}/u.test(w)).length;
    yield { part, rest };
  }
}

/**
 * On a page with business substance a headline decides only when it speaks for the whole page:
 * the title, or the page's one h1 (several h1s are a site's sections: a cinema's "Coming soon",
 * a builder's "Under construction" projects), with at most one other word beside the phrase
 * ("Website coming soon", not "New menu coming soon" or "Now showing & coming soon").
 */
const SUBSTANTIVE_SLACK = 1;

/**
 * On a page shorter than this (words), contact details do not outweigh a notice about the site
 * itself: a placeholder that gives the business's phone and address ("Unsere neue Website ist bald
 * online" as its h2), or a hoster's suspended page with its own contact block ("This account has
 * been suspended"). There such wording decides (see {@linkcode aboutSite}) in a heading segment
 * that is the notice and names the website ({@linkcode WEBSITE}), or in a sentence that starts by
 * pointing at this very site ({@linkcode THIS_SITE}, or the domain's own name), or in a sentence
 * about "our website" when little else is on the page ({@linkcode NOTICE_REST_WORDS}). Words that
 * also mean other things do not count: a wine "domaine", an Italian flat "sito a Monza", a
 * builder's "site", a gallery "Seite", "this page" of a menu.
 */
const SHORT_PAGE_WORDS = 60;

/** Words that only mean the website. */
const WEBSITE_WORDS =
  "web ?site|home ?page|webseite|internetseite|internetpräsenz|internetauftritt|hemsida|" +
  "hemsidan|webbplatsen|hjemmesiden|nettsiden|nettstedet|" +
  "webbplats|hjemmeside|nettside|nettsted|verkkosivu\\p{L}*|kotisivu\\p{L}*|sivusto|" +
  "strona internetowa|witryna|webov[áé] str[áa]nk[ay]|weboldal|honlap|ιστοσελίδα|ιστότοπο\\p{L}*|" +
  "сайт\\p{L}*|sitio web|página web|site internet|site web|sito web|sito internet|webpagina|" +
  "website";
const WEBSITE = new RegExp(
  `(?<!\\p{L})(?:${WEBSITE_WORDS})(?!\\p{L})|ホームページ|网站|網站`,
  "iu",
);

/** A sentence that starts by pointing at this very site: "This site is under construction". */
const THIS_SITE = new RegExp(
  `(?<!\\p{L})(?:this (?:site|domain|account|${WEBSITE_WORDS})|diese[rs]? (?:domain|${WEBSITE_WORDS})|` +
    "ce (?:site|nom de domaine)|este (?:sitio|dominio|domínio)|esta página web|questo (?:sito|dominio)|" +
    "deze (?:website|site|domeinnaam)|dit domein|denna (?:webbplats|hemsida|domän)|" +
    "dette (?:domæne|domene|nettsted)|ta domena|tato doména)(?!\\p{L})",
  "iu",
);

/** "Our (new) website": a notice when the page holds little else. */
const OUR_WEBSITE = new RegExp(
  "(?<!\\p{L})(?:our|unsere?|vår|vores|vårt|nuestra|nuestro|notre|nostro|onze|nasza|nossa|nosso)" +
    "(?: \\p{L}+)? (?:" + WEBSITE_WORDS + ")(?!\\p{L})",
  "iu",
);

/**
 * A word that is often but not only the website, as the subject of a verb: "Notre site est en
 * construction", "Il sito è in costruzione", "nouveau site arrive bientôt" (not "site de Nantes",
 * "sito a Monza", "Seite im Aufbau" of a gallery).
 */
const SITE_VERB =
  /(?<!\p{L})(?:site|sito|sitio|seite|página|pagina) (?:est|sera|arrive|è|sarà|arriva|sta|está|estará|es|is|will|ist|wird|kommt)(?!\p{L})/iu;

/** A heading that starts with a word for the site: "Site en construction", "Sito in …". */
const SITE_FIRST = /^(?:site|sito|sitio|seite|página|pagina|web)(?!\p{L})/iu;

/** "The website …", "Il sito …", "Hemsidan …": the site speaking of itself. */
const THE_WEBSITE = new RegExp(
  "(?<!\\p{L})(?:the|die|das|der|le|la|il|lo|el|de|het|o|a)(?: \\p{L}+)? (?:site|sito|sitio|seite|" +
    "página|pagina|" + WEBSITE_WORDS +
    ")(?!\\p{L})|(?<!\\p{L})(?:hemsidan|webbplatsen|hjemmesiden|" +
    "nettsiden|nettstedet)(?!\\p{L})",
  "iu",
);

/**
 * Most words a short page may hold besides the "our website" notice sentence for it to be the
 * notice (a phone and e-mail line); a short business page that mentions its coming new site among
 * other sentences ("Vi bakar surdegsbröd varje morgon. Vår nya hemsida kommer snart.") holds more.
 */
const NOTICE_REST_WORDS = 12;

/** Words of the sentences of `text` that speak of the site itself ("Our website is …"). */
function siteSentenceWords(text: string): number {
  let n = 0;
  for (const sentence of text.split(/[.!?:。！？\n]+/)) {
    const lead = sentence.trim();
    if (OUR_WEBSITE.test(lead) || THIS_SITE.test(lead) || SITE_VERB.test(lead)) {
      n += countWords(lead);
    }
  }
  return n;
}

/** The sentence of `text` around the first match of `re`, and its part up to the match's end. */
function sentenceOf(text: string, re: RegExp): { sentence: string; lead: string } {
  const m = re.exec(text);
  if (!m) return { sentence: "", lead: "" };
  const before = text.slice(0, m.index);
  const start = Math.max(before.search(/[^.!?。！？\n]*$/), m.index - 120);
  const end = m.index + m[0].length;
  const after = text.slice(end, end + 120);
  // A colon ends it too: "…being updated, meanwhile here is our menu: …" introduces the rest.
  const stop = after.search(/[.!?:。！？\n]|$/);
  return { sentence: text.slice(start, end + stop), lead: text.slice(start, end) };
}

/** The first segment of a heading the pattern matches in (see {@linkcode segmentsWith}). */
function segmentWith(heading: string, re: RegExp): { part: string; rest: number } | undefined {
  for (const seg of segmentsWith(heading, re)) return seg;
  return undefined;
}

/** A page's h2 and h3 texts, read from its HTML only for the few pages that need them. */
const SUBHEADS = new WeakMap<PageView, string[]>();

/** The first heading (title, h1, h2, h3) the pattern matches, if any. */
function headingWith(page: PageView, re: RegExp): string | undefined {
  let subheads = SUBHEADS.get(page);
  if (!subheads) SUBHEADS.set(page, subheads = subheadTexts(page.html));
  return [...page.headlines, ...subheads].find((h) => re.test(h));
}

/**
 * See {@linkcode SHORT_PAGE_WORDS}. `hoster`: the wording is a hoster's or registrar's (suspended,
 * registered at), whose page carries the hoster's own contact block.
 */
function aboutSite(page: PageView, re: RegExp, hoster: boolean): boolean {
  const heading = headingWith(page, re);
  if (heading !== undefined) {
    // "Unsere neue Website ist bald online": the segment is the notice and names the website.
    // A heading decides alone ("Our new website shop: coming soon" speaks of the shop).
    const seg = segmentWith(heading, re);
    if (
      seg !== undefined && seg.rest <= 4 && (WEBSITE.test(seg.part) || SITE_VERB.test(seg.part))
    ) {
      return true;
    }
    // A heading that is nothing but the notice: "Sito in costruzione" (not "Galerie – Seite im
    // Aufbau", a section of a page).
    if (seg?.rest === 0 && seg.part === heading.trim() && SITE_FIRST.test(seg.part)) return true;
    if (!hoster) return false;
  }
  const { sentence, lead } = sentenceOf(page.text, re);
  // "Die Domain zahnarzt-klein.de wurde über STRATO registriert": the page names its own domain.
  const own = page.host.toLowerCase().replace(/^www\./, "");
  if (own !== "" && sentence.toLowerCase().includes(own)) return true;
  if (hoster && THIS_SITE.test(lead)) return true;
  // The business's own notice decides when it is most of the page ("This site is being updated,
  // meanwhile here is our menu: …" is a menu page). The same notice in the country's other
  // languages ("Unsere Webseite befindet sich im Aufbau. Notre site est en construction. …") is
  // the notice too, not the rest of the page.
  const notice = Math.max(countWords(sentence), siteSentenceWords(page.text));
  if (page.words - notice > NOTICE_REST_WORDS) return false;
  return THIS_SITE.test(lead) || OUR_WEBSITE.test(lead) || THE_WEBSITE.test(lead) ||
    SITE_VERB.test(lead);
}

function wordingHits(page: PageView, sigs: Signatures): WordingHit[] {
  const hits: WordingHit[] = [];
  // The headlines that speak for a page with substance: its title, and its h1 when it has one.
  const h1s = page.headlines.slice(page.title.trim() ? 1 : 0);
  const main = [page.title.trim(), ...(h1s.length === 1 ? h1s : [])].filter(Boolean);
  // The phrases' literals in the headlines and the text (see literal_prefilter.ts).
  const found = sigs.phraseLiterals.found(foldCase([...page.headlines, page.text].join("\n")));
  for (const phrase of sigs.phrases) {
    // A phrase none of whose literals is there cannot match there.
    if (!mayMatch(phrase.literals, found)) continue;
    const heads = page.headlines.filter((h) => phrase.pattern.test(h));
    const head = heads.length ? excerpt(heads[0], phrase.pattern) : undefined;
    const body = head ?? excerpt(page.text, phrase.pattern);
    if (body === undefined) continue;
    hits.push({
      phrase,
      match: body,
      inHeadline: head !== undefined,
      // Both matter only on a page with substance (elsewhere any hit counts): not worked out else.
      mainHeadlineIsPhrase: page.substantive &&
        main.some((h) =>
          phrase.pattern.test(h) && phraseIsHeadline(h, phrase.pattern, SUBSTANTIVE_SLACK)
        ),
      aboutSite: page.substantive && page.words < SHORT_PAGE_WORDS &&
        aboutSite(
          page,
          phrase.pattern,
          phrase.status === "suspended" || phrase.signal === "registrar_placeholder",
        ),
    });
  }
  return hits;
}

/**
 * Wording signals. Strong parking wording counts anywhere (ad disclaimers never appear on
 * business pages). Sale, placeholder and suspended wording decides anywhere on a page without
 * business substance; on a page with substance only as the title or the only h1 (see
 * {@linkcode SUBSTANTIVE_SLACK}), or on a short page as a notice about the site itself (see
 * {@linkcode SHORT_PAGE_WORDS}), so "Our online shop is coming soon" above a full business page
 * stays a mention. Weak phrases need a second, different weak phrase of the same status on a page
 * without substance, or outside evidence (`pairWith`, e.g. parking DNS).
 */
export function wordingSignals(
  page: PageView,
  sigs: Signatures,
  pairWith: Set<string> = new Set(),
): Signal[] {
  const out: Signal[] = [];
  const hits = wordingHits(page, sigs);
  const bySignal = new Map<string, WordingHit[]>();
  for (const h of hits) {
    const list = bySignal.get(h.phrase.signal) ?? [];
    list.push(h);
    bySignal.set(h.phrase.signal, list);
  }
  for (const [signal, list] of bySignal) {
    const status = list[0].phrase.status;
    const anywhere = status === "parked";
    const counts = (h: WordingHit) =>
      anywhere || !page.substantive || h.mainHeadlineIsPhrase ||
      (page.words < SHORT_PAGE_WORDS && h.aboutSite);
    const strong = list.find((h) => h.phrase.strength === "strong" && counts(h));
    // Weak phrases ("related links", "domain parking") pair with each other only on a page
    // without substance (a hosting company's full page may well mention both); with outside
    // evidence (parking DNS) one counts anywhere.
    const weak = list.filter((h) =>
      h.phrase.strength === "weak" && (anywhere || !page.substantive) &&
      (!page.substantive || pairWith.has(status))
    );
    const where = (h: WordingHit) => (h.inHeadline ? "headline" : "text");
    if (strong) {
      out.push({
        id: signal,
        status,
        strength: "strong",
        evidence: `${
          where(strong)
        } says "${strong.match}" (${strong.phrase.id}, ${strong.phrase.lang})`,
        source: strong.phrase.source,
      });
    } else if (weak.length >= 2 || (weak.length === 1 && pairWith.has(status))) {
      const ev = weak.map((h) => `"${h.match}" (${h.phrase.id})`).join(" + ");
      out.push({
        id: signal,
        status,
        strength: "strong",
        evidence: weak.length >= 2
          ? `weak phrases together: ${ev}`
          : `weak phrase ${ev} with ${status} DNS evidence`,
        source: weak[0].phrase.source,
      });
    } else if (weak.length === 1 || list.length > 0) {
      const h = weak[0] ?? list[0];
      out.push({
        id: signal,
        status,
        strength: "weak",
        evidence: `${where(h)} mentions "${h.match}" (${h.phrase.id}) on a ${
          page.substantive ? "business page" : "page"
        }: not decisive alone`,
        source: h.phrase.source,
      });
    }
  }
  return out;
}

/** Thin or empty content: a page with (almost) nothing a visitor could use. */
export function contentSignals(page: PageView): Signal[] {
  // A body cut at the size limit (a big inline font or image in <head>) says nothing of the rest.
  if (page.binary || page.truncated) return [];
  const blank = page.bodyBytes === 0 ||
    (!page.text.trim() && !/<(script|img|iframe)\b/i.test(page.html));
  if (blank) {
    return [{
      id: "empty_page",
      status: "placeholder",
      strength: "strong",
      evidence: page.bodyBytes === 0 ? "the page body is empty" : "the page has no visible text",
    }];
  }
  if (page.appShell) return [];
  if (page.words < 12 && page.business.length === 0 && !page.media) {
    return [{
      id: "thin_content",
      status: "placeholder",
      strength: "strong",
      evidence: `only ${page.words} words of text, no contact details, no images`,
    }];
  }
  return [];
}

/** A redirect written into the page: `<meta http-equiv=refresh>` or a top-level script. */
export interface PageRedirect {
  kind: "meta_refresh" | "script";
  /** Absolute target URL. */
  target: string;
}

/** Finds a meta refresh or a script redirect at page load; resolved against the page URL. */
export function pageRedirect(page: PageView): PageRedirect | undefined {
  const meta =
    /<meta[^>]+http-equiv=["']?refresh["']?[^>]*content=["']?\s*\d*\s*;?\s*url\s*=\s*['"]?([^"'>\s]+)/i
      .exec(page.html) ??
      /<meta[^>]+content=["']?\s*\d*\s*;\s*url\s*=\s*['"]?([^"'>\s]+)['"]?[^>]*http-equiv=["']?refresh/i
        .exec(page.html);
  const script =
    /(?:window\.|document\.|top\.|self\.)?location(?:\.href)?\s*=\s*["']([^"']+)["']|location\.(?:replace|assign)\(\s*["']([^"']+)["']\s*\)/i
      .exec(page.html);
  const pick = meta
    ? { kind: "meta_refresh" as const, raw: meta[1] }
    : script && page.words < 40
    ? { kind: "script" as const, raw: script[1] ?? script[2] }
    : undefined;
  if (!pick) return undefined;
  try {
    return { kind: pick.kind, target: new URL(pick.raw, page.url).href };
  } catch {
    return undefined;
  }
}
