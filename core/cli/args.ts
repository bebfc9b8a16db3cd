/**
 * Command-line flags of `sluice run` and `sluice runs`: `node:util` `parseArgs`, with its errors
 * turned into the CLI's own words (`unknown option --inptu; did you mean --input?`).
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { closest } from "../../sdk/text/suggest.ts";

/**
 * Parses `config.args` like `parseArgs`; a bad flag gives a message (naming the command, the
 * flag, a close known flag, and the usage) instead of Node's.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  command: string,
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>> | { usage: string } {
  try {
    return parseArgs(config);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS")) throw e;
    const message = (e as Error).message;
    const unknown = /Unknown option '(-{1,2})([^'=]+)/.exec(message);
    let what: string;
    if (unknown) {
      const near = closest(unknown[2], Object.keys(config.options ?? {}));
      what = `unknown option ${unknown[1]}${unknown[2]}` +
        (near ? `; did you mean --${near}?` : "");
    } else {
      const missing = /Option '(?:-\w, )?(--[^ ']+)[^']*' argument missing/.exec(message);
      what = missing ? `${missing[1]} needs a value` : message.split("\n")[0];
    }
    return { usage: `sluice ${command}: ${what}\nusage: ${usage}\n` };
  }
}
