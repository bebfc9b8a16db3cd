import assert from "node:assert/strict";
import { RunLocals } from "./run_locals.ts";

Deno.test("RunLocals keeps one semaphore and one set of expressions per run and stage", () => {
  const l = new RunLocals();
  const a = l.semaphore("r1", 1, 2);
  assert.equal(l.semaphore("r1", 1, 2), a);
  assert.notEqual(l.semaphore("r1", 2, 2), a);
  assert.notEqual(l.semaphore("r2", 1, 2), a);
  let made = 0;
  const make = () => ({ when: () => ++made });
  const fns = l.stageFns("r1", 1, make);
  assert.equal(l.stageFns("r1", 1, make), fns);
  assert.notEqual(l.stageFns("r1", 2, make), fns);
  assert.equal(made, 0, "make only compiles; nothing is evaluated");
  assert.deepEqual(l.runIds().sort(), ["r1", "r2"]);
});

Deno.test("RunLocals says a warning is new once per run", () => {
  const l = new RunLocals();
  assert.equal(l.firstTime("r1", "s/when: bad"), true);
  assert.equal(l.firstTime("r1", "s/when: bad"), false);
  assert.equal(l.firstTime("r2", "s/when: bad"), true);
  assert.equal(l.forget("r1"), true);
  assert.equal(l.firstTime("r1", "s/when: bad"), true, "a run started again warns again");
});

Deno.test("RunLocals forgets a run, but not while one of its semaphores is held", async () => {
  const l = new RunLocals();
  const sem = l.semaphore("r1", 0, 1);
  l.stageFns("r1", 0, () => ({}));
  const release = await sem.acquire();
  assert.equal(l.forget("r1"), false, "a chunk still holds the stage's permit");
  assert.equal(l.size, 1);
  assert.equal(l.semaphore("r1", 0, 1), sem, "the same semaphore bounds the chunks still to come");
  release();
  assert.equal(l.forget("r1"), true);
  assert.equal(l.size, 0);
  assert.deepEqual(l.runIds(), []);
  assert.notEqual(l.semaphore("r1", 0, 1), sem, "a new one after the run was forgotten");
  assert.equal(l.forget("never-seen"), true);
});

Deno.test("RunLocals forgets a run whose semaphore has a waiter only once the waiter is done", async () => {
  const l = new RunLocals();
  const sem = l.semaphore("r1", 0, 1);
  const first = await sem.acquire();
  const second = sem.acquire();
  first();
  assert.equal(l.forget("r1"), false, "the waiter took the permit");
  (await second)();
  assert.equal(l.forget("r1"), true);
});

Deno.test("RunLocals lists the runs unused for a while (any use counts)", () => {
  let now = 1_000;
  const l = new RunLocals({ now: () => now });
  l.semaphore("old", 0, 1);
  l.stageFns("used", 0, () => ({}));
  now += 500;
  l.firstTime("used", "x"); // a use
  l.semaphore("new", 0, 1);
  now += 100;
  assert.deepEqual(l.idleRuns(600), ["old"]);
  assert.deepEqual(l.idleRuns(100).sort(), ["new", "old", "used"]);
  assert.deepEqual(l.idleRuns(601), []);
});
