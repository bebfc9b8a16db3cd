/**
 * End-to-end test of the UI in Debian's Chromium (headless, through playwright-core; no browser
 * download): a real `sluice serve` subprocess with the flagship pipeline against the simulated
 * internet. Logs in with a token, breaks the pipeline in the editor and sees the inline error at
 * the right line, fixes and saves it, diffs with the previous version, runs it on an uploaded
 * CSV and watches progress reach 100%, filters leads and compares the downloaded CSV with the
 * API's, installs a plugin through the approval dialog, and screenshots every page into a folder
 * it prints.
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { parse } from "csv-parse/sync";
import { chromium } from "playwright-core";
import { join, ROOT } from "../core/paths.ts";
import { writePlugin } from "../core/plugins/test_support.ts";
import { startRdapFake } from "../testing/rdap_fake.ts";
import { generateWorld } from "../testing/world.ts";
import { startWorld } from "../testing/world_server.ts";

const CHROMIUM = "/usr/bin/chromium";
const ADMIN = "slc_browser_test_admin_token_0123456789abcdef";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitForServer(url: string, child: Deno.ChildProcess, signal: AbortSignal) {
  for (let i = 0; i < 600 && !signal.aborted; i++) {
    try {
      const res = await fetch(`${url}/readyz`);
      await res.body?.cancel();
      if (res.ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGTERM");
  throw new Error(`sluice serve did not become ready at ${url}`);
}

/** The part of CodeMirror's EditorView the page exposes as `sluiceEditor` that the test uses. */
interface EditorLike {
  state: { doc: { line(n: number): { from: number } } };
  dispatch(spec: {
    changes: { from: number; to?: number; insert?: string };
    selection?: { anchor: number };
    scrollIntoView?: boolean;
  }): void;
}

Deno.test({
  name: "the UI in a real browser: edit, run, watch, filter, download, install",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-browser-" });
    const shots = await Deno.makeTempDir({ prefix: "sluice-ui-screenshots-" });
    console.log(`screenshots: ${shots}`);
    const world = generateWorld({
      size: 60,
      seed: 11,
      mix: { live: 3, parked: 2, for_sale: 1, no_dns: 1, placeholder: 1, unreachable: 1 },
    });
    const running = await startWorld(world);
    const rdap = await startRdapFake({ domains: {} });
    await Deno.mkdir(join(dir, "pipelines"));
    const yaml = await Deno.readTextFile(join(ROOT, "pipelines/no-website-leads.yaml"));
    await Deno.writeTextFile(join(dir, "pipelines/no-website-leads.yaml"), yaml);
    const csv = world.toCsv();
    const port = freePort();
    const url = `http://localhost:${port}`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "core/cli.ts", "serve"],
      cwd: ROOT,
      env: {
        ...running.env,
        SLUICE_DATA_DIR: join(dir, "data"),
        SLUICE_STORE_PATH: join(dir, "data/sluice.kv"),
        SLUICE_PIPELINES_DIR: join(dir, "pipelines"),
        SLUICE_PLUGINS_INSTALL_DIR: join(dir, "installed"),
        SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
        SLUICE_SERVER_HOST: "127.0.0.1",
        SLUICE_SERVER_PORT: String(port),
        SLUICE_ADMIN_TOKEN: ADMIN,
        SLUICE_RDAP_BOOTSTRAP: rdap.bootstrapUrl,
        SLUICE_NETWORK_TIMEOUTS_CONNECT: "2s",
        SLUICE_NETWORK_TIMEOUTS_REQUEST: "3s",
        SLUICE_LOG_LEVEL: "warn",
      },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr: string[] = [];
    const stderrDone = (async () => {
      for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) stderr.push(c);
    })();
    const profile = await Deno.makeTempDir({ prefix: "sluice-chromium-" });
    let context;
    try {
      await waitForServer(url, child, AbortSignal.timeout(60_000));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        acceptDownloads: true,
        viewport: { width: 1280, height: 900 },
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
      const page = context.pages()[0] ?? await context.newPage();
      page.setDefaultTimeout(20_000);
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      const shot = (name: string) =>
        page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

      const onFail = async (e: unknown) => {
        await shot("failure").catch(() => {});
        console.log(`browser errors: ${errors.join("\n")}`);
        console.log(
          `failed at ${page.url()}:\n${
            (await page.innerText("main").catch(() => "")).slice(0, 1500)
          }`,
        );
        throw e;
      };
      const steps = async () => {
        // Log in with a token.
        await page.goto(`${url}/`);
        assert.match(page.url(), /\/login\?next=%2F$/);
        await shot("01-login");
        await page.fill("#token", ADMIN);
        await page.click("#login");
        await page.waitForURL(`${url}/`);
        await page.waitForSelector("#runs-chart canvas");
        await shot("02-dashboard");

        // Edit: break the source's chunk size and see the error at its line.
        await page.goto(`${url}/pipelines`);
        await shot("03-pipelines");
        await page.click("text=no-website-leads");
        await page.waitForSelector(".cm-editor .cm-content");
        await page.waitForSelector("#problems .ok");
        const lines = yaml.split("\n");
        const line = lines.findIndex((l) => /^ {2}chunk: \d{2,}$/.test(l)) + 1;
        assert.ok(line > 1, "the source's chunk line");
        await page.click(".cm-content");
        await page.keyboard.press("Control+Home");
        for (let i = 1; i < line; i++) await page.keyboard.press("ArrowDown");
        await page.keyboard.press("End");
        await page.keyboard.type("0000000");
        const problem = page.locator(`#problems li.err[data-line="${line}"]`);
        await problem.waitFor();
        assert.match(await problem.innerText(), new RegExp(`line ${line}:\\d+`));
        await page.waitForSelector(".cm-lintRange-error");
        await shot("04-editor-error");
        for (let i = 0; i < 8; i++) await page.keyboard.press("Backspace");
        await page.waitForSelector("#problems .ok");
        // A key written into the file is a warning at its line while typing, not only after saving.
        const budget = lines.findIndex((l) => /^ {6}budgetTokens: \d+$/.test(l)) + 1;
        assert.ok(budget > 1, "llm-verify's budgetTokens line");
        const literal = "      apiKey: sk-live-0123456789abcdef\n";
        const at = await page.evaluate(([n, text]) => {
          const view = (globalThis as unknown as Record<string, EditorLike>).sluiceEditor;
          const from = view.state.doc.line(Number(n) + 1).from;
          // Scrolled to: CodeMirror draws only the lines in view.
          view.dispatch({
            changes: { from, insert: String(text) },
            selection: { anchor: from },
            scrollIntoView: true,
          });
          return from;
        }, [budget, literal]);
        const warning = page.locator(`#problems li.warn[data-line="${budget + 1}"]`);
        await warning.waitFor();
        assert.match(await warning.innerText(), /warning: .*apiKey.*secrets\./);
        await page.waitForSelector(".cm-lintRange-warning");
        await page.evaluate(([from, len]) => {
          const view = (globalThis as unknown as Record<string, EditorLike>).sluiceEditor;
          view.dispatch({ changes: { from: Number(from), to: Number(from) + Number(len) } });
        }, [at, literal.length]);
        await page.waitForSelector("#problems .ok");
        await page.click("#save");
        await page.waitForSelector("#save-status.ok");
        const saved = await Deno.readTextFile(join(dir, "pipelines/no-website-leads.yaml"));
        assert.equal(saved.split("\n")[line - 1], lines[line - 1].slice(0, -1));
        await page.click("#diff");
        await page.waitForSelector("#diff-view .cm-mergeView");
        await shot("05-editor-diff");

        // Run now on an uploaded CSV; watch progress reach 100%.
        await page.setInputFiles("#run-file", {
          name: "businesses.csv",
          mimeType: "text/csv",
          buffer: Buffer.from(csv),
        });
        await page.click("#run-now");
        await page.waitForURL(/\/runs\/[^/]+$/);
        const runId = page.url().split("/").pop()!;
        await page.waitForSelector("#overall-text:text('100%')", { timeout: 90_000 });
        await page.waitForSelector("#run-state .state-succeeded");
        await shot("06-run");
        // The browser sent the file's own name with it: the run's messages name businesses.csv.
        const detail = await (await fetch(`${url}/api/v1/runs/${runId}`, {
          headers: { authorization: `Bearer ${ADMIN}` },
        })).json();
        assert.equal(detail.inputName, "businesses.csv");

        // Leads: filter by status, compare the download with the API's export.
        await page.click("text=Items and leads");
        await page.selectOption("#l-status", "parked");
        await page.click("#apply-filter");
        await page.waitForURL(/status=parked/);
        const statuses = await page.locator("table.leads tbody td.st").allInnerTexts();
        const parked = [...world.labels.values()].filter((l) => l === "parked").length;
        assert.ok(statuses.length > 0 && statuses.length <= parked, `rows: ${statuses.length}`);
        assert.ok(statuses.every((s) => s === "parked"), statuses.join(","));
        await page.locator("table.leads details.row-detail summary").first().click();
        await page.locator("table.leads .item-detail").first().waitFor();
        await shot("07-leads");
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.click("#download-csv"),
        ]);
        // The sales sheet of the rows shown, and every field of the same rows from the API.
        const got = await Deno.readTextFile((await download.path())!);
        const records = parse(got, { bom: true }) as string[][];
        assert.equal(records.length, statuses.length + 1, "header + one record per row");
        const statusCol = records[0].indexOf("website_status");
        assert.ok(records.slice(1).every((r) => r[statusCol] === "parked"));
        const href = await page.getAttribute("#download-all-csv", "href");
        const api = await fetch(`${url}${href}`, { headers: { authorization: `Bearer ${ADMIN}` } });
        const want = await api.text();
        assert.equal((parse(want, { bom: true }) as string[][]).length, records.length);
        const stage = new URL(`${url}${href}`).searchParams.get("stage");
        const all = await fetch(
          `${url}/api/v1/runs/${runId}/items/export?format=csv&stage=${stage}&filter=website.status%3Dparked`,
          { headers: { authorization: `Bearer ${ADMIN}` } },
        );
        assert.equal(await all.text(), want);

        // Install a plugin through the approval dialog.
        const pluginDir = await writePlugin(join(dir, "acme-enrich"), {
          name: "acme-enrich",
          version: "1.0.0",
          description: "Adds ACME data",
          permissions: { net: ["api.acme.example:443"] },
        });
        await page.goto(`${url}/plugins`);
        await page.fill("#install-source", pluginDir);
        await page.click("#install");
        await page.waitForSelector("#approve-dialog[open]");
        assert.match(
          await page.innerText("#approve-lines"),
          /may connect to api\.acme\.example:443/,
        );
        await shot("08-plugin-approval");
        await page.click("#approve");
        await page.waitForSelector('tr[data-plugin="acme-enrich"]', { timeout: 60_000 });
        await shot("09-plugins");

        for (
          const [path, name] of [["/runs", "10-runs"], ["/triggers", "11-triggers"], [
            "/settings",
            "12-settings",
          ]]
        ) {
          await page.goto(`${url}${path}`);
          await shot(name);
        }
      };
      await steps().catch(onFail);
      assert.deepEqual(errors, [], "no script errors in the browser");
    } finally {
      await context?.close();
      try {
        child.kill("SIGTERM");
      } catch {
        // The server already exited (its stderr below says why).
        stderr.push(`\n(the server had exited: ${JSON.stringify(await child.status)})`);
      }
      await child.status;
      await stderrDone;
      await rdap.close();
      await running.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      const text = stderr.join("");
      if (/error|exited/.test(text)) console.log(text.slice(-3000));
    }
  },
});
