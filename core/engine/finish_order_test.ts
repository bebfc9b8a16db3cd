import assert from "node:assert/strict";
import type { Manifest } from "../plugins/manifest.ts";
import { finishesLast, finishOrder } from "./finish_order.ts";

const stage = (finishLast?: boolean) => ({
  resolved: {
    manifest: { name: "p", finishLast } as Manifest,
    dir: "/plugins/p",
    origin: "builtin",
  },
});

Deno.test("finishOrder: the other stages in reverse stage order, then the finishLast ones (also reversed)", () => {
  const stages = [stage(), stage(), stage(true), stage(false), stage(true), stage()];
  assert.deepEqual(finishOrder(stages), [5, 3, 1, 0, 4, 2]);
  assert.deepEqual(finishOrder([stage(), stage(), stage()]), [2, 1, 0], "none: reverse order");
  assert.deepEqual(finishOrder([]), []);
});

Deno.test("finishesLast: only an explicit true (a run recorded before the field existed has none)", () => {
  assert.equal(finishesLast(stage(true)), true);
  assert.equal(finishesLast(stage(false)), false);
  assert.equal(finishesLast(stage()), false);
});
