/**
 * `sluice plugin …`: install, list, inspect, remove and scaffold plugins. The command does its
 * input and output through an injected {@linkcode PluginCliIO}, so `core/cli.ts` wires it to the
 * terminal and tests drive it directly.
 * @module
 */
import { join } from "node:path";
import type { Manifest } from "./manifest.ts";
import { splitPluginRef } from "./manifest.ts";
import { openRegistry, type Registry, type RegistryOptions } from "./registry.ts";
import {
  type DenoCache,
  inspectPlugin,
  installPlugin,
  listPlugins,
  removePlugin,
} from "./install.ts";
import { describeApproval, describePermissions } from "./describe.ts";
import { scaffoldPlugin } from "./scaffold.ts";
import { describeOutputs } from "./outputs.ts";

/** Terminal access for the command. `stdout`/`stderr` receive text that ends with a newline. */
export interface PluginCliIO {
  stdout(s: string): void;
  stderr(s: string): void;
  /** Asks a question; `null` when there is no answer (end of input). */
  prompt(question: string): Promise<string | null>;
  /** Whether a person can answer prompts. */
  isTTY: boolean;
}

/** Where plugins live, and what to inject for installs. */
export interface PluginCliOptions extends RegistryOptions {
  /** An already open registry over the same paths (else one is opened). */
  registry?: Registry;
  fetch?: typeof fetch;
  npmRegistry?: string;
  denoCache?: DenoCache;
  signal?: AbortSignal;
  /** Unfinished runs using versions of a plugin: `remove` refuses those (see `removePlugin`). */
  inUse?: (name: string, versions: string[]) => Promise<string[]>;
}

const USAGE = `usage: sluice plugin <command>
  install <folder|file.tgz|https://…/x.tgz|npm:name[@version]> [--yes]
  list
  inspect NAME
  remove NAME[@VERSION]
  new NAME [--kind source|transform|sink] [--dir plugins/] [--force]   (creates plugins/NAME/;
      --force overwrites the files it writes)
`;

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(args: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-y") flags.set("yes", true);
    else if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else if (["kind", "dir"].includes(a.slice(2))) {
        if (args[i + 1] === undefined) throw new UsageError(`${a} needs a value`);
        flags.set(a.slice(2), args[++i]);
      } else flags.set(a.slice(2), true);
    } else positional.push(a);
  }
  return { positional, flags };
}

class UsageError extends Error {}

/** The item fields a plugin adds (its manifest's `outputs`), for `plugin inspect`. */
function outputLines(m: Manifest): string[] {
  const fields = describeOutputs(m);
  return fields.length ? ["  output fields:", ...fields.map((l) => `    ${l}`)] : [];
}

/** A short reason for `plugin list`; `inspect` shows the whole message. */
function refusal(problem: string): string {
  if (/does not match plugins\.lock/.test(problem)) return "files changed since install";
  if (/never approved|not approved/i.test(problem)) return "asks for permissions never approved";
  return problem.split(/[.:]/)[0];
}

const KINDS: Manifest["kind"][] = ["source", "transform", "sink"];

/**
 * Runs `sluice plugin <args>` and returns the exit code: 0 success, 1 failure or refusal,
 * 2 usage error. Without a TTY and without `--yes`, install shows the permissions and refuses.
 */
export async function pluginCommand(
  args: string[],
  io: PluginCliIO,
  opts: PluginCliOptions,
): Promise<number> {
  const out = (lines: string[]) => io.stdout(lines.map((l) => l + "\n").join(""));
  let parsed: Parsed;
  try {
    parsed = parseArgs(args);
  } catch (e) {
    io.stderr(`sluice plugin: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [cmd, arg, ...rest] = parsed.positional;
  const flag = (name: string) => parsed.flags.get(name);
  const known = ["yes", "kind", "dir", "force", "help"];
  const unknown = [...parsed.flags.keys()].filter((f) => !known.includes(f));
  if (unknown.length) {
    io.stderr(`sluice plugin: unknown option --${unknown[0]}\n${USAGE}`);
    return 2;
  }
  if (!cmd) {
    io.stderr(USAGE);
    return 2;
  }
  if (cmd === "help" || flag("help")) {
    io.stdout(USAGE);
    return 0;
  }
  const needsArg = ["install", "inspect", "remove", "new"];
  if (!needsArg.includes(cmd) && cmd !== "list") {
    io.stderr(`sluice plugin: unknown command "${cmd}"\n${USAGE}`);
    return 2;
  }
  if ((needsArg.includes(cmd) && !arg) || rest.length || (!needsArg.includes(cmd) && arg)) {
    const what = rest.length || arg ? `unexpected "${rest[0] ?? arg}"` : "missing argument";
    io.stderr(`sluice plugin ${cmd}: ${what}\n${USAGE}`);
    return 2;
  }
  const registry = async () => opts.registry ?? await openRegistry(opts);
  try {
    switch (cmd) {
      case "install": {
        const yes = flag("yes") === true;
        const result = await installPlugin({
          source: arg,
          registry: await registry(),
          fetch: opts.fetch,
          npmRegistry: opts.npmRegistry,
          denoCache: opts.denoCache,
          signal: opts.signal,
          approve: async (req) => {
            out(describeApproval(req));
            if (yes) return true;
            if (!io.isTTY) return false;
            const answer = await io.prompt(`Approve ${req.name}@${req.version}? [y/N] `);
            return /^\s*y(es)?\s*$/i.test(answer ?? "");
          },
        });
        if (!result.installed) {
          io.stderr(
            !yes && !io.isTTY
              ? `not installed: no terminal to ask for approval. Review the permissions above, ` +
                `then run again with --yes to approve them.\n`
              : `not installed: approval refused; nothing was changed.\n`,
          );
          return 1;
        }
        out([
          `installed ${result.request.name}@${result.request.version} in ${result.plugin!.dir}`,
        ]);
        return 0;
      }
      case "list": {
        const rows = listPlugins(await registry());
        if (rows.length === 0) {
          out(["no plugins (add some with `sluice plugin install …`)"]);
          return 0;
        }
        const w = Math.max(...rows.map((r) => r.name.length));
        const v = Math.max(...rows.map((r) => r.version.length));
        out(
          rows.map((r) =>
            `${r.active ? "*" : " "} ${r.name.padEnd(w)}  ${r.version.padEnd(v)}  ` +
            `${(r.kind ?? "?").padEnd(9)}  ${r.origin}` +
            (r.problem ? `  REFUSED: ${refusal(r.problem)}` : "")
          ),
        );
        out(["(* = the version pipelines get when they name no version)"]);
        if (rows.some((r) => r.problem)) {
          out([
            "REFUSED versions do not run: `sluice plugin inspect NAME` says why and what to do",
          ]);
        }
        return 0;
      }
      case "inspect": {
        const info = inspectPlugin(await registry(), arg);
        const lines: string[] = [];
        if (info.builtin) {
          const m = info.builtin.manifest;
          lines.push(`${m.name}@${m.version} (${m.kind}, built in) in ${info.builtin.dir}`);
          if (m.description) lines.push(`  ${m.description}`);
          lines.push(...describePermissions(m.permissions).map((l) => `  - ${l}`));
          lines.push(...outputLines(m));
        }
        for (const v of info.versions) {
          lines.push(
            `${info.name}@${v.version}${
              v.manifest ? ` (${v.manifest.kind})` : ""
            } installed ${v.installedAt}`,
          );
          if (v.manifest?.description) lines.push(`  ${v.manifest.description}`);
          if (v.manifest) lines.push(...outputLines(v.manifest));
          lines.push(
            `  source:    ${v.source}`,
            `  integrity: ${v.integrity}`,
            `  folder:    ${v.dir}`,
          );
          lines.push("  approved:", ...describePermissions(v.approved).map((l) => `    - ${l}`));
          lines.push(v.problem ? `  PROBLEM: ${v.problem}` : "  files match plugins.lock");
        }
        out(lines);
        return info.versions.some((v) => v.problem) ? 1 : 0;
      }
      case "remove": {
        const { name, range } = splitPluginRef(arg);
        const removed = await removePlugin(await registry(), name, range, { inUse: opts.inUse });
        out(removed.map((v) => `removed ${name}@${v}`));
        return 0;
      }
      case "new": {
        const kind = (flag("kind") ?? "transform") as Manifest["kind"];
        if (!KINDS.includes(kind)) {
          io.stderr(
            `sluice plugin new: --kind must be one of ${KINDS.join(", ")}, not "${kind}"\n`,
          );
          return 2;
        }
        const parent = String(flag("dir") ?? opts.builtinDir);
        const dir = join(parent, arg.split("/").pop()!);
        const paths = await scaffoldPlugin({ dir, name: arg, kind, force: flag("force") === true });
        out(paths.map((p) => `created ${p}`));
        return 0;
      }
    }
    return 2;
  } catch (e) {
    io.stderr(`sluice plugin ${cmd}: ${(e as Error).message}\n`);
    return 1;
  }
}
