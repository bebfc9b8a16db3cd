import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { createLogger } from "./log.ts";

const SCRIPT = join(import.meta.dirname!, "testdata", "log_exit.ts");

function messages(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l).msg);
}

Deno.test("logs: buffered stderr lines are all written however the process ends", async () => {
  for (const how of ["end", "exit", "throw", "reject"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SCRIPT, how],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.deepEqual(
      messages(new TextDecoder().decode(out.stderr)),
      ["first", "second"],
      `ending by ${how}`,
    );
  }
});

Deno.test("logs: a warning is written at once, with the lines before it, in order", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, "warn-then-hang"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = child.stdout.getReader();
  for (let text = ""; !text.includes("warned");) {
    text += new TextDecoder().decode((await stdout.read()).value);
  }
  // SIGKILL runs no exit handler: what stderr holds now was written before the kill.
  child.kill("SIGKILL");
  stdout.releaseLock();
  await child.stdout.cancel();
  const out = await child.output();
  assert.deepEqual(messages(new TextDecoder().decode(out.stderr)), ["first", "second", "third"]);
});

Deno.test("logs: secret values are masked and levels below the minimum dropped", () => {
  const lines: string[] = [];
  const log = createLogger({
    level: "info",
    write: (l) => lines.push(l),
    secrets: () => ["hunter2-secret"],
  }).child({ run: "r1" });
  log.debug("not shown");
  log.info("token is hunter2-secret", { header: "Bearer hunter2-secret" });
  assert.equal(lines.length, 1);
  assert.doesNotMatch(lines[0], /hunter2/);
  assert.deepEqual(JSON.parse(lines[0]), {
    ...JSON.parse(lines[0]),
    level: "info",
    msg: "token is ********",
    header: "Bearer ********",
    run: "r1",
  });
});

Deno.test("logs: a secret with quotes and backslashes is masked where JSON escaped it", () => {
  const secret = 'pa"ss\\word-123';
  for (const format of ["json", "pretty"] as const) {
    const lines: string[] = [];
    const log = createLogger({ format, write: (l) => lines.push(l), secrets: () => [secret] });
    log.info(`login with ${secret}`, {
      header: `Bearer ${secret}`,
      body: { password: secret },
      quoted: JSON.stringify({ password: secret }),
    });
    assert.equal(lines.length, 1);
    const escaped = JSON.stringify(secret).slice(1, -1);
    for (const form of [secret, escaped, JSON.stringify(escaped).slice(1, -1), "ss\\"]) {
      assert.ok(!lines[0].includes(form), `${format}: ${lines[0]}`);
    }
    if (format === "json") {
      assert.deepEqual(JSON.parse(lines[0]), {
        ...JSON.parse(lines[0]),
        msg: "login with ********",
        header: "Bearer ********",
        body: { password: "********" },
        quoted: '{"password":"********"}',
      });
    } else {
      assert.ok(lines[0].includes(" login with ********  header=Bearer ******** "), lines[0]);
      assert.match(lines[0], /body=\{"password":"\*\*\*\*\*\*\*\*"\}/);
    }
  }
});
