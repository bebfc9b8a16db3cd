import assert from "node:assert/strict";
import { parseCommandArgs } from "./args.ts";

const options = {
  input: { type: "string" as const, short: "i" },
  out: { type: "string" as const },
  quiet: { type: "boolean" as const },
};

Deno.test("parseCommandArgs: flags parse; a misspelt or valueless flag says so with the close name", () => {
  const ok = parseCommandArgs("run", "sluice run FILE", {
    args: ["p.yaml", "--input", "in.csv", "--quiet"],
    allowPositionals: true,
    options,
  });
  assert.ok(!("usage" in ok));
  assert.deepEqual(ok.positionals, ["p.yaml"]);

  const typo = parseCommandArgs("run", "sluice run FILE", {
    args: ["p.yaml", "--inptu", "in.csv"],
    allowPositionals: true,
    options,
  });
  assert.ok("usage" in typo);
  assert.equal(
    typo.usage,
    "sluice run: unknown option --inptu; did you mean --input?\nusage: sluice run FILE\n",
  );
  const far = parseCommandArgs("run", "U", { args: ["--zzzzzz"], allowPositionals: true, options });
  assert.ok("usage" in far && far.usage.startsWith("sluice run: unknown option --zzzzzz\n"));
  const bare = parseCommandArgs("run", "U", { args: ["--out"], allowPositionals: true, options });
  assert.ok("usage" in bare);
  assert.match(bare.usage, /^sluice run: --out needs a value\n/);
});
