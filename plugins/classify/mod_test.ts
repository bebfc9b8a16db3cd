import assert from "node:assert/strict";
import { runPlugin } from "@sluice/sdk/testing.ts";
import { businessPage, dnsOk, failed, responded, response } from "./test_support.ts";
import type { WebsiteVerdict } from "./types.ts";
import { classifyItems } from "./mod.ts";

Deno.test("classify runs in the sandbox with no permissions and marks leads", async () => {
  const { items, metrics } = await runPlugin({
    dir: new URL(".", import.meta.url),
    items: [
      {
        key: "bakery.example",
        domain: "bakery.example",
        dns: dnsOk(),
        http: responded(
          response(businessPage(), { host: "bakery.example", url: "https://bakery.example/" }),
        ),
      },
      { key: "gone.example", domain: "gone.example", dns: { ...dnsOk(), status: "nxdomain" } },
      {
        key: "parked.example",
        domain: "parked.example",
        dns: dnsOk({ ns: ["ns1.parkingcrew.net", "ns2.parkingcrew.net"] }),
        http: responded(
          response("<html><body><h1>parked.example</h1></body></html>", { host: "parked.example" }),
        ),
      },
      {
        key: "down.example",
        domain: "down.example",
        dns: dnsOk(),
        http: failed(["refused", "refused"]),
      },
    ],
  });
  const by = Object.fromEntries(items.map((i) => [i.key, i]));
  const st = (k: string) => (by[k].website as WebsiteVerdict).status;
  assert.equal(st("bakery.example"), "live");
  assert.equal(st("gone.example"), "no_dns");
  assert.equal(st("parked.example"), "parked");
  assert.equal(st("down.example"), "unreachable");
  assert.deepEqual(items.map((i) => i.lead), [false, true, true, true]);
  assert.equal(metrics.leads, 3);
  assert.equal(metrics.status_live, 1);
  // Input fields are kept.
  assert.equal((by["bakery.example"].dns as { status: string }).status, "ok");
  // Each verdict says when it was made (whole seconds, UTC).
  for (const i of items) {
    const at = (i.website as WebsiteVerdict).checkedAt!;
    assert.match(at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(at) - Date.now()) < 60_000, at);
  }
});

Deno.test("classifyItems stamps checkedAt from its clock", () => {
  const [out] = classifyItems(
    [{ key: "gone.example", domain: "gone.example", dns: { ...dnsOk(), status: "nxdomain" } }],
    {},
    () => Date.parse("2026-11-30T06:12:09.871Z"),
  );
  assert.equal((out.website as WebsiteVerdict).checkedAt, "2026-11-30T06:12:09Z");
});
