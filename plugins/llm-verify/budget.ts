/**
 * The per-run token budget of llm-verify, shared by every instance of the stage through a Deno KV
 * file in the plugin's data folder: a call first reserves its estimated tokens (refused when the
 * budget would be exceeded), then settles with the tokens the API reported.
 * @module
 */
import { join } from "node:path";
import { openKv } from "@sluice/sdk/io/kv_locks.ts";

/** A run's budget. */
export class TokenBudget {
  readonly #kv: Deno.Kv;
  readonly #key: Deno.KvKey;
  /** The budget in tokens. */
  readonly limit: number;

  private constructor(kv: Deno.Kv, runId: string, limit: number) {
    this.#kv = kv;
    this.#key = ["tokens", runId];
    this.limit = limit;
  }

  /** Opens `<dataDir>/llm/budget.kv` for `runId`. */
  static async open(dataDir: string, runId: string, limit: number): Promise<TokenBudget> {
    await Deno.mkdir(join(dataDir, "llm"), { recursive: true });
    return new TokenBudget(await openKv(join(dataDir, "llm", "budget.kv")), runId, limit);
  }

  /** Tokens used (or reserved) so far in this run. */
  async used(): Promise<number> {
    return (await this.#kv.get<number>(this.#key)).value ?? 0;
  }

  async #add(n: number, limit?: number): Promise<boolean> {
    for (;;) {
      const cur = await this.#kv.get<number>(this.#key);
      const next = Math.max(0, (cur.value ?? 0) + n);
      if (limit !== undefined && next > limit) return false;
      const r = await this.#kv.atomic().check(cur).set(this.#key, next, {
        expireIn: 30 * 86_400_000,
      }).commit();
      if (r.ok) return true;
    }
  }

  /** Reserves `n` tokens; false when that would exceed the budget. */
  reserve(n: number): Promise<boolean> {
    return this.#add(n, this.limit);
  }

  /** Corrects a reservation of `reserved` tokens to the `actual` use. */
  async settle(reserved: number, actual: number): Promise<void> {
    if (actual !== reserved) await this.#add(actual - reserved);
  }

  /** Closes the KV file. */
  close(): void {
    this.#kv.close();
  }
}
