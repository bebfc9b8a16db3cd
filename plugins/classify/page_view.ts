/**
 * A page as the rules see it: title, headlines, visible text, raw HTML, and measures of business
 * substance (contact details, opening hours, addresses, legal links, word count), so that wording
 * such as "coming soon" on a real business page is not mistaken for a placeholder.
 * @module
 */
import type { HttpResponseSummary } from "@sluice/sdk/net/types.ts";

/** What the page rules read. */
export interface PageView {
  url: string;
  host: string;
  status: number;
  headers: Record<string, string>;
  title: string;
  /** The title and the text of each h1 (each trimmed), most prominent first. */
  headlines: string[];
  text: string;
  html: string;
  /** Words of visible text. */
  words: number;
  /** Kinds of business evidence found: phone, email, address, hours, legal. */
  business: string[];
  /** True when the page has enough business substance to be a real site on its own. */
  substantive: boolean;
  /**
   * True for a JavaScript app whose content renders later (a mount element plus bundles: React,
   * Vue, Next, Nuxt, Svelte, Angular's `<app-root>`; Flutter web; Blazor), or a login form (a
   * web application's front door): no text yet is no thin page.
   */
  appShell: boolean;
  /** True when the page shows images or frames (content we cannot read as text). */
  media: boolean;
  binary: boolean;
  bodyBytes: number;
  /** True when the body was cut at the size limit: what was read says nothing of the rest. */
  truncated: boolean;
}

const decode = (s: string) =>
  s.replace(/&nbsp;/g, " ").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'");

/** Text of each `<h1>` in the raw HTML, tags stripped. */
export function h1Texts(html: string): string[] {
  return headingTexts(html, /<h1\b[^>]*>([\s\S]*?)<\/h1>/gi);
}

/** Text of each `<h2>` and `<h3>` in the raw HTML, tags stripped (at most five). */
export function subheadTexts(html: string): string[] {
  return headingTexts(html, /<h[23]\b[^>]*>([\s\S]*?)<\/h[23]>/gi);
}

function headingTexts(html: string, re: RegExp): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(re)) {
    const t = decode(m[1].replace(/<[^>]*>/g, " ")).replace(/\s+/g, " ").trim();
    if (t) out.push(t);
    if (out.length >= 5) break;
  }
  return out;
}

const EVIDENCE: [string, RegExp][] = [
  [
    "phone",
    /(?:\+|\(0|\b0)\d[\d\s\-/().]{6,}\d|\(?\b[2-9]\d{2}\)?[\s.-]\d{3}[\s.-]\d{4}\b|\btel:|\b(?:tel|phone|telefon|téléphone|teléfono|telefoon|telefone|puhelin|telefonszám)\b|τηλ[έε]φωνο|телефон|電話|电话/iu,
  ],
  ["email", /[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/i],
  [
    "hours",
    /\d{1,2}(?:[:.]\d{2})?\s*(?:h|uhr|am|pm)?\s*[–-]\s*\d{1,2}(?:[:.]\d{2})?\s*(?:h|uhr|am|pm)?|opening hours|öffnungszeiten|horaires|horario|openingstijden|horário|orari|godziny otwarcia|otevírací doba|öppettider|åbningstider|åpningstider|aukioloajat|çalışma saatleri|nyitvatartás|ωράριο|часы работы|режим работы|営業時間|营业时间/iu,
  ],
  [
    "address",
    /\b\d{1,5}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){1,2}(?:[Ss]treet|St|[Rr]oad|Rd|[Ll]ane|Ln|[Aa]venue|Ave|[Ww]ay|[Dd]rive|Dr|[Bb]oulevard|Blvd|[Cc]ourt|Ct|[Pp]lace|Pl|[Hh]ighway|Hwy)\b|\b[A-Z][a-z]+,?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?\b|(?:straße|strasse|weg|platz|gasse|allee)\s+\d{1,4}|\b(?:rue|avenue|place|boulevard|calle|avenida|plaza|rua|praça|via|piazza|corso)\s+\S+|\b\d{4,5}\s+[A-Z][a-zäöüéèà]+|\bul\.\s+\p{Lu}|(?<=\p{L})(?:gatan|vägen|gade|vej|veien|gate|katu|tie|utca|sokak|caddesi)\s+\d{1,4}|〒\s?\d{3}-?\d{4}|地址|住所|ул\.\s+\p{Lu}/u,
  ],
  // An address given under its label, in any case ("Διεύθυνση: Σπύρου Μερκούρη 12").
  [
    "address",
    /(?<!\p{L})(?:address|adresse|anschrift|dirección|direccion|indirizzo|endereço|adres|adresa|osoite|adress|cím)\s*:|διεύθυνση\s*:|адрес\s*:/iu,
  ],
  [
    "legal",
    /impressum|imprint|privacy|datenschutz|mentions légales|aviso legal|privacyverklaring|política de privacidad|política de privacidade|termos e condições|algemene voorwaarden|note legali|polityka prywatności|ochrana osobních údajů|integritetspolicy|privatlivspolitik|personvern|tietosuoja|gizlilik|kvkk|confiden[țţt]ialitate|adatvédelem|απόρρητο|конфиденциальност|プライバシーポリシー|特定商取引法|隐私政策|隱私權/iu,
  ],
];

/** Chinese, Japanese and Korean characters: their words are not separated by spaces. */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
/** CJK characters counted as one word (a rough average word length of Chinese/Japanese text). */
const CJK_CHARS_PER_WORD = 3;
/** Thai, Lao, Khmer and Burmese letters: written without spaces between words either. */
const UNSPACED = /[\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/gu;
/** Such characters counted as one word (their words are longer: about six letters and marks). */
const UNSPACED_CHARS_PER_WORD = 6;

/**
 * Words of visible text: whitespace-separated words with a letter, plus CJK text counted by
 * characters ({@linkcode CJK_CHARS_PER_WORD} to a word), so that a Japanese or Chinese business
 * page is not taken for a thin page because it has few spaces.
 */
export function countWords(text: string): number {
  if (!text) return 0;
  const cjk = text.match(CJK)?.length ?? 0;
  const unspaced = text.match(UNSPACED)?.length ?? 0;
  const rest = text.replace(CJK, " ").replace(UNSPACED, " ").split(/\s+/)
    .filter((w) => /\p{L}/u.test(w)).length;
  return rest + Math.ceil(cjk / CJK_CHARS_PER_WORD) +
    Math.ceil(unspaced / UNSPACED_CHARS_PER_WORD);
}

/** First code points of the decimal digit runs of common scripts (Arabic-Indic, Persian, ...). */
const DIGIT_ZEROS = [
  0x660,
  0x6f0,
  0x966,
  0x9e6,
  0xa66,
  0xae6,
  0xbe6,
  0xc66,
  0xce6,
  0xd66,
  0xe50,
  0xed0,
  0xff10,
];

const OTHER_DIGIT = /(?![0-9])\p{Nd}/u;

/** Digits of other scripts as ASCII digits (`٠١١` -> `011`), so numbers are recognised in them. */
export function asciiDigits(text: string): string {
  // Only digits outside ASCII need the work (a page with umlauts but ASCII digits needs none).
  if (!OTHER_DIGIT.test(text)) return text;
  return text.replace(/\p{Nd}/gu, (d) => {
    const c = d.codePointAt(0)!;
    const zero = DIGIT_ZEROS.find((z) => c >= z && c <= z + 9);
    return zero === undefined ? d : String(c - zero);
  });
}

/** Kinds of business evidence in visible text. */
export function businessEvidence(text: string): string[] {
  const t = asciiDigits(text);
  return [...new Set(EVIDENCE.filter(([, re]) => re.test(t)).map(([k]) => k))];
}

/** Builds the view of a final response. */
export function pageView(r: HttpResponseSummary): PageView {
  const html = r.html ?? "";
  const text = r.text ?? "";
  const words = countWords(text);
  const business = businessEvidence(text);
  const headlines = [r.title ?? "", ...h1Texts(html)].map((s) => s.trim()).filter(Boolean);
  const appShell = isAppShell(html);
  const media = /<(img|picture|video|iframe|object|embed)\b/i.test(html);
  const contactish = business.filter((b) => b !== "legal").length;
  const substantive = words >= 150 || (words >= 8 && contactish >= 2) ||
    (words >= 60 && contactish >= 1 && business.includes("legal"));
  return {
    url: r.url,
    host: r.host,
    status: r.status,
    headers: r.headers ?? {},
    title: r.title ?? "",
    headlines,
    text,
    html,
    words,
    business,
    substantive,
    appShell,
    media,
    binary: r.binary,
    bodyBytes: r.bodyBytes,
    truncated: r.truncated === true,
  };
}

/** Mount points of JavaScript apps: an element the bundle renders into. */
const MOUNT =
  /<div[^>]+id=["'](?:root|app|__next|__nuxt|svelte|main-app|q-app|ember-app)["']|<(?:app|my|ng)-root\b/i;
/** Bundles of frameworks that need no mount element in the HTML (Flutter web, Blazor). */
const FRAMEWORK_BUNDLE =
  /<script[^>]+src=["'][^"']*(?:flutter_bootstrap\.js|flutter\.js|main\.dart\.js|_framework\/blazor\.(?:webassembly|web|server)\.js)/i;

/** True for a JavaScript app shell or a login form (see {@linkcode PageView.appShell}). */
export function isAppShell(html: string): boolean {
  if (FRAMEWORK_BUNDLE.test(html)) return true;
  if (MOUNT.test(html) && /<script[^>]+src=/i.test(html)) return true;
  return /<input[^>]+type=["']?password\b/i.test(html);
}
