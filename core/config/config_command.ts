/**
 * Arguments of `sluice config`, which prints the effective configuration. It takes none: the
 * configuration file is a global option written before the command (`sluice --config FILE
 * config`), so a `--config` after the command would otherwise be ignored and the defaults shown
 * as if they were the file's.
 * @module
 */

/** Usage of `sluice config`. */
export const CONFIG_USAGE = "usage: sluice [--config FILE] config";

/**
 * The message for arguments `sluice config` does not take (`args` are those after the command),
 * or `undefined` when there are none. A misplaced `--config FILE` is answered with the right form.
 */
export function configArgsError(args: readonly string[]): string | undefined {
  if (args.length === 0) return undefined;
  const at = args.findIndex((a) => a === "--config" || a.startsWith("--config="));
  if (at >= 0) {
    const a = args[at];
    const file = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[at + 1] ?? "FILE";
    return `sluice config: --config goes before the command, not after it; run\n` +
      `  sluice --config ${file} config\n` +
      `(with deno: deno task sluice --config ${file} config)\n`;
  }
  return `sluice config: unexpected argument "${args[0]}"; the command takes no arguments\n` +
    `${CONFIG_USAGE}\n`;
}
