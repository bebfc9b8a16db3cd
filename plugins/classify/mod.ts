/**
 * classify: sets `item.website` (status from a fixed vocabulary, the signals that fired with their
 * evidence, a reason), `item.lead` (the business has a domain but no working website) and
 * `item.lead_reason`, from `item.dns` (plugin `dns`) and `item.http` (plugin `http-probe`).
 * @module
 */
import { definePlugin, type Item } from "@sluice/sdk";
import { MetricTally } from "@sluice/sdk/metrics_tally.ts";
import type {
  DnsResult,
  HttpAttempt,
  HttpProbeResult,
  HttpResponseSummary,
} from "@sluice/sdk/net/types.ts";
import { classifyWebsite } from "./decide.ts";
import { leadReason } from "./lead_reason.ts";
import { defaultSignatures } from "./signatures.ts";
import { LEAD_STATUSES, type WebsiteStatus, type WebsiteVerdict } from "./types.ts";

interface Config {
  /** Statuses that make a lead; default every status but live, redirect and unknown. */
  leadStatuses?: WebsiteStatus[];
  /** Smallest number of probed items in a chunk for the "our network is down" check. */
  networkCheckMin?: number;
  /** Keep `item.http` as http-probe wrote it (default false: see {@link compactHttp}). */
  keepPages?: boolean;
}

/**
 * What an attempt keeps of its final response once classified: where it ended and what came back
 * (the full response of the one that counted is `best`).
 */
export type BriefResponse = Pick<
  HttpResponseSummary,
  "url" | "ip" | "status" | "contentType" | "bodyBytes" | "timeMs" | "browserUa"
>;

/** An attempt as classify passes it on: its final response cut to {@link BriefResponse}. */
export type CompactAttempt = Omit<HttpAttempt, "response"> & { response?: BriefResponse };

/** The probe result as classify passes it on (see {@link compactHttp}). */
export type CompactHttp = Omit<HttpProbeResult, "attempts"> & { attempts: CompactAttempt[] };

/** An attempt's final response cut to {@link BriefResponse}. */
function briefResponse(r: HttpResponseSummary): BriefResponse {
  return {
    url: r.url,
    ip: r.ip,
    status: r.status,
    contentType: r.contentType,
    bodyBytes: r.bodyBytes,
    timeMs: r.timeMs,
    ...(r.browserUa ? { browserUa: true } : {}),
  };
}

/**
 * The probe result without what no later stage reads: `best` without the raw HTML head always (the
 * verdict used it) and without the visible text unless `keepText` (uncertain verdicts keep it for
 * llm-verify's second opinion); each attempt's final response cut to {@link BriefResponse} (its
 * headers, title and body hash are on `best` when it counted, and the pages' text was already
 * left there alone by http-probe): ~11 % of what the later stages, the host and the store carried
 * per flagship business before (bench/RESULTS.md, 2026-12-03).
 */
export function compactHttp(http: HttpProbeResult, keepText = false): CompactHttp {
  return {
    ...http,
    best: http.best && { ...http.best, html: "", text: keepText ? http.best.text : "" },
    attempts: http.attempts.map((a) =>
      a.response ? { ...a, response: briefResponse(a.response) } : a
    ),
  };
}

const TIMEOUTS = new Set(["timeout", "connect_timeout"]);

/** True when the probe got no response and every attempt timed out. */
function onlyTimeouts(http: HttpProbeResult | undefined): boolean {
  if (!http || http.best || http.attempts.length === 0) return false;
  return http.attempts.every((a) => a.error && TIMEOUTS.has(a.error.kind));
}

/**
 * Classifies a batch; exported for tests that skip the sandbox. `now` stamps each verdict's
 * `checkedAt`.
 */
export function classifyItems(
  items: Item[],
  config: Config = {},
  now: () => number = Date.now,
): Item[] {
  const checkedAt = new Date(Math.floor(now() / 1000) * 1000).toISOString().replace(".000Z", "Z");
  const sigs = defaultSignatures();
  const leadStatuses = new Set(config.leadStatuses ?? LEAD_STATUSES);
  const verdicts: WebsiteVerdict[] = items.map((item) =>
    classifyWebsite({
      domain: String(item.domain ?? item.key).toLowerCase(),
      dns: item.dns as DnsResult | undefined,
      http: item.http as HttpProbeResult | undefined,
    }, sigs)
  );
  // When every probed domain of a chunk timed out, the fault is ours (network down), not theirs.
  const probed = items.filter((i) => (i.http as HttpProbeResult | undefined)?.attempts?.length);
  if (
    probed.length >= (config.networkCheckMin ?? 5) &&
    probed.every((i) => onlyTimeouts(i.http as HttpProbeResult))
  ) {
    verdicts.forEach((v, k) => {
      if (v.status === "unreachable" && onlyTimeouts(items[k].http as HttpProbeResult)) {
        v.status = "unknown";
        v.reason = `every one of the ${probed.length} probed domains in this chunk timed out: ` +
          "our network looks down, not theirs; retry the run";
        v.signals.unshift({
          id: "network_down",
          status: "unknown",
          strength: "strong",
          evidence:
            `${probed.length} of ${probed.length} probed domains timed out on every attempt`,
        });
      }
    });
  }
  return items.map((item, k) => {
    const website = verdicts[k];
    website.checkedAt = checkedAt;
    if (website.status === "unreachable" && onlyTimeouts(item.http as HttpProbeResult)) {
      website.timedOut = true;
    }
    const lead = leadStatuses.has(website.status);
    const slow = (item.http as HttpProbeResult | undefined)?.slowRetry;
    const lead_reason = lead
      ? leadReason(
        website,
        ((item.dns as DnsResult | undefined)?.mx?.length ?? 0) > 0,
        slow && !slow.answered ? slow : undefined,
      )
      : website.status === "unknown"
      ? `not a lead: no verdict: ${website.reason}`
      : `not a lead: ${website.status}: ${website.reason}`;
    const http = item.http as HttpProbeResult | undefined;
    const compact = http && !config.keepPages && Array.isArray(http.attempts);
    return {
      ...item,
      ...(compact ? { http: compactHttp(http, website.status === "unknown") } : {}),
      website,
      lead,
      lead_reason,
    };
  });
}

export default definePlugin<Config>({
  setup() {
    defaultSignatures(); // compile once, and fail at start if a data file is broken
  },
  process(items, { config, metrics }) {
    const out = classifyItems(items, config);
    const tally = new MetricTally();
    for (const i of out) {
      tally.count(`status_${(i.website as WebsiteVerdict).status}`);
      if (i.lead) tally.count("leads");
    }
    tally.flush(metrics);
    return out;
  },
});
