/**
 * `deno task demo`: the flagship pipeline end to end without the internet. Generates a world of
 * businesses (the simulated internet of `testing/`: DNS, web servers, RDAP, search and LLM fakes on
 * loopback), runs `pipelines/no-website-leads.yaml` against it through the real CLI, copies the
 * lead list to `--out` and says how the verdicts compare with the world's known labels.
 *
 *   deno task demo [--size 300] [--seed 1] [--out demo-leads.csv]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, resolve } from "node:path";
import { parse } from "csv-parse/sync";
import { LEAD_STATUSES, startFlagship } from "./flagship_world.ts";

const USAGE =
  "usage: deno task demo [--size N (10-20000, default 300)] [--seed N] [--out FILE.csv]";

/** Why the lead list cannot be written to `out`, or undefined when it can. */
async function outProblem(out: string): Promise<string | undefined> {
  if (!/\.csv$/i.test(out)) return "the lead list is CSV: give a file name ending in .csv";
  try {
    if ((await Deno.stat(out)).isDirectory) return "this is a folder: name the file";
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return (e as Error).message;
  }
  try {
    if (!(await Deno.stat(dirname(out))).isDirectory) return "its folder is not a folder";
  } catch {
    return `its folder ${dirname(out)} does not exist: create it first`;
  }
  return undefined;
}

/** Runs the demo; returns the process exit code. */
export async function runDemo(args: string[], print = console.log): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        size: { type: "string", default: "300" },
        seed: { type: "string", default: "1" },
        out: { type: "string", default: "demo-leads.csv" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    print(USAGE);
    return 0;
  }
  const size = /^\d+$/.test(values.size!) ? Number(values.size) : NaN;
  const seed = /^\d+$/.test(values.seed!) ? Number(values.seed) : NaN;
  if (!Number.isInteger(size) || size < 10 || size > 20_000 || !Number.isInteger(seed)) {
    console.error(
      `--size must be a whole number from 10 to 20000, --seed a whole number\n${USAGE}`,
    );
    return 2;
  }
  const out = resolve(values.out!);
  // Checked before the world is built: the list is written at the end.
  const problem = await outProblem(out);
  if (problem) {
    console.error(`--out ${out}: ${problem}; nothing was run\n${USAGE}`);
    return 2;
  }
  const dir = await Deno.makeTempDir({ prefix: "sluice_demo_" });
  print(`starting a simulated internet of ${size} businesses (seed ${seed}) on loopback...`);
  const f = await startFlagship({ size, seed, dir, postgres: false });
  try {
    const runId = "demo";
    const child = f.sluice(["run", f.pipelineFile, "--input", f.inputFile, "--run-id", runId]);
    const [status, , stderr] = await Promise.all([
      child.status,
      child.stdout.cancel(),
      new Response(child.stderr).text(),
    ]);
    const summary = /run \S+ \w+ in [\s\S]*$/.exec(stderr)?.[0] ?? stderr.slice(-4000);
    // The run's own files live in a temp folder removed at exit: the list is copied to --out, so
    // the export's line (how many rows it wrote) names that copy; other lines naming the folder go.
    print(
      summary.replaceAll(f.csvPath(runId), out).split("\n").filter((l) => !l.includes(dir))
        .join("\n").trimEnd(),
    );
    if (!status.success) {
      console.error("the run failed (see above)");
      return 1;
    }
    await Deno.copyFile(f.csvPath(runId), out);
    const rows: Record<string, string>[] = parse(await Deno.readTextFile(out), {
      columns: true,
      bom: true,
    });
    const found = new Set(rows.map((r) => r.domain));
    // What the list should hold: the world's domains without a working website whose business
    // web search does not show on another site.
    const expected = new Set(
      f.world.businesses.filter((b) =>
        LEAD_STATUSES.has(f.world.labels.get(b.domain) ?? "") && !f.shownElsewhere(b.name)
      ).map((b) => b.domain),
    );
    const right = [...found].filter((d) => expected.has(d)).length;
    print(
      `\nwrote ${rows.length} leads to ${out} (columns: ${
        Object.keys(rows[0] ?? {}).join(", ")
      })\n` +
        `checked against the world's known labels: ${right} of the ${rows.length} leads are ` +
        `right, ${expected.size - right} of the ${expected.size} expected leads are missing`,
    );
    return 0;
  } finally {
    await f.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await runDemo(Deno.args));
