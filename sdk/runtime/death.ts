/**
 * Explains why a sandboxed plugin process died or could not load, from its exit status and
 * the tail of its stderr, in words a person can act on.
 * @module
 */
import { isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SandboxError } from "./sandbox_error.ts";
import { isInside } from "./sandbox_args.ts";

const OOM = /out of memory|heap limit|allocation failed/i;
const PERMISSION = /NotCapable|PermissionDenied|Requires \w+ access|requires unscoped/;
const NOT_CACHED = /--cached-only|not found in cache|not in cache|not cached/i;

/**
 * True when `err` is a plugin entry that could not load because a dependency is not in the
 * Deno cache (the host can fill the cache and start the process again).
 */
export function isNotCached(err: unknown): boolean {
  return err instanceof SandboxError && err.kind === "load" && NOT_CACHED.test(err.message);
}

/** Keeps the last lines of a process's stderr and what they revealed. */
export class StderrTail {
  /** The last lines, oldest first. */
  readonly lines: string[] = [];
  /** True once a line said V8 ran out of heap. */
  outOfMemory = false;
  /** The first line that reported a refused permission. */
  permissionLine?: string;
  #max: number;

  constructor(max = 40) {
    this.#max = max;
  }

  /** Records one stderr line. */
  push(line: string): void {
    if (OOM.test(line)) this.outOfMemory = true;
    if (!this.permissionLine && PERMISSION.test(line)) this.permissionLine = line.trim();
    this.lines.push(line);
    if (this.lines.length > this.#max) this.lines.shift();
  }

  /** The last non-empty lines, joined, for an error message. */
  summary(count = 5): string {
    return this.lines.filter((l) => l.trim() !== "").slice(-count).join(" | ");
  }
}

/** Removes Deno's command-line advice, which does not apply to a sandboxed plugin. */
export function stripFlagAdvice(message: string): string {
  return message.replace(/, run again with the --allow-[\w-]+ flag/g, "");
}

/** The error for a process that exited (or was killed by something other than the host). */
export function describeDeath(
  status: Deno.CommandStatus,
  stderr: StderrTail,
  opts: { memoryMb: number },
): SandboxError {
  if (stderr.outOfMemory) {
    return new SandboxError(
      "oom",
      `out of memory (heap cap ${opts.memoryMb} MB): the process was killed; give the stage more ` +
        "memory (`memory:` in the pipeline's stage, in MB; `memoryMb` in sdk/testing.ts) or " +
        "smaller chunks (`chunk:`)",
    );
  }
  if (stderr.permissionLine) {
    return new SandboxError(
      "permission",
      `permission denied: ${stripFlagAdvice(stderr.permissionLine)} (the process exited)`,
    );
  }
  const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
  const tail = stderr.summary();
  return new SandboxError("exit", `the plugin process ${how}${tail ? `: ${tail}` : ""}`);
}

/** How much of a plugin's error stack is searched for its place (stacks are a few KB). */
const MAX_STACK_SCAN = 64 * 1024;
/** Longest frame location looked at. */
const MAX_FRAME = 4096;
/** A frame location: `file:///…/mod.ts:12:5` (the whole token). */
const FRAME = /^(file:\/\/.+?):(\d+):(\d+)$/;

/**
 * Where in the plugin's own files an error was thrown: the first frame of `stack` inside
 * `pluginDir`, as `mod.ts:12:5` (relative to the folder), or undefined when none is.
 */
export function pluginLocation(stack: string | undefined, pluginDir: string): string | undefined {
  if (typeof stack !== "string" || !stack) return undefined;
  const dir = resolve(pluginDir);
  // The stack comes from the plugin's process, which may send anything up to the line limit:
  // look at its start only, one whitespace- or paren-delimited token at a time, so the time
  // taken stays linear in what is looked at (a search over the whole text for `file://…:L:C`
  // is quadratic and froze the host on a stack of repeated "file://").
  for (const token of stack.slice(0, MAX_STACK_SCAN).split(/[\s()]+/)) {
    if (!token.startsWith("file://") || token.length > MAX_FRAME) continue;
    const m = FRAME.exec(token);
    if (!m) continue;
    let path: string;
    try {
      path = fileURLToPath(m[1]);
    } catch {
      continue;
    }
    const rel = relative(dir, path);
    if (rel && !rel.startsWith("..") && !isAbsolute(rel)) return `${rel}:${m[2]}:${m[3]}`;
  }
  return undefined;
}

/** The file a refused read was for, when `message` is Deno refusing one. */
function refusedRead(message: string): string | undefined {
  return /Requires read access to "([^"]+)"/.exec(message)?.[1];
}

/** The message for an entry module that failed to load, with a hint when it is the cache. */
export function loadErrorMessage(
  message: string,
  ctx: {
    entry: string;
    entryPath?: string;
    denoDir?: string;
    opts: { hostConfig: string; pluginDir?: string };
  },
): string {
  const outside = refusedRead(message);
  if (outside && ctx.opts.pluginDir && !isInside(resolve(ctx.opts.pluginDir), resolve(outside))) {
    return `could not load ${ctx.entry}: it imports ${outside}, outside the plugin folder ` +
      `${ctx.opts.pluginDir}. A plugin may import only files inside its own folder (it is ` +
      "installed and run as that folder alone), the SDK (@sluice/sdk, @sluice/sdk/…) and " +
      'npm: packages (import x from "npm:name@1"); move or copy the file into the plugin folder';
  }
  let text = `could not load ${ctx.entry}: ${stripFlagAdvice(message)}`;
  if (NOT_CACHED.test(message)) {
    text += `. Its dependencies are not in the Deno cache (DENO_DIR=${ctx.denoDir ?? "default"}) ` +
      "and the sandbox never downloads: install the plugin again (the installer caches them) or " +
      `run \`deno cache --config ${ctx.opts.hostConfig} ${ctx.entryPath ?? ctx.entry}\``;
  }
  return text;
}
