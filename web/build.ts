/**
 * Builds the UI's client bundles: each `web/client/{app,editor,charts}.ts` with its npm
 * dependencies (CodeMirror, uPlot) into one minified file in `web/static/`, with `deno bundle`
 * (esbuild inside Deno, resolving `npm:` through deno.json's import map). The output is committed
 * so the server and CI need no build step; run `deno task build:web` after changing client code.
 *
 *   deno task build:web [--check]   (--check: fail when the committed bundles are stale)
 * @module
 */
import { fileURLToPath } from "node:url";

/** Entry points, each becoming `web/static/<name>.js`. */
export const ENTRIES = ["app", "editor", "charts"] as const;

const WEB = fileURLToPath(new URL(".", import.meta.url));

/** Bundles one entry to `outFile`. */
export async function bundle(entry: string, outFile: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--minify",
      "-o",
      outFile,
      `${WEB}client/${entry}.ts`,
    ],
    cwd: `${WEB}..`,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `bundling web/client/${entry}.ts failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** Builds every entry into `dir` (default `web/static/`). */
export async function buildWeb(dir = `${WEB}static`): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const e of ENTRIES) {
    const file = `${dir}/${e}.js`;
    await bundle(e, file);
    written.push(file);
  }
  return written;
}

if (import.meta.main) {
  if (Deno.args.includes("--check")) {
    const tmp = await Deno.makeTempDir({ prefix: "sluice-web-build-" });
    try {
      await buildWeb(tmp);
      const stale = [];
      for (const e of ENTRIES) {
        const a = await Deno.readTextFile(`${tmp}/${e}.js`);
        const b = await Deno.readTextFile(`${WEB}static/${e}.js`).catch(() => "");
        if (a !== b) stale.push(`web/static/${e}.js`);
      }
      if (stale.length) {
        console.error(`stale bundles: ${stale.join(", ")}; run \`deno task build:web\``);
        Deno.exit(1);
      }
      console.log("web/static bundles are up to date");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  } else {
    for (const f of await buildWeb()) {
      console.log(`wrote ${f} (${(await Deno.stat(f)).size} bytes)`);
    }
  }
}
