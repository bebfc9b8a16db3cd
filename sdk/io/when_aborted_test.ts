import assert from "node:assert/strict";
import { whenAborted } from "./when_aborted.ts";

Deno.test("whenAborted calls each callback once, in order, except those taken back", () => {
  const ac = new AbortController();
  const calls: string[] = [];
  const f = () => calls.push("f");
  whenAborted(ac.signal, () => calls.push("a"));
  const offB = whenAborted(ac.signal, () => calls.push("b"));
  whenAborted(ac.signal, f);
  const offF = whenAborted(ac.signal, f); // the same function twice: two callbacks
  whenAborted(ac.signal, () => calls.push("c"));
  offB();
  offB(); // twice is harmless
  offF();
  ac.abort();
  ac.abort();
  assert.deepEqual(calls, ["a", "f", "c"]);
});

Deno.test("whenAborted: one event listener per signal, whatever the callbacks", () => {
  const ac = new AbortController();
  let listeners = 0;
  const add = ac.signal.addEventListener.bind(ac.signal);
  ac.signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listeners++;
    return add(...args);
  }) as typeof add;
  const offs = Array.from({ length: 1000 }, () => whenAborted(ac.signal, () => {}));
  for (const off of offs) off();
  let called = 0;
  whenAborted(ac.signal, () => called++);
  assert.equal(listeners, 1);
  ac.abort();
  assert.equal(called, 1);
});

Deno.test("whenAborted: nothing for an absent or aborted signal; a callback taken back while aborting is not called", () => {
  let called = 0;
  whenAborted(undefined, () => called++)();
  const done = AbortSignal.abort();
  whenAborted(done, () => called++)();
  assert.equal(called, 0);
  const ac = new AbortController();
  let offLater = () => {};
  whenAborted(ac.signal, () => {
    called++;
    offLater(); // an earlier callback ends another operation
    // A callback given during the abort is not registered (the signal is aborted already).
    whenAborted(ac.signal, () => called += 100);
  });
  offLater = whenAborted(ac.signal, () => called += 10);
  ac.abort();
  assert.equal(called, 1);
});

Deno.test("whenAborted: a callback that throws is reported and the others still run", () => {
  const ac = new AbortController();
  const reported: unknown[] = [];
  const onError = (e: ErrorEvent) => {
    reported.push(e.error);
    e.preventDefault();
  };
  globalThis.addEventListener("error", onError);
  try {
    let after = 0;
    whenAborted(ac.signal, () => {
      throw new Error("boom");
    });
    whenAborted(ac.signal, () => after++);
    ac.abort();
    assert.equal(after, 1);
    assert.equal(reported.length, 1);
    assert.match(String((reported[0] as Error).message), /boom/);
  } finally {
    globalThis.removeEventListener("error", onError);
  }
});
