/**
 * Routes of the web UI. Pages read the store, catalog and registry directly (no HTTP round trip);
 * changes go through the JSON API from the browser, so roles and CSRF are enforced in one place.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { UiErrorPages } from "../core/http/app.ts";
import type { AppEnv } from "../core/http/app_env.ts";
import { safeNext } from "../core/http/oidc.ts";
import { HttpProblem } from "../core/http/problem.ts";
import { SessionStore } from "../core/http/sessions.ts";
import { TokenStore } from "../core/http/tokens.ts";
import { fileURLToPath } from "node:url";
import { pipelineJsonSchema } from "../core/pipeline/json_schema.ts";
import { describePermissions } from "../core/plugins/describe.ts";
import { listPlugins } from "../core/plugins/install.ts";
import { dashboardData, LeadCounter } from "./dashboard_data.ts";
import { Layout } from "./layout.tsx";
import { LoginPage } from "./pages/login.tsx";
import { Dashboard } from "./pages/dashboard.tsx";
import { PipelineEditor, PipelineList } from "./pages/pipelines.tsx";
import { LOG_LINES, REJECTED_PAGE, RunList, RunPage } from "./pages/runs.tsx";
import { LeadsPage } from "./pages/leads.tsx";
import { leadsCsv } from "./leads_csv.ts";
import { leadsForm } from "./leads_query.ts";
import { ErrorBody, errorTitle } from "./pages/error.tsx";
import { PluginsPage } from "./pages/plugins.tsx";
import { resolvePluginRef } from "../core/plugins/manifest.ts";
import { type HookRow, TriggersPage } from "./pages/triggers.tsx";
import { SettingsPage } from "./pages/settings.tsx";
import { can, pageSession, tokenLogin, viewer } from "./session.ts";
import { StaticFiles } from "./static_files.ts";
import type { UiOptions } from "./ui_deps.ts";
import {
  leadsData,
  leadsItemQuery,
  needRun,
  pipelineRows,
  rejectedExport,
  rejectedPage,
  runEvents,
  runPageData,
  sourceFileView,
} from "./ui_data.ts";
import { expectedOrigin } from "../core/http/auth.ts";
import type { WebhookTrigger } from "../core/pipeline/model.ts";

const NEW_PIPELINE = `name: my-pipeline
description: What this pipeline does
source:
  plugin: csv-source@^1
stages:
  - id: normalize
    plugin: normalize@^1
`;

/**
 * Builds the UI's Hono app (mount it at `/` after the API), with its error pages
 * (`errorPage`, used by `createApp` for every error and unknown path outside the API).
 */
export async function createUi(o: UiOptions): Promise<Hono<AppEnv> & UiErrorPages> {
  const deps = o.deps;
  const now = deps.now ?? Date.now;
  const sessions = new SessionStore(deps.kv, { now, ttlMs: deps.login?.sessionTtlMs });
  const tokens = new TokenStore(deps.kv, { now });
  const assets = await StaticFiles.load(
    o.staticDir ?? fileURLToPath(new URL("./static", import.meta.url)),
  );
  const leads = new LeadCounter(deps.store);
  let schema: Record<string, unknown> | undefined;

  const app = new Hono<AppEnv>();
  assets.mount(app);
  app.use("*", pageSession({ sessions, tokens, login: deps.login }));

  const page = (
    c: Context<AppEnv>,
    title: string,
    nav: string,
    body: unknown,
    scripts: string[] = [],
    status: 200 | 404 | 400 = 200,
  ) =>
    c.html(
      <Layout title={title} nav={nav} user={c.get("principal")} assets={assets} scripts={scripts}>
        {body as never}
      </Layout>,
      status,
    );

  const errorPage: UiErrorPages["errorPage"] = (c, e) => {
    const requestId = c.get("requestId");
    const headers: Record<string, string> = { ...e.headers };
    if (requestId) headers["x-request-id"] = requestId;
    return c.html(
      <Layout title={errorTitle(e.status)} nav="" user={c.get("principal")} assets={assets}>
        <ErrorBody
          status={e.status}
          detail={e.detail}
          requestId={requestId}
          loggedIn={!!c.get("principal")}
        />
      </Layout>,
      e.status as ContentfulStatusCode,
      headers,
    );
  };

  const providers = () => (deps.login?.providers ?? []).map((p) => ({ id: p.id, kind: p.kind }));

  app.get("/login", (c) => {
    const next = safeNext(c.req.query("next"));
    return page(c, "Log in", "/login", <LoginPage providers={providers()} next={next} />);
  });
  app.post("/login", async (c) => {
    const form = await c.req.raw.clone().formData().catch(() => undefined);
    const next = safeNext(String(form?.get("next") ?? "/"));
    const r = await tokenLogin(c, { tokens, sessions, publicUrl: deps.publicUrl, next });
    if (r.ok) return c.redirect(r.next, 303);
    return page(
      c,
      "Log in",
      "/login",
      <LoginPage providers={providers()} next={next} error={r.error} />,
      [],
      400,
    );
  });

  app.get("/", async (c) => {
    const data = await dashboardData({ store: deps.store, schedules: deps.schedules, now: now() });
    const last = data.lastSucceeded;
    const latest = last
      ? { runId: last.id, pipeline: last.pipeline, ...(await leads.count(last)) }
      : undefined;
    return page(c, "Dashboard", "/", <Dashboard data={data} latest={latest} />, ["charts.js"]);
  });

  app.get("/pipelines", async (c) => {
    const rows = await pipelineRows(deps);
    return page(
      c,
      "Pipelines",
      "/pipelines",
      <PipelineList rows={rows} canEdit={can(c, "operator")} />,
    );
  });

  const editor = async (c: Context<AppEnv>, name?: string) => {
    const entry = name ? await deps.pipelines.get(name) : undefined;
    if (name && !entry) {
      throw new HttpProblem(404, `no pipeline named ${name}; see /pipelines`);
    }
    schema ??= pipelineJsonSchema();
    const versions = entry && deps.pipelines.history
      ? await deps.pipelines.history(entry.name).catch(() => [])
      : [];
    const sourceFile = entry ? await sourceFileView(deps, entry) : undefined;
    return page(
      c,
      entry ? `Pipeline ${entry.name}` : "New pipeline",
      "/pipelines",
      <PipelineEditor
        entry={entry}
        yaml={entry?.yaml ?? NEW_PIPELINE}
        canEdit={can(c, "operator")}
        versions={versions}
        schema={schema}
        registry={deps.registry}
        sourceFile={sourceFile}
      />,
      ["editor.js"],
    );
  };
  app.get("/pipelines/new", (c) => editor(c));
  app.get("/pipelines/:name", (c) => editor(c, c.req.param("name")));

  app.get("/runs", async (c) => {
    const q = c.req.query();
    const { listRuns } = await import("../core/http/run_views.ts");
    const filter = {
      pipeline: q.pipeline || undefined,
      state: q.state || undefined,
      trigger: q.trigger || undefined,
    };
    const states = ["queued", "running", "succeeded", "failed", "cancelled"];
    const page1 = await listRuns(deps.store, {
      pipeline: filter.pipeline,
      state: states.includes(filter.state ?? "") ? filter.state as "queued" : undefined,
      trigger: filter.trigger,
      limit: 50,
      cursor: q.cursor || undefined,
    });
    const pipelines = (await deps.pipelines.list()).map((e) => e.name).sort();
    return page(
      c,
      "Runs",
      "/runs",
      <RunList runs={page1.runs} filter={filter} next={page1.cursor} pipelines={pipelines} />,
    );
  });

  app.get("/runs/:id", async (c) => {
    const r = await runPageData(deps.store, c.req.param("id"));
    const from = Math.max(0, Math.floor(Number(c.req.query("rejected") ?? 0)) || 0);
    // Rejected rows and the items of skipped chunks (onError: skip): what the list holds.
    const counted = r.detail.rejectedItems;
    const [events, rejected, leadCount] = await Promise.all([
      runEvents(deps.store, r.run, LOG_LINES),
      rejectedPage(deps.store, r.run, { from, limit: REJECTED_PAGE, counted }),
      r.run.state === "succeeded" ? leads.count(r.run) : undefined,
    ]);
    return page(
      c,
      `Run of ${r.run.pipeline}`,
      "/runs",
      <RunPage
        d={r.detail}
        dead={r.dead}
        events={events}
        rejected={rejected}
        canOperate={can(c, "operator")}
        leads={leadCount}
      />,
    );
  });

  app.get("/runs/:id/rejected", async (c) => {
    const run = await needRun(deps.store, c.req.param("id"));
    const format = c.req.query("format") === "jsonl" ? "jsonl" : "csv";
    const file = `rejected-${run.id.replace(/[^\w.-]/g, "_")}.${format}`;
    return c.body(rejectedExport(deps.store, run, format), 200, {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
      "content-disposition": `attachment; filename="${file}"`,
    });
  });

  app.get("/runs/:id/items.csv", async (c) => {
    const run = await needRun(deps.store, c.req.param("id"));
    const query = leadsItemQuery(run, leadsForm(new URL(c.req.url).searchParams));
    const file = `${run.pipeline}-${run.id}-selection.csv`.replace(/[^\w.-]/g, "_");
    return c.body(await leadsCsv(deps.store, run, query), 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${file}"`,
    });
  });

  app.get("/runs/:id/items", async (c) => {
    const d = await leadsData(
      deps.store,
      c.req.param("id"),
      new URL(c.req.url).searchParams,
      o.leadsMaxScan,
    );
    return page(c, "Items and leads", "/runs", <LeadsPage {...d} />);
  });

  app.get("/plugins", (c) => {
    const byKey = new Map(
      deps.registry.list().map((p) => [`${p.manifest.name}@${p.manifest.version}@${p.origin}`, p]),
    );
    const rows = listPlugins(deps.registry).map((r) => {
      const p = byKey.get(`${r.name}@${r.version}@${r.origin}`);
      return {
        ...r,
        permissions: p
          ? describePermissions(p.approved ?? p.manifest.permissions)
          : ["unknown (plugin.json unreadable)"],
      };
    });
    return page(c, "Plugins", "/plugins", <PluginsPage rows={rows} isAdmin={can(c, "admin")} />);
  });

  app.get("/triggers", async (c) => {
    const schedules = deps.schedules ? await deps.schedules.list() : undefined;
    const origin = expectedOrigin(c, deps.publicUrl);
    const hooks: HookRow[] = [];
    for (const e of await deps.pipelines.list()) {
      for (const t of e.pipeline?.triggers ?? []) {
        if (!("webhook" in t)) continue;
        const w = t as WebhookTrigger;
        hooks.push({
          pipeline: e.name,
          hook: w.webhook,
          auth: w.auth,
          body: w.body,
          enabled: w.enabled,
          url: `${origin}/hooks/${e.name}/${w.webhook}`,
          accepts: e.pipeline && resolvePluginRef(deps.registry, e.pipeline.source.plugin)
            ?.manifest.accepts,
          deliveries: o.hooks
            ? await o.hooks.deliveries(e.name, w.webhook, 10).catch(() => [])
            : [],
        });
      }
    }
    return page(
      c,
      "Schedules & webhooks",
      "/triggers",
      <TriggersPage schedules={schedules} hooks={hooks} canOperate={can(c, "operator")} />,
    );
  });

  app.get("/settings", async (c) => {
    const admin = can(c, "admin");
    return page(
      c,
      "Settings",
      "/settings",
      <SettingsPage
        user={viewer(c)}
        isAdmin={admin}
        tokens={admin ? await tokens.list() : []}
        allow={deps.login?.allow ?? []}
        providers={providers().map((p) => p.id)}
        config={admin ? o.config?.() : undefined}
      />,
    );
  });

  return Object.assign(app, { errorPage });
}
