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
  /** True for a JavaScript app shell (root div plus bundles), whose content renders later. */
  appShell: boolean;
  /** True when the page shows images or frames (content we cannot read as text). */
  media: boolean;
  binary: boolean;
  bodyBytes: number;
}

const decode = (s: string) =>
  s.replace(/&nbsp;/g, " ").replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'");

/** Text of each `<h1>` in the raw HTML, tags stripped. */
export function h1Texts(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<h1\b[^>]*>([\s\S]*?)<\/h1>/gi)) {
    const t = decode(m[1].replace(/<[^>]*>/g, " ")).replace(/\s+/g, " ").trim();
    if (t) out.push(t);
    if (out.length >= 5) break;
  }
  return out;
}

const EVIDENCE: [string, RegExp][] = [
  [
    "phone",
    /(?:\+|\(0|\b0)\d[\d\s\-/().]{6,}\d|\btel:|\b(?:tel|phone|telefon|téléphone|teléfono|telefoon|telefone|puhelin|telefonszám)\b|τηλ[έε]φωνο|телефон|電話|电话/iu,
  ],
  ["email", /[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/i],
  [
    "hours",
    /\d{1,2}(?:[:.]\d{2})?\s*(?:h|uhr|am|pm)?\s*[–-]\s*\d{1,2}(?:[:.]\d{2})?\s*(?:h|uhr|am|pm)?|opening hours|öffnungszeiten|horaires|horario|openingstijden|horário|orari|godziny otwarcia|otevírací doba|öppettider|åbningstider|åpningstider|aukioloajat|çalışma saatleri|nyitvatartás|ωράριο|часы работы|режим работы|営業時間|营业时间/iu,
  ],
  [
    "address",
    /\b\d{1,4}\s+[A-Z][a-z]+\s+(?:street|st\.?|road|rd\.?|lane|avenue|ave\.?|way|drive)\b|(?:straße|strasse|weg|platz|gasse|allee)\s+\d{1,4}|\b(?:rue|avenue|place|boulevard|calle|avenida|plaza|rua|praça|via|piazza|corso)\s+\S+|\b\d{4,5}\s+[A-Z][a-zäöüéèà]+|\bul\.\s+\p{Lu}|(?<=\p{L})(?:gatan|vägen|gade|vej|veien|gate|katu|tie|utca|sokak|caddesi)\s+\d{1,4}|〒\s?\d{3}-?\d{4}|地址|住所|ул\.\s+\p{Lu}/u,
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

/**
 * Words of visible text: whitespace-separated words with a letter, plus CJK text counted by
 * characters ({@linkcode CJK_CHARS_PER_WORD} to a word), so that a Japanese or Chinese business
 * page is not taken for a thin page because it has few spaces.
 */
export function countWords(text: string): number {
  if (!text) return 0;
  const cjk = text.match(CJK)?.length ?? 0;
  const rest = text.replace(CJK, " ").split(/\s+/).filter((w) => /\p{L}/u.test(w)).length;
  return rest + Math.ceil(cjk / CJK_CHARS_PER_WORD);
}

/** Kinds of business evidence in visible text. */
export function businessEvidence(text: string): string[] {
  return EVIDENCE.filter(([, re]) => re.test(text)).map(([k]) => k);
}

/** Builds the view of a final response. */
export function pageView(r: HttpResponseSummary): PageView {
  const html = r.html ?? "";
  const text = r.text ?? "";
  const words = countWords(text);
  const business = businessEvidence(text);
  const headlines = [r.title ?? "", ...h1Texts(html)].map((s) => s.trim()).filter(Boolean);
  const appShell =
    /<div[^>]+id=["'](?:root|app|__next|__nuxt|svelte|main-app)["'][^>]*>\s*<\/div>/i.test(html) &&
    /<script[^>]+src=/i.test(html);
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
  };
}
