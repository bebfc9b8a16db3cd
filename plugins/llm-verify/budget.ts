/**
 * The per-run budget of llm-verify, shared by every instance of the stage through a Deno KV file
 * in the plugin's data folder: tokens, and (with a pricing) cost. A call first reserves its
 * estimated use (refused when either budget would be exceeded), then settles with what the API
 * reported.
 * @module
 */
import { join } from "node:path";
import { openKv } from "@sluice/sdk/io/kv_locks.ts";

/**
 * What calls use of a run's budget: tokens, and cost in millionths of the pricing's currency
 * unit (a whole number, so that many calls add up without rounding drift).
 */
export interface BudgetUse {
  tokens: number;
  cost: number;
}

/** The limits of a run's budget: tokens, and cost in millionths (none: cost is only counted). */
export interface BudgetLimits {
  tokens: number;
  cost?: number;
}

/** A run's budget. */
export class RunBudget {
  readonly #kv: Deno.Kv;
  readonly #tokensKey: Deno.KvKey;
  readonly #costKey: Deno.KvKey;
  /** The limits. */
  readonly limits: BudgetLimits;

  private constructor(kv: Deno.Kv, runId: string, limits: BudgetLimits) {
    this.#kv = kv;
    this.#tokensKey = ["tokens", runId];
    this.#costKey = ["cost", runId];
    this.limits = limits;
  }

  /** Opens `<dataDir>/llm/budget.kv` for `runId`. */
  static async open(dataDir: string, runId: string, limits: BudgetLimits): Promise<RunBudget> {
    await Deno.mkdir(join(dataDir, "llm"), { recursive: true });
    return new RunBudget(await openKv(join(dataDir, "llm", "budget.kv")), runId, limits);
  }

  /** What this run used (or reserved) so far. */
  async used(): Promise<BudgetUse> {
    const [tokens, cost] = await this.#kv.getMany<[number, number]>([
      this.#tokensKey,
      this.#costKey,
    ]);
    return { tokens: tokens.value ?? 0, cost: cost.value ?? 0 };
  }

  /** Adds `use` (may be negative); with `check`, refuses what would pass a limit. */
  async #add(use: BudgetUse, check: boolean): Promise<"ok" | "tokens" | "cost"> {
    for (;;) {
      const [tokens, cost] = await this.#kv.getMany<[number, number]>([
        this.#tokensKey,
        this.#costKey,
      ]);
      const next = {
        tokens: Math.max(0, (tokens.value ?? 0) + use.tokens),
        cost: Math.max(0, (cost.value ?? 0) + use.cost),
      };
      if (check && next.tokens > this.limits.tokens) return "tokens";
      if (check && this.limits.cost !== undefined && next.cost > this.limits.cost) return "cost";
      const expireIn = 30 * 86_400_000;
      const r = await this.#kv.atomic().check(tokens, cost)
        .set(this.#tokensKey, next.tokens, { expireIn })
        .set(this.#costKey, next.cost, { expireIn })
        .commit();
      if (r.ok) return "ok";
    }
  }

  /** Reserves `use`; says which budget it would pass instead ("ok" when reserved). */
  reserve(use: BudgetUse): Promise<"ok" | "tokens" | "cost"> {
    return this.#add(use, true);
  }

  /** Corrects a reservation of `reserved` to the `actual` use. */
  async settle(reserved: BudgetUse, actual: BudgetUse): Promise<void> {
    const diff = { tokens: actual.tokens - reserved.tokens, cost: actual.cost - reserved.cost };
    if (diff.tokens !== 0 || diff.cost !== 0) await this.#add(diff, false);
  }

  /** Closes the KV file. */
  close(): void {
    this.#kv.close();
  }
}
