/**
 * Client behaviour of the UI in Debian's Chromium (headless, through playwright-core; no browser
 * download), against the in-process test server (lighter than `browser_test.ts`, which runs the
 * flagship pipeline in a real `sluice serve`): long item values wrap, the plugin approval dialog
 * (clean lists, added permissions marked, Cancel focused), the editor's unsaved-changes warning,
 * a new token listed at once, the dry run's sample errors and counts, a running run's empty lists
 * naming what is to come, a pipeline's source file replaced from its page, and no page wider
 * than a 375 px phone screen.
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type Browser, chromium, type Page } from "playwright-core";
import { createApp } from "../core/http/app.ts";
import { genPipeline, testServer } from "../core/http/test_support.ts";
import { join } from "../core/paths.ts";
import { writePlugin } from "../core/plugins/test_support.ts";
import { withUi } from "./mod.ts";

const CHROMIUM = "/usr/bin/chromium";

/** Width of the page's content beyond the viewport, in CSS pixels (0: nothing spills). */
function overflow(page: Page): Promise<number> {
  // Browser code as text: a DOM lib reference here would change the types of every test module
  // that `deno test` checks together with this one.
  return page.evaluate<number>("document.documentElement.scrollWidth - innerWidth");
}

Deno.test({
  name: "the UI's client code in a real browser: wrap, approve, warn, list, dry run, phone width",
  fn: async (t) => {
    const ts = await testServer({ deps: { denoCache: () => Promise.resolve() } });
    const { app } = createApp(await withUi(ts.deps));
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (r, info) => app.fetch(r, info),
    );
    const url = `http://localhost:${server.addr.port}`;
    const run = async (name: string, yaml: string) => {
      await ts.writePipeline(name, yaml);
      const res = await ts.call(`/api/v1/pipelines/${name}/runs`, {
        method: "POST",
        as: "operator",
        json: {},
      });
      const r = await res.json();
      assert.equal((await ts.engine.waitForRun(r.id)).state, "succeeded");
      return r.id as string;
    };
    let browser: Browser | undefined;
    try {
      // A long line (as real pipelines have: descriptions, `when` expressions) in the editor.
      const long =
        "Finds the businesses of a region that own a domain but have no website there, " +
        "checks them against the registry and scores them for the sales team every morning";
      const p1 = await run("p1", genPipeline("p1", 30).replace("name: p1", `name: p1\n# ${long}`));
      const why = await run(
        "why",
        genPipeline(
          "why",
          3,
          `  - id: why\n    plugin: tag\n    with:\n      field: lead_reason\n      value: ${
            "x".repeat(2000)
          }\n` +
            "  - id: city\n    plugin: tag\n    with: { field: city, value: Amsterdam }\n" +
            "  - id: name\n    plugin: tag\n    with: { field: name, value: Administratiekantoor }\n",
        ),
      );
      await ts.writePipeline(
        "dry",
        genPipeline(
          "dry",
          3,
          "  - id: drop\n    plugin: tag\n    with: { field: seen, drop: [1] }\n" +
            "  - id: later\n    plugin: tag\n    when: item.n != 2\n    with: { field: late }\n",
        ),
      );
      await ts.writePipeline(
        "drycsv",
        "name: drycsv\nsource: { plugin: csv-source }\nstages:\n" +
          "  - { id: mark, plugin: tag, with: { field: seen, value: true } }\n",
      );
      // acme-enrich 1.0.0 installed; 2.0.0 asks for one more host and one less variable.
      const v1 = await writePlugin(join(ts.dir, "acme-v1"), {
        name: "acme-enrich",
        version: "1.0.0",
        description: "Adds ACME data",
        permissions: { net: ["api.acme.example:443"], env: ["OLD_VAR"] },
      });
      const ask = await (await ts.call("/api/v1/plugins", {
        method: "POST",
        as: "admin",
        json: { source: v1 },
      })).json();
      const ok = await ts.call("/api/v1/plugins", {
        method: "POST",
        as: "admin",
        json: { source: v1, approve: true, integrity: ask.request.integrity },
      });
      assert.equal(ok.status, 201, await ok.text());
      const v2 = await writePlugin(join(ts.dir, "acme-v2"), {
        name: "acme-enrich",
        version: "2.0.0",
        description: "Adds ACME data",
        permissions: { net: ["api.acme.example:443", "evil.example.net:443"] },
      });

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--no-first-run",
        ],
      });
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${url}/login`);
      await page.fill("#token", ts.token.admin);
      await page.click("#login");
      await page.waitForURL(`${url}/`);

      await t.step("a 2,000-character value wraps inside its cell, behind show more", async () => {
        await page.goto(`${url}/runs/${why}/items`);
        await page.locator("table.leads details.row-detail summary").first().click();
        const more = page.locator(".item-detail details.more").first();
        await more.waitFor();
        assert.ok(await overflow(page) <= 0, `the page is ${await overflow(page)} px too wide`);
        assert.equal((await more.locator(".preview").innerText()).length, 501, "500 and …");
        await more.locator("summary").click();
        assert.equal((await more.locator(".full").innerText()).length, 2000);
        assert.ok(await overflow(page) <= 0, `opened: ${await overflow(page)} px too wide`);
        const box = await page.locator(".item-detail").first().boundingBox();
        assert.ok(box && box.width <= 1280, `detail ${box?.width} px wide`);
        // The opened details take the room of the first column, but no other column breaks a
        // word in two ("Amsterdam" as "Amsterda/m").
        const squeezed = await page.evaluate<string[]>(`(() => {
          const out = [];
          for (const td of document.querySelectorAll("table.leads tbody tr:first-child td")) {
            if (td.querySelector(".item-detail")) continue;
            const cs = getComputedStyle(td);
            const room = td.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
            for (const word of td.innerText.split(/\\s+/).filter(Boolean)) {
              const s = document.createElement("span");
              s.style.cssText = "position:absolute;white-space:nowrap;font:" + cs.font;
              s.textContent = word;
              document.body.appendChild(s);
              const w = s.getBoundingClientRect().width;
              s.remove();
              if (w > room + 1) out.push(word + ": " + Math.round(w) + " px in " + room + " px");
            }
          }
          return out;
        })()`);
        assert.deepEqual(squeezed, []);
      });

      await t.step(
        "the approval dialog: headings, clean lists, the new host marked, Cancel focused",
        async () => {
          await page.goto(`${url}/plugins`);
          await page.fill("#install-source", v2);
          await page.click("#install");
          await page.waitForSelector("#approve-dialog[open]");
          assert.equal(await page.evaluate<string>("document.activeElement?.id"), "approve-cancel");
          assert.match(
            await page.innerText("#approve-what"),
            /^Upgrade to plugin acme-enrich@2\.0\.0/,
          );
          const lines = await page.locator("#approve-lines li").allInnerTexts();
          assert.deepEqual(lines.map((l) => l.replace(/^new\s+/, "")), [
            "may connect to api.acme.example:443",
            "may connect to evil.example.net:443",
            "no file access beyond its own code",
            "no environment variables",
          ]);
          const added = await page.locator("#approve-diff li.perm-added").allInnerTexts();
          assert.equal(added.length, 1);
          assert.match(added[0], /may connect to evil\.example\.net:443/);
          assert.match(
            await page.locator("#approve-lines li.perm-added").innerText(),
            /evil\.example\.net/,
          );
          const removed = await page.locator("#approve-diff li.perm-removed").allInnerTexts();
          assert.equal(removed.length, 1);
          assert.match(removed[0], /may read environment variable OLD_VAR/);
          assert.match(
            await page.innerText("#approve-diff h3"),
            /^Compared with the installed acme-enrich@1\.0\.0$/,
          );
          const text = await page.innerText("#approve-dialog");
          assert.equal(text.split("sha256-").length - 1, 1, "the integrity once");
          assert.equal(text.split("Upgrade to plugin").length - 1, 1, "the title once");
          assert.doesNotMatch(text, /^\s*[-+] /m, "no - or + markers");
          assert.doesNotMatch(text, /It asks for:|new permissions:/);
          // Enter does not approve: it cancels.
          await page.keyboard.press("Enter");
          await page.waitForSelector("#approve-dialog[open]", { state: "detached" });
          assert.equal(await page.innerText("#install-status"), "Not installed.");
          const info = await (await ts.call("/api/v1/plugins/acme-enrich", { as: "viewer" }))
            .json();
          assert.deepEqual(info.versions.map((v: { version: string }) => v.version), ["1.0.0"]);
        },
      );

      await t.step("the editor warns before leaving with unsaved changes", async () => {
        await page.goto(`${url}/pipelines/p1`);
        await page.waitForSelector("#pipeline-editor[data-unsaved='0'] .cm-content");
        const leaving = () =>
          page.evaluate<boolean>(`(() => {
            const ev = new Event("beforeunload", { cancelable: true });
            dispatchEvent(ev);
            return ev.defaultPrevented;
          })()`);
        assert.equal(await leaving(), false, "nothing changed: no warning");
        await page.click(".cm-content");
        await page.keyboard.press("Control+End");
        await page.keyboard.type("# a change\n");
        await page.waitForSelector("#pipeline-editor[data-unsaved='1']");
        assert.equal(await leaving(), true, "changed: the browser asks");
        // A real navigation shows the browser's leave-page dialog.
        const asked = new Promise<string>((resolve) => {
          page.once("dialog", async (d) => {
            resolve(d.type());
            await d.dismiss();
          });
        });
        page.goto(`${url}/runs`).catch(() => {}); // stays: the dialog is dismissed
        assert.equal(await asked, "beforeunload");
        assert.match(page.url(), /\/pipelines\/p1$/);
        // Saved: leaving is quiet again.
        await page.click("#save");
        await page.waitForSelector("#save-status.ok");
        assert.equal(await leaving(), false, "saved: no warning");
      });

      await t.step("the dry run reports a ragged CSV row and shows counts", async () => {
        await page.goto(`${url}/pipelines/dry`);
        await page.waitForSelector(".cm-content");
        await page.fill(
          "#dry-items",
          'name,domain\nAcme,acme.example\nBeta,beta.example,extra\n"Multi\nline",m.example\n',
        );
        await page.click("#dry-run");
        await page.waitForSelector("#dry-result details.dry-stage");
        const errs = await page.locator("#dry-sample-errors li").allInnerTexts();
        assert.deepEqual(errs, [
          "Sample line 3 left out: row has 3 fields but the header has 2; check the delimiter " +
          "and quotes of this row.",
        ]);
        assert.match(await page.innerText("#dry-status"), /2 sample item|1 sample line/);
        const first = await page.locator("#dry-result details[data-stage='tag'] pre")
          .textContent();
        assert.match(first ?? "", /"name": "Multi\\nline"/);

        // Counts: the drop stage filters n=1, the later stage skips n=2; 7 items show 5.
        const jsonl = Array.from({ length: 7 }, (_, n) => JSON.stringify({ key: `k${n}`, n }));
        await page.fill("#dry-items", jsonl.join("\n"));
        await page.click("#dry-run");
        // The first dry run left lines out (a neutral status); this one reads every line.
        await page.waitForSelector("#dry-status.ok");
        assert.equal(await page.locator("#dry-sample-errors").count(), 0);
        const sums = await page.locator("#dry-result details.dry-stage > summary").allInnerTexts();
        assert.match(sums[1], /^drop \(tag\): ran, 7 in → 6 out, 1 filtered, \d+ ms$/);
        assert.match(sums[2], /^later \(tag\): ran, 6 in → 6 out, 1 skipped, \d+ ms$/);
        await page.locator("#dry-result details[data-stage='later'] > summary").click();
        assert.match(
          await page.innerText("#dry-result details[data-stage='later']"),
          /Showing the first 5 of 6 items\./,
        );
      });

      await t.step(
        "with no sample the source reads its first items, or the page says what to paste",
        async () => {
          await page.goto(`${url}/pipelines/dry`);
          await page.waitForSelector(".cm-content");
          await page.fill("#dry-items", "");
          await page.click("#dry-run");
          await page.waitForSelector("#dry-status.ok");
          assert.match(await page.innerText("#dry-status"), /on the source's first items/);
          const sums = await page.locator("#dry-result details.dry-stage > summary")
            .allInnerTexts();
          assert.match(sums[0], /^source \(gen-source\): ran, 3 in → 3 out, \d+ ms$/);
          await page.goto(`${url}/pipelines/drycsv`);
          await page.waitForSelector(".cm-content");
          await page.fill("#dry-items", "");
          await page.click("#dry-run");
          await page.waitForSelector("#dry-status.err");
          assert.match(
            await page.innerText("#dry-status"),
            /no sample to dry run on: the source csv-source reads the run's input file .*paste a sample of the file/,
          );
        },
      );

      await t.step(
        "a CSV sample is read by the pipeline's own source, as a run reads its file",
        async () => {
          await page.goto(`${url}/pipelines/drycsv`);
          await page.waitForSelector(".cm-content");
          await page.fill("#dry-items", "Firma;Ort;Internet\nA;Bonn;a.de\nB;Köln;\n");
          await page.click("#dry-run");
          await page.waitForSelector("#dry-status.ok");
          const sums = await page.locator("#dry-result details.dry-stage > summary")
            .allInnerTexts();
          assert.match(sums[0], /^source \(csv-source\): ran, 2 in → 1 out, 1 rejected, \d+ ms$/);
          await page.locator("#dry-result details[data-stage='source'] > summary").click();
          const source = await page.innerText("#dry-result details[data-stage='source']");
          assert.match(
            source,
            /rejected row-2: sample:3: no domain: the row has no value in its "Internet" column/,
          );
          // The plugin's own words are shown too (and name the sample, not a server file).
          assert.match(source, /info: sample: columns read as "Firma" -> name/);
          await page.locator("#dry-result details[data-stage='mark'] > summary").click();
          const shown = await page.locator("#dry-result details[data-stage='mark'] pre")
            .textContent();
          assert.match(
            shown ?? "",
            /"name": "A"[\s\S]*"domain": "a\.de"/,
            "csv-source's field names",
          );
        },
      );

      await t.step(
        "a running run's empty lists say how many rejected items are to come",
        async () => {
          // The page loads while the first stage waits (nothing rejected yet); then normalize
          // rejects chunk 0's row (no domain), and chunk 1 keeps the run going for 10 s more:
          // the live page must say so in its empty list, not "Nothing rejected so far".
          await ts.writePipeline(
            "live",
            "name: live\nsource: { plugin: csv-source, chunk: 1 }\nstages:\n" +
              "  - { id: first, plugin: slow, with: { ms: 4000 } }\n" +
              "  - { id: normalize, plugin: normalize }\n" +
              "  - { id: wait, plugin: slow, with: { ms: 10000 } }\n",
          );
          const res = await ts.call("/api/v1/pipelines/live/runs", {
            method: "POST",
            as: "operator",
            headers: { "content-type": "text/csv" },
            body: "name,domain\nAcme,not a domain\nBeta,beta.de\n",
          });
          const id = (await res.json()).id;
          await page.goto(`${url}/runs/${id}`);
          await page.locator("#rejected-empty", {
            hasText: /^1 item\(s\) rejected so far: listed here when the run ends/,
          }).waitFor();
          assert.equal(await page.innerText("#dead-empty"), "No dead letters so far.");
          // At the end the page loads again, now with the list.
          await page.waitForSelector("#rejected-summary", { timeout: 60_000 });
        },
      );

      await t.step(
        "the source file scheduled runs read is replaced from the pipeline's page",
        async () => {
          await ts.writePipeline(
            "weekly",
            "name: weekly\nsource: { plugin: csv-source, with: { path: crm.csv } }\nstages:\n" +
              "  - { id: mark, plugin: tag, with: { field: seen, value: true } }\n",
          );
          await page.goto(`${url}/pipelines/weekly`);
          await page.waitForSelector(".cm-content");
          assert.match(await page.innerText("#source-file-size"), /no file yet/);
          const csv = "name,domain\nAcme,acme.example\nBeta,beta.example\nGamma,gamma.example\n";
          const bytes = new TextEncoder().encode(csv);
          await page.setInputFiles("#source-file-input", {
            name: "CRM export.csv",
            mimeType: "text/csv",
            buffer: Buffer.from(bytes),
          });
          await page.click("#source-file-upload");
          await page.waitForSelector("#source-file-status.ok");
          assert.match(
            await page.innerText("#source-file-status"),
            /^Replaced with CRM export\.csv \(68 bytes\): the next scheduled run reads it\.$/,
          );
          assert.equal(await page.innerText("#source-file-size"), `${bytes.length} bytes`);
          assert.equal(await page.innerText("#source-file-rows"), "3 after the header");
          assert.ok(await page.locator("#source-file-download").isVisible());
          const file = join(ts.dir, "plugin-data", "csv-source", "crm.csv");
          assert.equal(await Deno.readTextFile(file), csv);
          // A file the source does not read is refused with the reason; nothing changes.
          await page.setInputFiles("#source-file-input", {
            name: "items.jsonl",
            mimeType: "application/x-ndjson",
            buffer: Buffer.from('{"name":"x"}\n'),
          });
          await page.click("#source-file-upload");
          await page.waitForSelector("#source-file-status.err");
          assert.match(
            await page.innerText("#source-file-status"),
            /^Not replaced: .*its source csv-source reads text\/csv/,
          );
          assert.equal(await Deno.readTextFile(file), csv);
          // So is an Excel workbook (a name without .csv is sent with the type the browser gives).
          await page.setInputFiles("#source-file-input", {
            name: "CRM export.xlsx",
            mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            buffer: Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]),
          });
          await page.click("#source-file-upload");
          await page.waitForSelector("#source-file-status.err");
          assert.match(
            await page.innerText("#source-file-status"),
            /^Not replaced: Content-Type application\/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet is not what this pipeline's source reads: its source csv-source reads text\/csv/,
          );
          assert.equal(await Deno.readTextFile(file), csv);
          // The page as loaded again shows the same file.
          await page.reload();
          assert.equal(await page.innerText("#source-file-size"), "68 bytes");
        },
      );

      await t.step("a new token is listed at once", async () => {
        await page.goto(`${url}/settings`);
        const before = await page.locator("#tokens tbody tr").count();
        await page.fill("#tok-name", "laptop");
        await page.selectOption("#tok-role", "viewer");
        await page.click("#token-form button[type=submit]");
        await page.waitForSelector("#token-created:not([hidden])");
        await page.waitForFunction(
          `document.querySelectorAll("#tokens tbody tr").length > ${before}`,
        );
        const row = page.locator("#tokens tbody tr").last();
        assert.match(await row.innerText(), /laptop[\s\S]*viewer[\s\S]*active/);
        assert.ok(await row.locator("button[data-delete]").isVisible());
        const listed = await (await ts.call("/api/v1/tokens", { as: "admin" })).json();
        const made = listed.tokens.find((x: { name: string }) => x.name === "laptop");
        assert.equal(await row.getAttribute("data-token"), made.id);
      });

      await t.step("no page is wider than a 375 px screen", async () => {
        await page.setViewportSize({ width: 375, height: 800 });
        const wide: string[] = [];
        for (
          const path of [
            "/",
            "/pipelines",
            "/pipelines/p1",
            "/pipelines/weekly",
            "/plugins",
            "/runs",
            `/runs/${p1}`,
            `/runs/${why}/items`,
            "/triggers",
            "/settings",
          ]
        ) {
          await page.goto(`${url}${path}`);
          if (path.startsWith("/pipelines/")) await page.waitForSelector(".cm-content");
          const over = await overflow(page);
          if (over > 0) wide.push(`${path} is ${over} px wider than the screen`);
        }
        assert.deepEqual(wide, []);
      });
      assert.deepEqual(errors, [], "no script errors in the browser");
    } finally {
      await browser?.close();
      await server.shutdown();
      await ts.dispose();
    }
  },
});
