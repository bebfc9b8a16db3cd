/**
 * What llm-verify sends and how it reads the answer: a compact description of the item (domain,
 * business, DNS and HTTP facts, the classifier's signals) and a strict JSON answer whose label
 * must come from the website-status vocabulary.
 * @module
 */
import { LEAD_STATUSES, WEBSITE_STATUSES, type WebsiteStatus } from "@sluice/sdk/website.ts";

/** The website-status vocabulary (shared with the classify plugin). */
export const LABELS = WEBSITE_STATUSES;

/** A website status. */
export type Label = WebsiteStatus;

/** Statuses that make a lead (the business has a domain but no working website). */
export const LEAD_LABELS: readonly Label[] = LEAD_STATUSES;

const SYSTEM = `You check what a business's domain shows on the web. Decide ONE label from this
list and explain it in one short sentence:
live: a working website of a business (even a small one); redirect: forwards to another working
site; parked: a parking page with ads or "this domain is parked"; for_sale: the domain is offered
for sale; placeholder: coming soon, under construction, default server or hosting page, unclaimed
site-builder page; suspended: hosting suspended or expired; http_error: the server answers only
with errors; unreachable / no_address / no_dns: no page at all; unknown: you cannot tell (e.g. a
bot challenge).
Answer with JSON only: {"label": "<one label>", "rationale": "<one sentence>"}`;

function cap(s: unknown, n: number): string {
  const t = typeof s === "string" ? s : "";
  return t.length > n ? `${t.slice(0, n)}…` : t;
}

/** The chat messages for one item. */
export function buildMessages(item: Record<string, unknown>, maxTextChars: number): {
  role: string;
  content: string;
}[] {
  const http = item.http as { best?: Record<string, unknown>; status?: string } | undefined;
  const best = http?.best;
  const website = item.website as {
    status?: string;
    reason?: string;
    signals?: { evidence?: string }[];
  } | undefined;
  const dns = item.dns as { status?: string } | undefined;
  const lines = [
    `Domain: ${item.domain ?? item.key}`,
    item.name ? `Business: ${item.name}${item.city ? ` (${item.city})` : ""}` : "",
    dns?.status ? `DNS: ${dns.status}` : "",
    http?.status ? `HTTP probe: ${http.status}` : "",
    best ? `Final URL: ${best.url} (HTTP ${best.status})` : "",
    best ? `Title: ${cap(best.title, 200)}` : "",
    best ? `Visible text: ${cap(best.text, maxTextChars)}` : "",
    website?.status ? `Automatic check said: ${website.status} (${cap(website.reason, 200)})` : "",
    website?.signals?.length
      ? `Signals: ${website.signals.slice(0, 8).map((s) => cap(s.evidence, 120)).join("; ")}`
      : "",
  ].filter(Boolean);
  return [{ role: "system", content: SYSTEM }, { role: "user", content: lines.join("\n") }];
}

/** A parsed answer, or why it was refused. */
export type ParsedAnswer =
  | { ok: true; label: Label; rationale: string }
  | { ok: false; reason: string };

/** Reads the model's answer; refuses anything outside the vocabulary. */
export function parseAnswer(content: unknown): ParsedAnswer {
  if (typeof content !== "string" || content.trim() === "") {
    return { ok: false, reason: "the model gave an empty answer" };
  }
  const m = /\{[\s\S]*\}/.exec(content);
  let v: unknown;
  try {
    v = JSON.parse(m ? m[0] : content);
  } catch {
    return { ok: false, reason: `the answer is not JSON: ${cap(content, 120)}` };
  }
  const o = v as { label?: unknown; rationale?: unknown };
  // "For sale", "for-sale" and "for_sale" are the same label.
  const label = typeof o?.label === "string"
    ? o.label.trim().toLowerCase().replace(/[\s-]+/g, "_")
    : "";
  if (!(LABELS as readonly string[]).includes(label)) {
    return {
      ok: false,
      reason: `answer outside the vocabulary: ${JSON.stringify(o?.label ?? null)}`,
    };
  }
  const rationale = cap(typeof o.rationale === "string" ? o.rationale.trim() : "", 300);
  return { ok: true, label: label as Label, rationale };
}

/**
 * Why a label contradicts what the probes saw, if it does: a page was served, so the domain is
 * not `no_dns`, `no_address` or `unreachable`; DNS answered with the name, so it is not `no_dns`.
 * The model reads a summary and can get these wrong; the probes measured them.
 */
export function contradiction(label: string, item: Record<string, unknown>): string | undefined {
  const best = (item.http as { best?: { url?: unknown; status?: unknown } } | undefined)?.best;
  if (best && (label === "no_dns" || label === "no_address" || label === "unreachable")) {
    return `the model said ${label}, but the probe got a page (HTTP ${best.status} from ${best.url})`;
  }
  const dns = (item.dns as { status?: unknown } | undefined)?.status;
  if (label === "no_dns" && dns === "ok") {
    return "the model said no_dns, but DNS answered for the name";
  }
  return undefined;
}
