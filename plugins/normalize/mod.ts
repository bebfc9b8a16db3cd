/**
 * normalize: website values -> registrable domains; the key becomes the domain, invalid names
 * are rejected with a reason, duplicates within a chunk are merged into the first item.
 * @module
 */
import { definePlugin, type Item, type Rejected } from "@sluice/sdk";
import { normalizeDomain } from "./normalize_domain.ts";

interface Config {
  field?: string;
  dedupe?: "chunk" | "none";
  privateSuffixes?: boolean;
}

const FALLBACKS = ["domain", "website", "url"];

function inputOf(item: Item, field: string): string | undefined {
  for (const f of [field, ...FALLBACKS]) {
    const v = item[f];
    if (typeof v === "string" && v.trim() !== "") return v;
  }
  return undefined;
}

export default definePlugin<Config>({
  process(items, { config, metrics }) {
    const field = config.field ?? "domain";
    const dedupe = (config.dedupe ?? "chunk") === "chunk";
    const out: Item[] = [];
    const rejected: Rejected[] = [];
    const byDomain = new Map<string, Item>();
    for (const item of items) {
      const raw = inputOf(item, field) ?? item.key;
      const n = normalizeDomain(String(raw ?? ""), { privateSuffixes: config.privateSuffixes });
      if ("reason" in n) {
        rejected.push({ key: item.key, reason: `item ${item.key}: ${n.reason}`, raw: item });
        continue;
      }
      const first = dedupe ? byDomain.get(n.domain) : undefined;
      if (first) {
        ((first.duplicates ??= []) as unknown[]).push(item);
        metrics.count("normalize_duplicates");
        continue;
      }
      const next: Item = {
        ...item,
        key: n.domain,
        domain: n.domain,
        domain_input: String(raw),
        host: n.host,
        suffix: n.suffix,
      };
      if (n.privateSuffix) next.private_suffix = true;
      if (dedupe) byDomain.set(n.domain, next);
      out.push(next);
    }
    metrics.count("normalize_rejected", rejected.length);
    return { items: out, rejected };
  },
});
