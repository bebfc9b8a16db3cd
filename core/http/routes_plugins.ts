/**
 * `/api/v1/plugins`: list, inspect, install with approval (two steps: the first POST answers the
 * approval request with the permissions in plain words; a second POST with `approve: true` and
 * the shown `integrity`, which is required, installs exactly those files), remove.
 * @module
 */
import { z } from "@hono/zod-openapi";
import { describeApproval, describePermissions } from "../plugins/describe.ts";
import {
  type ApprovalRequest,
  inspectPlugin,
  installPlugin,
  listPlugins,
  PluginInUseError,
  removePlugin,
} from "../plugins/install.ts";
import { runsUsing } from "../plugins/run_pin.ts";
import type { AppDeps } from "./deps.ts";
import { HttpProblem } from "./problem.ts";
import { type ApiApp, apiRoute, json, valid } from "./route.ts";

const NameParam = z.object({
  name: z.string().openapi({
    param: { name: "name", in: "path" },
    description: "Plugin name; encode the / of @scope/name as %2F",
  }),
});

const InstallBody = z.object({
  source: z.string().min(1).describe(
    "A folder, a .tgz path, an https:// URL to a .tgz, or npm:name[@version]",
  ),
  approve: z.boolean().default(false),
  integrity: z.string().optional().describe(
    "The integrity of the approval request being approved; required with `approve: true`",
  ),
}).openapi("PluginInstall");

const Approval = z.object({
  approvalRequired: z.literal(true),
  request: z.record(z.string(), z.unknown()),
  description: z.array(z.string()),
  next: z.string(),
}).openapi("PluginApproval");

/** Registers the plugin routes. */
export function pluginRoutes(app: ApiApp, deps: AppDeps): void {
  apiRoute(app, "viewer", {
    method: "get",
    path: "/plugins",
    summary: "List plugins (builtin and installed)",
    tags: ["plugins"],
    responses: {
      200: json("Plugins", z.object({ plugins: z.array(z.record(z.string(), z.unknown())) })),
    },
  }, (c) => c.json({ plugins: listPlugins(deps.registry) }));

  apiRoute(app, "viewer", {
    method: "get",
    path: "/plugins/{name}",
    summary: "Inspect a plugin: versions, approved permissions, integrity",
    tags: ["plugins"],
    request: { params: NameParam },
    responses: { 200: json("The plugin", z.record(z.string(), z.unknown())) },
  }, (c) => {
    const name = decodeURIComponent(c.req.param("name")!);
    let info;
    try {
      info = inspectPlugin(deps.registry, name);
    } catch (e) {
      throw new HttpProblem(404, (e as Error).message);
    }
    return c.json({
      name: info.name,
      builtin: info.builtin && {
        manifest: info.builtin.manifest,
        permissions: describePermissions(info.builtin.manifest.permissions),
      },
      versions: info.versions.map((v) => ({ ...v, permissions: describePermissions(v.approved) })),
    });
  });

  apiRoute(app, "admin", {
    method: "post",
    path: "/plugins",
    summary: "Install a plugin (two steps: approval request, then approve)",
    tags: ["plugins"],
    request: { body: { content: { "application/json": { schema: InstallBody } }, required: true } },
    responses: {
      201: json("Installed", z.record(z.string(), z.unknown())),
      202: json("Approval needed", Approval),
    },
  }, async (c) => {
    const body = valid<z.infer<typeof InstallBody>>(c, "json");
    if (body.approve && !body.integrity) {
      // Without the reviewed integrity, an https:// or npm source could change between the
      // review and this install, and the changed files would be installed unseen.
      throw new HttpProblem(
        400,
        `approve: true needs the integrity of the approval request you reviewed: review first ` +
          `(POST {"source": ${JSON.stringify(body.source)}} without approve answers the ` +
          `permissions and the integrity), then POST again with "approve": true and that "integrity"`,
      );
    }
    let shown: ApprovalRequest | undefined;
    let mismatch = false;
    try {
      const result = await installPlugin({
        source: body.source,
        registry: deps.registry,
        denoCache: deps.denoCache,
        fetch: deps.fetch,
        npmRegistry: deps.npmRegistry,
        signal: c.req.raw.signal,
        approve: (req) => {
          shown = req;
          if (!body.approve) return Promise.resolve(false);
          mismatch = body.integrity !== req.integrity;
          return Promise.resolve(!mismatch);
        },
      });
      if (mismatch) {
        throw new HttpProblem(
          409,
          `the files of ${body.source} changed since the approval request (integrity ` +
            `${shown!.integrity}, approved ${body.integrity}); review the new request`,
          { extra: { request: shown } },
        );
      }
      if (!result.installed) {
        return c.json({
          approvalRequired: true as const,
          request: shown as unknown as Record<string, unknown>,
          description: describeApproval(shown!),
          next: `POST again with {"source": ${JSON.stringify(body.source)}, "approve": true, ` +
            `"integrity": ${JSON.stringify(shown!.integrity)}} to install`,
        }, 202);
      }
      c.get("log").info("plugin installed", {
        plugin: `${result.request.name}@${result.request.version}`,
        source: result.request.source,
      });
      return c.json({
        installed: true,
        name: result.request.name,
        version: result.request.version,
        dir: result.plugin?.dir,
        integrity: result.request.integrity,
      }, 201);
    } catch (e) {
      if (e instanceof HttpProblem) throw e;
      throw new HttpProblem(422, `installing ${body.source} failed: ${(e as Error).message}`);
    }
  });

  apiRoute(app, "admin", {
    method: "delete",
    path: "/plugins/{name}",
    summary: "Remove an installed plugin (every version, or ?version=)",
    tags: ["plugins"],
    request: { params: NameParam, query: z.object({ version: z.string().optional() }) },
    responses: { 200: json("Removed", z.object({ removed: z.array(z.string()) })) },
  }, async (c) => {
    const name = decodeURIComponent(c.req.param("name")!);
    try {
      const removed = await removePlugin(deps.registry, name, c.req.query("version"), {
        inUse: (n, versions) => runsUsing(deps.store, n, versions),
      });
      c.get("log").info("plugin removed", { plugin: name, versions: removed });
      return c.json({ removed });
    } catch (e) {
      throw new HttpProblem(e instanceof PluginInUseError ? 409 : 404, (e as Error).message);
    }
  });
}
