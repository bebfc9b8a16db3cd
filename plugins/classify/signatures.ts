/**
 * Loads the signature data files (`data/*.json`), checks every entry and compiles its patterns
 * once. A broken entry fails loudly with its file and index.
 * @module
 */
import parkingDns from "./data/parking_dns.json" with { type: "json" };
import marketplaces from "./data/marketplaces.json" with { type: "json" };
import pageSignatures from "./data/page_signatures.json" with { type: "json" };
import wording from "./data/wording.json" with { type: "json" };
import serverDefaultPages from "@sluice/sdk/data/server_default_pages.json" with { type: "json" };
import { STATUSES, type Strength, type WebsiteStatus } from "./types.ts";
import { parseCidr } from "./net_match.ts";
import { LiteralIndex, requiredLiterals } from "./literal_prefilter.ts";

/** A parking or sale service recognised by its DNS. */
export interface DnsService {
  service: string;
  status: WebsiteStatus;
  ns: string[];
  cname: string[];
  ips: { cidr: string; net: bigint; bits: number; v6: boolean }[];
  source: string;
}

/** A domain marketplace host. */
export interface Marketplace {
  host: string;
  name: string;
  path?: RegExp;
  source: string;
}

/** Where a page signature looks. */
export type PageWhere = "title" | "text" | "html" | `header:${string}`;

/** A page fingerprint. */
export interface PageSignature {
  id: string;
  signal: string;
  status: WebsiteStatus;
  where: PageWhere;
  pattern: RegExp;
  /** One of these is in the fold of any text the pattern matches (see literal_prefilter.ts). */
  literals?: string[];
  service: string;
  source: string;
}

/** A phrase of page wording. */
export interface Phrase {
  id: string;
  signal: string;
  status: WebsiteStatus;
  strength: Strength;
  lang: string;
  pattern: RegExp;
  /** One of these is in the fold of any text the pattern matches (see literal_prefilter.ts). */
  literals?: string[];
  source: string;
}

/** Every signature, compiled. */
export interface Signatures {
  dnsServices: DnsService[];
  /** NS suffixes that look like parking but are not. */
  notParkingNs: string[];
  marketplaces: Marketplace[];
  pages: PageSignature[];
  phrases: Phrase[];
  /** The literals of the page signatures, to find in one scan (see literal_prefilter.ts). */
  pageLiterals: LiteralIndex;
  /** The literals of the phrases, likewise. */
  phraseLiterals: LiteralIndex;
}

function fail(file: string, index: number, what: string): never {
  throw new Error(
    `plugins/classify/data/${file} entry ${index}: ${what}; fix the entry (every entry needs ` +
      "its fields and a source)",
  );
}

function str(file: string, i: number, v: unknown, field: string): string {
  if (typeof v !== "string" || v.trim() === "") {
    fail(file, i, `"${field}" must be a non-empty string`);
  }
  return v;
}

function status(file: string, i: number, v: unknown): WebsiteStatus {
  if (!STATUSES.includes(v as WebsiteStatus)) {
    fail(file, i, `"status" ${JSON.stringify(v)} is not one of ${STATUSES.join(", ")}`);
  }
  return v as WebsiteStatus;
}

/** A letter or digit of a space-separated script (one wording cannot start right after). */
const IN_WORD = /[\p{sc=Latin}\p{sc=Greek}\p{sc=Cyrillic}\p{sc=Arabic}\p{sc=Hebrew}\p{N}]/u;

/**
 * A pattern whose matches start at the start of a word of a space-separated script: "seite" of
 * "Nordseite" or "domaine" of "condomaine" is no match. Scripts written without spaces (Chinese,
 * Japanese, Thai) have no such start, so a phrase in them matches anywhere. The check runs on a
 * match (rare) instead of as a lookbehind at every position of every page's text, which cost a
 * quarter of classify's time.
 */
export class WordStartRegExp extends RegExp {
  #scan: RegExp;

  constructor(source: string, flags: string) {
    super(source, flags);
    this.#scan = new RegExp(source, flags.includes("g") ? flags : flags + "g");
  }

  /** The first match that starts a word (`test`, `match` and `exec` all come here). */
  override exec(text: string): RegExpExecArray | null {
    const scan = this.#scan;
    scan.lastIndex = 0;
    for (;;) {
      const m = scan.exec(text);
      if (!m) return null;
      const before = m.index > 0 ? text[m.index - 1] : "";
      if (!before || !IN_WORD.test(before)) return m;
      scan.lastIndex = m.index + 1;
    }
  }
}

function regex(file: string, i: number, v: unknown, wordStart = false): RegExp {
  const src = str(file, i, v, "pattern");
  try {
    return wordStart ? new WordStartRegExp(src, "iu") : new RegExp(src, "iu");
  } catch (e) {
    fail(file, i, `"pattern" is not a valid regular expression (${(e as Error).message})`);
  }
}

/**
 * The prefilter's literals of a valid pattern; undefined (the pattern always runs) for syntax the
 * prefilter does not read.
 */
function literalsOf(src: string): string[] | undefined {
  try {
    return requiredLiterals(src);
  } catch {
    return undefined;
  }
}

const lower = (list: unknown, file: string, i: number, field: string): string[] => {
  if (!Array.isArray(list)) fail(file, i, `"${field}" must be a list`);
  return list.map((x) => str(file, i, x, field).toLowerCase().replace(/\.$/, ""));
};

/** A page signature entry as written in a data file. */
type RawPageSignature = (typeof serverDefaultPages.signatures)[number];

/**
 * The page signatures with each `{"include": "server_default_pages"}` entry replaced by the
 * shared server default pages (`sdk/data/server_default_pages.json`), in place.
 */
export function expandPageIncludes(
  entries: readonly Record<string, unknown>[],
  shared: { server_default_pages: readonly RawPageSignature[] },
): RawPageSignature[] {
  return entries.flatMap((e, i) => {
    if (!("include" in e)) return [e as RawPageSignature];
    const name = e.include as string;
    if (!Object.hasOwn(shared, name)) fail("page_signatures.json", i, `unknown include "${name}"`);
    return [...shared[name as keyof typeof shared]];
  });
}

/** Compiles the signature data. Pure: pass other data in tests. */
export function compileSignatures(data: {
  parkingDns: typeof parkingDns;
  marketplaces: typeof marketplaces;
  pageSignatures: { signatures: readonly RawPageSignature[] };
  wording: typeof wording;
}): Signatures {
  const dnsServices = data.parkingDns.services.map((s, i): DnsService => ({
    service: str("parking_dns.json", i, s.service, "service"),
    status: status("parking_dns.json", i, s.kind),
    ns: lower(s.ns, "parking_dns.json", i, "ns"),
    cname: lower(s.cname, "parking_dns.json", i, "cname"),
    ips: (s.ips as string[]).map((c) => {
      const parsed = parseCidr(c);
      if (!parsed) fail("parking_dns.json", i, `"${c}" is not a CIDR block`);
      return { cidr: c, ...parsed };
    }),
    source: str("parking_dns.json", i, s.source, "source"),
  }));
  const notParkingNs = data.parkingDns.exclude.map((e, i) => {
    str("parking_dns.json", i, e.source, "source");
    return str("parking_dns.json", i, e.ns, "ns").toLowerCase();
  });
  const markets = data.marketplaces.marketplaces.map((m, i): Marketplace => {
    const path = (m as { path?: string }).path;
    return {
      host: str("marketplaces.json", i, m.host, "host").toLowerCase(),
      name: str("marketplaces.json", i, m.name, "name"),
      path: path ? regex("marketplaces.json", i, path) : undefined,
      source: str("marketplaces.json", i, m.source, "source"),
    };
  });
  const pages = data.pageSignatures.signatures.map((p, i): PageSignature => {
    const where = str("page_signatures.json", i, p.where, "where");
    if (!/^(title|text|html|header:[a-z0-9-]+)$/.test(where)) {
      fail("page_signatures.json", i, `"where" ${where} must be title, text, html or header:NAME`);
    }
    return {
      id: str("page_signatures.json", i, p.id, "id"),
      signal: str("page_signatures.json", i, p.signal, "signal"),
      status: status("page_signatures.json", i, p.status),
      where: where as PageWhere,
      pattern: regex("page_signatures.json", i, p.pattern),
      literals: literalsOf(p.pattern),
      service: str("page_signatures.json", i, p.service, "service"),
      source: str("page_signatures.json", i, p.source, "source"),
    };
  });
  const phrases = data.wording.phrases.map((p, i): Phrase => {
    if (p.strength !== "strong" && p.strength !== "weak") {
      fail("wording.json", i, `"strength" must be strong or weak`);
    }
    return {
      id: str("wording.json", i, p.id, "id"),
      signal: str("wording.json", i, p.signal, "signal"),
      status: status("wording.json", i, p.status),
      strength: p.strength,
      lang: str("wording.json", i, p.lang, "lang"),
      pattern: regex("wording.json", i, p.pattern, true),
      literals: literalsOf(p.pattern),
      source: str("wording.json", i, p.source, "source"),
    };
  });
  return {
    dnsServices,
    notParkingNs,
    marketplaces: markets,
    pages,
    phrases,
    pageLiterals: new LiteralIndex(pages.flatMap((p) => p.literals ?? [])),
    phraseLiterals: new LiteralIndex(phrases.flatMap((p) => p.literals ?? [])),
  };
}

let cached: Signatures | undefined;

/** The signatures of the data files shipped with the plugin (compiled once). */
export function defaultSignatures(): Signatures {
  return cached ??= compileSignatures({
    parkingDns,
    marketplaces,
    pageSignatures: {
      signatures: expandPageIncludes(pageSignatures.signatures, {
        server_default_pages: serverDefaultPages.signatures,
      }),
    },
    wording,
  });
}
