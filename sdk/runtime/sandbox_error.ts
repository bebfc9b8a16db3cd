/**
 * The error a sandboxed plugin call fails with, on the host side. `core/sandbox` turns it into
 * the engine's `PluginError`; `sdk/testing.ts` throws it as is.
 * @module
 */

/** Why a sandboxed call failed. */
export type SandboxErrorKind =
  /** The plugin's code threw. */
  | "plugin"
  /** The plugin said its stage's configuration is wrong (the SDK's `ConfigError`). */
  | "config"
  /** Deno refused a permission the stage does not grant. */
  | "permission"
  /** The call ran longer than its timeout; the process was killed. */
  | "timeout"
  /** The process hit its V8 heap cap and died. */
  | "oom"
  /** The process exited or was killed during the call. */
  | "exit"
  /** The process wrote something that breaks the protocol; it was killed. */
  | "protocol"
  /** The caller aborted the call; the process was killed. */
  | "aborted"
  /** The plugin's entry module could not be loaded. */
  | "load"
  /** The instance was already closed. */
  | "closed";

/** A failed sandboxed call. */
export class SandboxError extends Error {
  /** Why it failed. */
  readonly kind: SandboxErrorKind;
  /** Whether another attempt (on a fresh instance) may succeed. */
  readonly retryable: boolean;
  /** The plugin-side stack, when the plugin threw. */
  readonly remoteStack?: string;
  /** A wait the plugin's error asked for before another attempt (an API's Retry-After), ms. */
  readonly retryAfterMs?: number;
  /**
   * True when the plugin threw the SDK's `InputError`: the input (the run's file, an item) is at
   * fault, not the plugin or the sandbox.
   */
  readonly input: boolean;

  constructor(
    kind: SandboxErrorKind,
    message: string,
    options?: {
      cause?: unknown;
      remoteStack?: string;
      retryable?: boolean;
      retryAfterMs?: number;
      input?: boolean;
    },
  ) {
    super(message, { cause: options?.cause });
    this.name = "SandboxError";
    this.kind = kind;
    this.remoteStack = options?.remoteStack;
    this.retryAfterMs = options?.retryAfterMs;
    this.input = kind === "plugin" && options?.input === true;
    this.retryable = options?.retryable ??
      !(kind === "permission" || kind === "load" || kind === "config");
  }
}
