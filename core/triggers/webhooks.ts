/**
 * Webhook intake for `POST /hooks/{pipeline}/{hookId}`, independent of the HTTP framework: give
 * {@link WebhookIntake.handle} a standard `Request` and it answers a `Response`.
 *
 * Order of checks: the hook exists and is enabled (404), the body fits (413), the hook's secret
 * resolves (500), the signature verifies (401, see `webhook_signatures.ts`), an items body has a
 * Content-Type the pipeline's source reads (its manifest's `accepts`; 415), the body maps to
 * items or inputs (400/415). Only then are the replay key and the `Idempotency-Key` claimed, in
 * one atomic write: a replayed signature gets 401; a repeated `Idempotency-Key` (per pipeline
 * and hook, 24 hours) gets 200 with the first run's id and starts nothing. A signed request
 * without an `Idempotency-Key`, on a store that can (`TriggerStore.replayGuard`), has its replay
 * claim written in the run's own atomic write instead: one write per request. Items become the
 * run's input file `<dataDir>/webhooks/<pipeline>/<runId>.jsonl|csv`: a small body is kept in
 * the run record and written there when the source starts, a large one is written and flushed
 * before the run is recorded (see `run_launcher.ts`). With `preflight`, an items body is first
 * read by the pipeline's own source, in its sandbox, as the run would read it (its beginning, see
 * `core/engine/source_preflight.ts`): a body the source refuses as a whole (the SDK's
 * `InputError`: a CSV without a website column) is answered 422 with the source's message, the
 * claims are dropped and no run is recorded; a check that cannot be made (the sandbox, a timeout)
 * lets the request through. A repeated `Idempotency-Key` is answered before any preflight. The
 * answer `202 {"runId"}` comes after the run is durably recorded. Every answer for a known
 * hook is kept in its delivery history (the newest `keepDeliveries`).
 * @module
 */
import { EngineError, newRunId } from "../engine/engine.ts";
import { type PreflightDeps, preflightSource } from "../engine/source_preflight.ts";
import { InputError, resolveInputs } from "../pipeline/inputs.ts";
import type { WebhookTrigger } from "../pipeline/model.ts";
import { resolveTemplates, secretNamesUsed, TemplateError } from "../pipeline/template.ts";
import { secretEnvName } from "../config/secrets.ts";
import { join } from "../paths.ts";
import { GuardFailedError, type RunGuard } from "../store/store.ts";
import { type Logger, silentLogger } from "../telemetry/log.ts";
import { type Clock, systemClock } from "./clock.ts";
import { DeliveryHistory } from "./delivery_history.ts";
import { dispositionFileName } from "./input_name.ts";
import type { CatalogEntry } from "./pipeline_catalog.ts";
import type { RunLauncher } from "./run_launcher.ts";
import type { DeliveryRecord, TriggerStore } from "./trigger_store.ts";
import {
  BodyError,
  checkSourceAccepts,
  inputsFromBody,
  itemsFromBody,
  readBody,
} from "./webhook_body.ts";
import type { PluginRegistry } from "../plugins/manifest.ts";
import { verifyRequestSync } from "./webhook_signatures.ts";

/** A pending `Idempotency-Key` claim this old is taken over: its request stopped. */
const PENDING_STALE_MS = 60_000;

/** Options of {@link WebhookIntake}. */
export interface WebhookIntakeOptions {
  catalog: { get(name: string): CatalogEntry | undefined };
  store: TriggerStore;
  runs: Pick<RunLauncher, "start"> & Partial<Pick<RunLauncher, "acceptsGuard" | "hasRun">>;
  /**
   * Plugins: an items body whose Content-Type the pipeline's source does not list in its
   * manifest's `accepts` is refused with 415 (a source without `accepts` takes any body).
   */
  registry: PluginRegistry;
  /**
   * When given, an items body is read by the pipeline's source before its run is recorded, and
   * refused with 422 when the source cannot read it at all (see the module doc); the executor and
   * settings runs get. Without it every parsed body starts a run.
   */
  preflight?: PreflightDeps;
  /** Resolves `${{ secrets.NAME }}` in a hook's `secret:`. */
  secrets: (name: string) => string | undefined;
  /** Input files go under `<dataDir>/webhooks/`. */
  dataDir: string;
  clock?: Clock;
  /** Largest accepted body (default 10 MiB). */
  maxBodyBytes?: number;
  /** Signed timestamps are accepted this far from now (default 5 min). */
  toleranceMs?: number;
  /** How long an `Idempotency-Key` is remembered (default 24 h). */
  idempotencyTtlMs?: number;
  /** How long a duplicate waits for the first request's run (default 10 s). */
  duplicateWaitMs?: number;
  /** Delivery records kept per hook (default 50). */
  keepDeliveries?: number;
  log?: Logger;
}

interface Found {
  entry: CatalogEntry;
  hook: WebhookTrigger;
}

const json = (status: number, body: Record<string, unknown>, headers: HeadersInit = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

/** Where the caller polls the run a request started: `GET /api/v1/runs/{id}` (viewer role). */
export function runUrl(runId: string): string {
  return `/api/v1/runs/${encodeURIComponent(runId)}`;
}

/** `202 {"runId","url"}` with `Location`: the run this request started. */
const accepted = (runId: string) =>
  json(202, { runId, url: runUrl(runId) }, { location: runUrl(runId) });

/** `200 {"runId","url","duplicate":true}`: the run a request with the same key started. */
const duplicateOf = (runId: string) =>
  json(200, { runId, url: runUrl(runId), duplicate: true }, {
    "idempotent-replayed": "true",
    "content-location": runUrl(runId),
  });

/** Receives webhook requests. */
export class WebhookIntake {
  #o: WebhookIntakeOptions;
  #clock: Clock;
  #log: Logger;
  #inflight = new Map<string, Promise<string | undefined>>();
  #history: DeliveryHistory;

  /** Builds the intake. */
  constructor(o: WebhookIntakeOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#log = o.log ?? silentLogger;
    this.#history = new DeliveryHistory(o.store, o.keepDeliveries ?? 50, this.#log);
  }

  /** Newest deliveries of a hook first (including every answer this intake gave so far). */
  async deliveries(pipeline: string, hook: string, limit = 50): Promise<DeliveryRecord[]> {
    await this.#history.settled(pipeline, hook);
    return await this.#o.store.listDeliveries(pipeline, hook, limit);
  }

  /**
   * Logs a warning for each enabled webhook of `entries` whose secret does not resolve (its calls
   * would all be answered 500), naming the variables to set; returns the warnings.
   */
  warnUnsetSecrets(entries: Iterable<CatalogEntry>): string[] {
    const warnings: string[] = [];
    for (const entry of entries) {
      for (const t of entry.pipeline?.triggers ?? []) {
        if (!("webhook" in t) || !t.enabled) continue;
        try {
          this.#secretOf(t); // the same check a call makes
          continue;
        } catch (e) {
          if (!(e instanceof TemplateError)) throw e;
        }
        const w = `webhook ${entry.pipeline!.name}/${t.webhook}: ${this.#secretMissing(t)}; ` +
          "until then every call to it is answered 500";
        this.#log.warn(w, { pipeline: entry.pipeline!.name, hook: t.webhook });
        warnings.push(w);
      }
    }
    return warnings;
  }

  /** Resolves when the delivery records of every answer so far are written (at shutdown). */
  async settled(): Promise<void> {
    await this.#history.settled();
  }

  /** Answers one request to `/hooks/{pipeline}/{hook}`. */
  async handle(req: Request, pipeline: string, hookId: string): Promise<Response> {
    const at = this.#clock.now();
    if (req.method !== "POST") {
      await req.body?.cancel().catch(() => {});
      return json(405, { error: "webhooks accept POST only" }, { allow: "POST" });
    }
    const found = this.#find(pipeline, hookId);
    if ("status" in found) {
      await req.body?.cancel().catch(() => {});
      return json(found.status, { error: found.error });
    }
    const rec: DeliveryRecord = { at, status: 0 };
    const idemKey = req.headers.get("idempotency-key")?.trim() || undefined;
    // Kept short in the history: the key is checked (at most 255 characters) only later, and an
    // unsigned caller must not make the history write fail with a huge header.
    if (idemKey) rec.deliveryId = idemKey.length > 255 ? `${idemKey.slice(0, 255)}…` : idemKey;
    let res: Response;
    try {
      res = await this.#accept(req, found, rec, idemKey);
    } catch (e) {
      res = this.#failure(e, found.hook);
      rec.reason = e instanceof Error ? e.message : String(e);
    }
    rec.status = res.status;
    if (res.status >= 300 && !rec.reason) rec.reason = (await res.clone().json()).error;
    if (res.status >= 400) {
      this.#log.warn("webhook refused", {
        pipeline,
        hook: hookId,
        status: res.status,
        reason: rec.reason,
      });
    }
    this.#history.add(pipeline, hookId, rec); // written in the background, see delivery_history.ts
    return res;
  }

  #find(pipeline: string, hookId: string): Found | { status: number; error: string } {
    const entry = this.#o.catalog.get(pipeline);
    const hook = entry?.pipeline?.triggers?.find((t): t is WebhookTrigger =>
      "webhook" in t && t.webhook === hookId
    );
    // A caller is not signed in: an unknown pipeline, an unknown hook and a disabled one get the
    // same answer, so the answers do not list the server's pipelines; the log says which it was.
    const missing = (why: string) => {
      this.#log.info("webhook call refused", { pipeline, hook: hookId, reason: why });
      return {
        status: 404,
        error: `no webhook ${pipeline}/${hookId} on this server (unknown or disabled)`,
      };
    };
    if (!entry) return missing(`no pipeline ${pipeline}`);
    // A pipeline file that never parsed: its hooks are unknown too (its problems are in the log).
    if (!entry.pipeline) return missing(`pipeline ${pipeline} has problems and no valid version`);
    if (!hook) return missing(`pipeline ${pipeline} has no webhook ${hookId}`);
    if (!hook.enabled) return missing(`webhook ${hookId} of pipeline ${pipeline} is disabled`);
    return { entry, hook };
  }

  async #accept(
    req: Request,
    { entry, hook }: Found,
    rec: DeliveryRecord,
    idemKey: string | undefined,
  ): Promise<Response> {
    const o = this.#o;
    const pipeline = entry.pipeline!.name;
    if (idemKey && idemKey.length > 255) {
      throw new BodyError(400, "the Idempotency-Key header is longer than 255 characters");
    }
    const body = await readBody(req, o.maxBodyBytes ?? 10 * 1024 * 1024);
    const secret = this.#secretOf(hook);
    const v = verifyRequestSync({
      auth: hook.auth,
      secret,
      headers: req.headers,
      body,
      now: this.#clock.now(),
      toleranceMs: o.toleranceMs,
    });
    if (!v.ok) return json(401, { error: v.reason });
    if (v.deliveryId) rec.deliveryId ??= v.deliveryId;
    // GitHub's delivery id is its idempotency key: "Redeliver" sends the same id and body, and
    // gets the first run's id back (200), not a replay refusal. The same signed body under
    // another id is still a replay (the id is not signed).
    if (!idemKey && hook.auth === "github" && v.deliveryId && v.deliveryId.length <= 255) {
      idemKey = v.deliveryId;
    }
    const ctype = req.headers.get("content-type");
    if (hook.body === "items") this.#checkSourceAccepts(entry, ctype);
    const parsed = hook.body === "items" ? itemsFromBody(ctype, body) : undefined;
    // The sender may name the body (`Content-Disposition: attachment; filename=leads.csv`):
    // the run's messages name the file so (sanitized), not by the run id it is stored under.
    const items = parsed && {
      ...parsed,
      name: dispositionFileName(req.headers.get("content-disposition")),
    };
    const given = hook.body === "inputs" ? inputsFromBody(ctype, body) : {};
    rec.items = items?.count ?? Object.keys(given).length;

    if (v.replayKey && !idemKey && o.store.replayGuard) {
      // The common case: the replay claim commits with the run, one write for the request.
      const runId = newRunId(this.#clock.now());
      const guard = o.store.replayGuard({
        pipeline,
        hook: hook.webhook,
        replayKey: v.replayKey,
        replayTtlMs: v.replayTtlMs,
        now: this.#clock.now(),
      });
      if (o.runs.acceptsGuard?.(guard)) {
        try {
          await this.#startRun(entry, hook, runId, items, given, { guard });
          rec.runId = runId;
          return accepted(runId);
        } catch (e) {
          // The key is there (a replay, or one expired but not yet deleted): claimDelivery decides.
          if (!(e instanceof GuardFailedError)) throw e;
        }
      }
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      // A claim left pending by a request that stopped (a crash) is taken over after a minute.
      // When that request had recorded its run, claim it under that run's id: the run is the
      // answer, and a second one would process the same delivery twice.
      const stale = idemKey
        ? await o.store.idempotency(pipeline, hook.webhook, idemKey, this.#clock.now())
        : undefined;
      const recorded = stale?.state === "pending" &&
        this.#clock.now() - stale.claimedAt > PENDING_STALE_MS &&
        (await o.runs.hasRun?.(stale.runId) ?? false);
      const runId = recorded ? stale.runId : newRunId(this.#clock.now());
      const claim = await o.store.claimDelivery({
        pipeline,
        hook: hook.webhook,
        replayKey: v.replayKey,
        replayTtlMs: v.replayTtlMs,
        idempotencyKey: idemKey,
        idempotencyTtlMs: o.idempotencyTtlMs ?? 24 * 3_600_000,
        pendingStaleMs: PENDING_STALE_MS,
        runId,
        now: this.#clock.now(),
      });
      if (claim.ok && recorded) {
        // The first request recorded its run and stopped (a crash) before marking its claim done:
        // that run is the answer, not a second one.
        await o.store.completeDelivery({
          pipeline,
          hook: hook.webhook,
          idempotencyKey: idemKey!,
          runId,
          now: this.#clock.now(),
        });
        rec.runId = runId;
        rec.duplicate = true;
        return duplicateOf(runId);
      }
      if (claim.ok) {
        const started = this.#startRun(entry, hook, runId, items, given, {
          replayKey: v.replayKey,
          idemKey,
        });
        const local = idemKey ? `${pipeline}/${hook.webhook}/${idemKey}` : undefined;
        if (local) this.#inflight.set(local, started.then(() => runId, () => undefined));
        try {
          await started;
        } finally {
          if (local) this.#inflight.delete(local);
        }
        rec.runId = runId;
        return accepted(runId);
      }
      if (claim.reason === "replay") {
        return json(401, {
          error: hook.auth === "github"
            ? "this signed body was already received under another X-GitHub-Delivery id " +
              "(replay); a redelivery keeps its delivery id, a new event needs a new delivery"
            : "this signed request was already received (replay) and started a run then; to " +
              "retry a delivery and get that run's id back, send it with the same " +
              "Idempotency-Key header; a new delivery needs a new timestamp and signature",
        });
      }
      const first = claim.record.state === "done"
        ? claim.record.runId
        : await this.#awaitFirst(pipeline, hook.webhook, idemKey!);
      if (first === "timeout") break;
      if (first !== "gone") {
        rec.runId = first;
        rec.duplicate = true;
        return duplicateOf(first);
      }
      // The first request failed and dropped its claim: try to claim again.
    }
    return json(409, {
      error: "a request with this Idempotency-Key is still being processed; retry later",
    });
  }

  /**
   * Refuses (415) a body the pipeline's source cannot read, by its manifest's `accepts`. A source
   * plugin that does not resolve is left to the run's creation, which says so.
   */
  #checkSourceAccepts(entry: CatalogEntry, contentType: string | null) {
    checkSourceAccepts(contentType, entry.pipeline!, this.#o.registry);
  }

  /**
   * Writes the input file and records the run; on failure drops the file and the claims. With
   * `guard` the replay claim is part of the run's write (nothing to drop on failure).
   */
  async #startRun(
    entry: CatalogEntry,
    hook: WebhookTrigger,
    runId: string,
    items: (ReturnType<typeof itemsFromBody> & { name?: string }) | undefined,
    given: Record<string, unknown>,
    claims: { replayKey?: string; idemKey?: string; guard?: RunGuard },
  ): Promise<void> {
    const { replayKey, idemKey, guard } = claims;
    const o = this.#o;
    const pipeline = entry.pipeline!.name;
    // Small bodies stay in the run record (no file write and flush here); see RunLauncher.
    const inputFile = items
      ? join(o.dataDir, "webhooks", pipeline, `${runId}.${items.format}`)
      : undefined;
    try {
      if (items) await this.#preflight(entry, hook, items, given);
      await o.runs.start({
        entry,
        id: runId,
        inputs: { ...hook.inputs, ...given },
        inputFile,
        inputName: items?.name,
        inputText: items?.text,
        trigger: {
          kind: "webhook",
          id: hook.webhook,
          detail: idemKey ? { idempotencyKey: idemKey } : {},
        },
        guard,
      });
      if (idemKey) {
        await o.store.completeDelivery({
          pipeline,
          hook: hook.webhook,
          idempotencyKey: idemKey,
          runId,
          now: this.#clock.now(),
        });
      }
    } catch (e) {
      if (inputFile) await Deno.remove(inputFile).catch(() => {});
      if (guard) throw e; // nothing of the request was written
      await o.store.releaseDelivery({
        pipeline,
        hook: hook.webhook,
        replayKey,
        idempotencyKey: idemKey,
      })
        .catch(() => {});
      throw e;
    }
  }

  /**
   * Lets the pipeline's source read the beginning of an items body (see the module doc).
   * @throws {BodyError} with status 422 and the source's message when it cannot read the body.
   */
  async #preflight(
    entry: CatalogEntry,
    hook: WebhookTrigger,
    items: ReturnType<typeof itemsFromBody> & { name?: string },
    given: Record<string, unknown>,
  ): Promise<void> {
    const deps = this.#o.preflight;
    const pipeline = entry.pipeline!;
    if (!deps || entry.yaml === undefined) return;
    let inputs: Record<string, unknown>;
    try {
      inputs = resolveInputs(pipeline.inputs, { ...hook.inputs, ...given });
    } catch {
      return; // the run's creation says what is wrong with them
    }
    const got = await preflightSource(deps, {
      pipeline,
      yaml: entry.yaml,
      file: entry.file,
      inputs,
      body: items.text,
      format: items.format,
      inputName: items.name ?? "body",
      trigger: { kind: "webhook", id: hook.webhook },
    });
    const at = { pipeline: pipeline.name, hook: hook.webhook, ms: got.ms };
    if ("refused" in got) {
      throw new BodyError(
        422,
        `the pipeline's source (${pipeline.source.plugin}) cannot read this body, so no run was ` +
          `started: ${got.refused}`,
      );
    }
    if ("skipped" in got) {
      this.#log.warn("webhook body not checked by its source; accepted", {
        ...at,
        reason: got.skipped,
      });
    } else this.#log.debug("webhook body checked by its source", at);
  }

  /**
   * Waits for the first request with the same key: its run id, `gone` when it failed (its claim
   * was dropped), `timeout` when it is still pending.
   */
  async #awaitFirst(pipeline: string, hook: string, key: string): Promise<string> {
    const local = this.#inflight.get(`${pipeline}/${hook}/${key}`);
    if (local) return (await local) ?? "gone";
    const deadline = performance.now() + (this.#o.duplicateWaitMs ?? 10_000);
    while (performance.now() < deadline) {
      const rec = await this.#o.store.idempotency(pipeline, hook, key, this.#clock.now());
      if (!rec) return "gone";
      if (rec.state === "done") return rec.runId;
      await new Promise((r) => setTimeout(r, 20));
    }
    return "timeout";
  }

  /**
   * What the server log says when the hook's secret does not resolve: the variables to set. The
   * caller (anyone on the internet) is told only that the secret is not configured.
   */
  /** The hook's secret; a {@link TemplateError} when it does not resolve or is empty. */
  #secretOf(hook: WebhookTrigger): string {
    const secret = String(resolveTemplates(hook.secret, { secrets: this.#o.secrets }));
    if (secret === "") throw new TemplateError("the webhook's secret is empty");
    return secret;
  }

  #secretMissing(hook: WebhookTrigger): string {
    const missing = secretNamesUsed(hook.secret).filter((n) => !this.#o.secrets(n));
    if (missing.length === 0) {
      return "the webhook's secret is not configured on the server: its `secret:` in the " +
        "pipeline file is empty; write ${{ secrets.NAME }} there and set SLUICE_SECRET_<NAME>";
    }
    const vars = missing.map(secretEnvName).join(" and ");
    return `the webhook's secret is not configured on the server: start the server with ${vars} ` +
      `set to the secret the sender uses (or put ${missing.join(", ")} in its secrets.file)`;
  }

  #failure(e: unknown, hook: WebhookTrigger): Response {
    if (e instanceof BodyError) return json(e.status, { error: e.message });
    if (e instanceof InputError) {
      return hook.body === "inputs"
        ? json(400, { error: e.message })
        : json(500, { error: `the webhook's inputs are invalid: ${e.message}` });
    }
    if (e instanceof EngineError) {
      return json(503, { error: `the pipeline cannot run: ${e.message}` });
    }
    const msg = (e as Error).message ?? String(e);
    if (e instanceof TemplateError) {
      this.#log.error("webhook failed", { hook: hook.webhook, error: this.#secretMissing(hook) });
      return json(500, {
        error: "the webhook's secret is not configured on the server; the server log names " +
          "the variable to set",
      });
    }
    this.#log.error("webhook failed", { hook: hook.webhook, error: msg });
    return json(500, { error: "the request could not be processed; retry later" });
  }
}
