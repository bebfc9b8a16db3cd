import assert from "node:assert/strict";
import { join } from "node:path";
import { Bootstrap, bootstrapUrl, loadBootstrap } from "./bootstrap.ts";

const DOC = {
  services: [
    [["com", "net"], ["http://rdap.example/com/", "https://rdap.example/com/"]],
    [["co.uk"], ["https://rdap.nominet.example/uk"]],
    [["uk"], ["https://rdap.uk.example/"]],
  ],
};

Deno.test("bootstrap picks https and the longest matching suffix", () => {
  const b = new Bootstrap(DOC, 0, "test");
  assert.equal(b.serverFor("shop.com"), "https://rdap.example/com/");
  assert.equal(b.serverFor("bakery.co.uk"), "https://rdap.nominet.example/uk/");
  assert.equal(b.serverFor("gov.uk"), "https://rdap.uk.example/");
  assert.equal(b.serverFor("x.zz"), undefined);
  assert.throws(() => new Bootstrap({ services: [["com"]] }, 0, "t"), /services\[0\]/);
  assert.throws(() => new Bootstrap([], 0, "t"), /expected \{"services"/);
});

Deno.test("a downloaded bootstrap is kept in the data folder and refreshed after maxAge", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    let downloads = 0;
    let now = 1_000_000;
    let fail = false;
    const warnings: string[] = [];
    const src = {
      location: "https://iana.example/dns.json",
      dataDir,
      maxAgeMs: 1000,
      now: () => now,
      warn: (m: string) => warnings.push(m),
      download: () => {
        downloads++;
        return fail ? Promise.reject(new Error("down")) : Promise.resolve(JSON.stringify(DOC));
      },
    };
    await loadBootstrap(src);
    await loadBootstrap(src);
    assert.equal(downloads, 1, "second load uses the copy");
    now += 1001;
    await loadBootstrap(src);
    assert.equal(downloads, 2, "refreshed when older than maxAge");
    now += 1001;
    fail = true;
    const b = await loadBootstrap(src);
    assert.equal(b.serverFor("a.com"), "https://rdap.example/com/", "stale copy used");
    assert.match(warnings[0], /refresh .* failed \(down\)/);
    assert.ok(JSON.parse(await Deno.readTextFile(join(dataDir, "rdap", "bootstrap.json"))).doc);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a bootstrap file must be inside the data folder; bad JSON says where", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const base = { dataDir, maxAgeMs: 1, now: Date.now, download: () => Promise.reject() };
    await assert.rejects(
      loadBootstrap({ ...base, location: "/etc/passwd" }),
      /outside the plugin's data folder/,
    );
    await Deno.writeTextFile(join(dataDir, "dns.json"), "{not json");
    await assert.rejects(
      loadBootstrap({ ...base, location: "dns.json" }),
      /dns\.json is not valid JSON/,
    );
    await Deno.writeTextFile(join(dataDir, "dns.json"), JSON.stringify(DOC));
    const b = await loadBootstrap({ ...base, location: "dns.json" });
    assert.equal(b.size, 4);
    const inline = await loadBootstrap({ ...base, location: "x", json: DOC });
    assert.equal(inline.serverFor("a.net"), "https://rdap.example/com/");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a base URL of the bootstrap files (network.rdap.bootstrap's form) means its dns.json", async () => {
  assert.equal(bootstrapUrl("https://data.iana.org/rdap/"), "https://data.iana.org/rdap/dns.json");
  assert.equal(
    bootstrapUrl("http://127.0.0.1:9/boot/dns.json"),
    "http://127.0.0.1:9/boot/dns.json",
  );
  assert.equal(bootstrapUrl("rdap/dns.json"), "rdap/dns.json");
  const dataDir = await Deno.makeTempDir();
  try {
    const fetched: string[] = [];
    const b = await loadBootstrap({
      location: "https://rdap-boot.example/files/",
      dataDir,
      maxAgeMs: 1000,
      now: () => 0,
      download: (url) => {
        fetched.push(url);
        return Promise.resolve(JSON.stringify(DOC));
      },
    });
    assert.deepEqual(fetched, ["https://rdap-boot.example/files/dns.json"]);
    assert.equal(b.serverFor("a.com"), "https://rdap.example/com/");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
