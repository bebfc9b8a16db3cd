/**
 * The Sluice web UI: server-rendered pages (hono/jsx) over the same services as the API, with
 * small bundled client scripts for the editor, live progress and dialogs. Mount it last:
 *
 * ```ts
 * const ui = await createUi({ deps, hooks: triggers.webhooks, config: () => text });
 * createApp({ ...deps, ui });
 * ```
 * @module
 */
import type { Hono } from "hono";
import type { AppDeps } from "../core/http/deps.ts";
import { createUi } from "./ui_app.tsx";
import type { UiOptions } from "./ui_deps.ts";

export { createUi };
export type { DeliverySource, UiOptions } from "./ui_deps.ts";

/** `deps` with the UI built over them (`ui` set), for `createApp`. */
export async function withUi(
  deps: AppDeps,
  extra: Omit<UiOptions, "deps"> = {},
): Promise<AppDeps> {
  const ui = await createUi({ ...extra, deps });
  // AppDeps types the mount point as a plain Hono; the UI's context variables are the app's own.
  return { ...deps, ui: ui as unknown as Hono };
}
