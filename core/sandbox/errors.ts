/**
 * Turns sandbox failures into the engine's `PluginError`, naming the stage and plugin and saying
 * whether a retry can help.
 * @module
 */
import { PluginError, type StageSpec } from "../engine/executor.ts";
import { SandboxError } from "../../sdk/runtime/sandbox_error.ts";
import { stripFlagAdvice } from "../../sdk/runtime/death.ts";

/** `stage "x" (plugin name@version)`, for messages. */
export function describeStage(spec: Pick<StageSpec, "stageId" | "plugin">): string {
  const m = spec.plugin.manifest;
  return `stage "${spec.stageId}" (plugin ${m.name}@${m.version})`;
}

/** Wraps anything a sandboxed call threw into a {@linkcode PluginError}. */
export function toPluginError(
  err: unknown,
  spec: Pick<StageSpec, "stageId" | "plugin">,
): PluginError {
  if (err instanceof PluginError) return err;
  const where = describeStage(spec);
  if (!(err instanceof SandboxError)) {
    const msg = err instanceof Error ? err.message : String(err);
    return new PluginError(`sandbox: ${where}: ${msg}`, { cause: err, retryable: false });
  }
  switch (err.kind) {
    case "permission": {
      const msg = stripFlagAdvice(err.message).replace(/^permission denied: /, "");
      // Storages the sandbox closes for every plugin (the message says what to use instead).
      const advice = msg.includes("Requires sandbox access to")
        ? "No permission opens this"
        : "The stage does not grant this; if the plugin needs it, add it to the plugin's " +
          "manifest permissions, approve it and grant it in the stage";
      return new PluginError(`sandbox: permission denied: ${msg} (${where}). ${advice}`, {
        cause: err,
        retryable: false,
      });
    }
    case "plugin":
      // Retryable unless the plugin threw the SDK's `InputError` (retrying cannot help).
      return new PluginError(`${where} failed: ${err.message}`, {
        cause: err,
        retryable: err.retryable,
        retryAfterMs: err.retryAfterMs,
        ...(err.input ? { input: err.message } : {}),
      });
    case "config":
      return new PluginError(`${where}: configuration error: ${err.message}`, {
        cause: err,
        config: true,
      });
    default:
      return new PluginError(`sandbox: ${where}: ${err.message}`, {
        cause: err,
        retryable: err.retryable,
      });
  }
}
