import assert from "node:assert/strict";
import { runDemo } from "./flagship_demo.ts";

Deno.test("deno task demo: the flagship pipeline on a small simulated internet writes the right leads", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines: string[] = [];
    const code = await runDemo(
      ["--size", "60", "--seed", "3", "--out", `${dir}/leads.csv`],
      (s) => lines.push(s),
    );
    const said = lines.join("\n");
    assert.equal(code, 0, said);
    assert.match(said, /run demo succeeded/);
    assert.doesNotMatch(said, /sluice_demo_/, "no temp file the demo removes is named");
    assert.ok(
      said.includes(`row(s) written to ${dir}/leads.csv`),
      `the export's line names the rows it wrote, in the copy: ${said}`,
    );
    const m =
      /checked against the world's known labels: (\d+) of the (\d+) leads are right, (\d+) of the (\d+) expected leads are missing/
        .exec(said);
    assert.ok(m, said);
    assert.ok(Number(m[2]) > 0, "the world has leads");
    assert.equal(m[1], m[2], "every lead is right");
    assert.equal(m[3], "0", "no expected lead is missing");
    const csv = await Deno.readTextFile(`${dir}/leads.csv`);
    assert.equal(csv.replace(/^\uFEFF/, "").split(",")[0], "domain", "BOM, then the header");
    assert.equal(csv.trimEnd().split("\r\n").length - 1, Number(m[2]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task demo: a bad size is refused with the usage", async () => {
  const errors: string[] = [];
  const orig = console.error;
  console.error = (s: string) => errors.push(s);
  try {
    assert.equal(await runDemo(["--size", "5"]), 2);
    assert.equal(await runDemo(["--size", "1e2"]), 2);
    assert.equal(await runDemo(["--bogus"]), 2);
    assert.equal(await runDemo(["--out", "/nonexistent-sluice-dir/x.csv"]), 2);
    assert.equal(await runDemo(["--out", "leads.jsonl"]), 2);
  } finally {
    console.error = orig;
  }
  assert.match(errors.join("\n"), /--size must be a whole number from 10 to 20000/);
  assert.match(errors.join("\n"), /usage: deno task demo/);
  assert.match(
    errors.join("\n"),
    /its folder \/nonexistent-sluice-dir does not exist: create it first; nothing was run/,
  );
  assert.match(errors.join("\n"), /the lead list is CSV/);
});
