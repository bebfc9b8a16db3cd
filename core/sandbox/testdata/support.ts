/**
 * Helpers for the sandbox tests: load a test plugin folder and build a stage spec for it.
 * @module
 */
import { fileURLToPath } from "node:url";
import { Manifest, type ResolvedPlugin } from "../../plugins/manifest.ts";
import type { StageSpec } from "../../engine/executor.ts";

/** Absolute folder of test plugin `name` under `core/sandbox/testdata/`. */
export function testPluginDir(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/** Reads and validates a test plugin's manifest. */
export async function loadTestPlugin(name: string): Promise<ResolvedPlugin> {
  const dir = testPluginDir(name);
  const manifest = Manifest.parse(JSON.parse(await Deno.readTextFile(`${dir}/plugin.json`)));
  return { manifest, dir, origin: "test" };
}

/** A stage spec with small limits and no permissions; override what a test needs. */
export function makeSpec(
  plugin: ResolvedPlugin,
  dataDir: string,
  overrides: Partial<StageSpec> = {},
): StageSpec {
  return {
    runId: "run-1",
    stageId: "stage-a",
    stageIndex: 1,
    plugin,
    config: {},
    secrets: {},
    permissions: { net: [], read: [], write: [], env: [] },
    concurrency: 1,
    timeoutMs: 10_000,
    memoryMb: 64,
    dataDir,
    inputs: {},
    ...overrides,
  };
}

/** True once no process with this pid exists (it exited and was reaped). */
export async function isGone(pid: number): Promise<boolean> {
  try {
    await Deno.stat(`/proc/${pid}`);
    return false;
  } catch {
    return true;
  }
}
