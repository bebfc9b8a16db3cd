/**
 * `lead_reason` of a lead in plain words, for the sales list: what a visitor of the domain finds
 * (one sentence per status) and the one piece of evidence that decided it, without signature ids,
 * URL lists or error kinds. The technical account stays in `website.reason` and
 * `website.signals`.
 * @module
 */
import type { Signal, WebsiteStatus, WebsiteVerdict } from "./types.ts";
import type { SlowRetry } from "@sluice/sdk/net/types.ts";

/** What a visitor finds, per lead status. */
const SENTENCES: Partial<Record<WebsiteStatus, string>> = {
  no_dns: "No website: the domain is not set up (it does not resolve)",
  no_address: "No website: the domain is registered but points to no web server",
  unreachable: "No website: no web server answers at the domain",
  http_error: "No working website: the domain only shows error pages",
  parked: "No website: the domain shows a parking page with ads",
  for_sale: "No website: the domain is offered for sale",
  placeholder: "No website yet: the domain shows a placeholder page",
  suspended: "No website: the hosting is suspended or expired",
};

/**
 * A suspended/expired page's quoted words that name the domain (not the hosting or the account),
 * in the languages of the wording data: "Domain x.de ist abgelaufen", "le domaine a expiré",
 * "Il dominio è scaduto", "Срок регистрации домена истёк"…
 */
const DOMAIN_WORD =
  /\b(domain|domaine|dominio|domínio|domein|domena|domény|domænet|domenet|domänen|verkkotunnus|alan ad)|домен/iu;

/** The sentence for a suspended page that speaks of the domain itself. */
const DOMAIN_SUSPENDED = "No website: the page says the domain is suspended or has expired";

/** Signals whose evidence is technical detail (URLs, error kinds, DNS codes), not for a rep. */
const TECHNICAL = new Set(["connection_failed", "broken_http", "http_status", "nxdomain"]);

/**
 * Signature ids after a quoted match: `"…" (parked_en, en)`, `"…" (adblockkey)`; the language
 * code, when there is one, is kept as a name.
 */
const SIGNATURE_ID = /" \(([^()"]+)\)/g;

const LANGUAGES = new Intl.DisplayNames(["en"], { type: "language" });

/** `"` or `" (Dutch)` after a quoted match, from its signature id and language code. */
function afterQuote(_m: string, inner: string): string {
  const langs = /,\s*([a-z]{2,3}(?:\/[a-z]{2,3})*)$/.exec(inner)?.[1];
  // `es/pt`: wording both languages use ("Página estacionada") names both.
  if (!langs || langs === "en") return '"';
  const names: string[] = [];
  for (const lang of langs.split("/")) {
    let name: string | undefined;
    try {
      name = LANGUAGES.of(lang);
    } catch {
      name = undefined;
    }
    if (!name || name === lang) return '"';
    names.push(name);
  }
  return `" (${names.join(" or ")})`;
}

/** What a fingerprint's place on the page reads as. */
const WHERE: Record<string, string> = {
  title: "the page title is",
  text: "the page says",
  headline: "the headline says",
};

/**
 * A signal's evidence in plain words: no signature ids (a language other than English is named:
 * `the page says "domein is te koop" (Dutch)`), `Wix: the page says "…"`, no page code
 * (`a page of cPanel`).
 */
export function plainEvidence(evidence: string): string {
  return evidence
    .replace(SIGNATURE_ID, afterQuote)
    // A service's page known by its code: `Bodis / ParkingCrew landers` -> a page of that service.
    .replace(
      /^([^:"]+): html matches ".*"$/,
      (_m, svc) => `a page of ${svc.replace(/ landers$/, "")}`,
    )
    .replace(/^([^:"]+): (title|text|headline) matches "/, (_m, svc, w) => `${svc}: ${WHERE[w]} "`)
    .replace(/^(text|headline) says "/, (_m, w) => `${WHERE[w]} "`)
    .replace(/^weak phrases together: /, "the page says ")
    .replace(/^weak phrase (.*) with \w+ DNS evidence$/, "the page says $1");
}

/** The words a signal's evidence quotes from the page (between the first and last `"`). */
function quoted(evidence: string): string {
  const a = evidence.indexOf('"');
  const b = evidence.lastIndexOf('"');
  return a >= 0 && b > a ? evidence.slice(a + 1, b) : "";
}

/** The signal that decided the verdict: the first strong one pointing to its status. */
function decidingSignal(website: WebsiteVerdict): Signal | undefined {
  return website.signals.find((s) => s.status === website.status && s.strength === "strong");
}

/** Seconds in plain words: `12 s`, `1.8 s`. */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * `lead_reason` of an item classify made a lead. `slowRetry`: http-probe's slow retry, when the
 * site did not answer in it either: asked twice (the second time with `timeoutMs`), or, when every
 * URL of the retry was `keptOpen`, waited for `timeoutMs` on its first request.
 */
export function leadReason(
  website: WebsiteVerdict,
  hasMail: boolean,
  slowRetry?: Pick<SlowRetry, "timeoutMs" | "targets" | "keptOpen">,
): string {
  const sentence = SENTENCES[website.status] ?? `No working website (${website.status})`;
  if (website.status === "unreachable" && website.timedOut) {
    const waited = slowRetry?.targets.length &&
      slowRetry.targets.every((t) => slowRetry.keptOpen?.includes(t));
    const twice = !slowRetry?.timeoutMs
      ? ""
      : waited
      ? `, not even after ${seconds(slowRetry.timeoutMs)} of waiting`
      : `, not even in ${seconds(slowRetry.timeoutMs)} on a second try`;
    return `No website found: the domain's web server did not answer in time${twice} (it may ` +
      "only be down for a while)";
  }
  if (website.status === "no_address" && hasMail) {
    return `${sentence}; it does receive e-mail`;
  }
  if (website.status === "http_error" && website.httpStatus) {
    return `${sentence} (HTTP ${website.httpStatus})`;
  }
  const s = decidingSignal(website);
  if (!s || TECHNICAL.has(s.id) || s.id === "no_address") return sentence;
  if (website.status === "suspended" && DOMAIN_WORD.test(quoted(s.evidence))) {
    return `${DOMAIN_SUSPENDED} (${plainEvidence(s.evidence)})`;
  }
  if (s.id === "marketplace_redirect") {
    const market = /\(([^()]+)\)$/.exec(s.evidence)?.[1];
    return market ? `${sentence} on ${market}` : sentence;
  }
  return `${sentence} (${plainEvidence(s.evidence)})`;
}
