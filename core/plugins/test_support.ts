/**
 * Helpers for the plugin tests: fixture plugins, a small ustar+gzip writer (which can also write
 * the hostile archives the reader must refuse), a self-signed certificate, loopback servers.
 * Test-only; nothing in the server imports this.
 * @module
 */
import { dirname, join } from "node:path";
import type { ManifestPermissions } from "./manifest.ts";

/** A fixture plugin's manifest fields (name and version required). */
export interface FixturePlugin {
  name: string;
  version: string;
  kind?: "source" | "transform" | "sink";
  permissions?: Partial<ManifestPermissions>;
  description?: string;
  /** Extra files, by relative path. */
  files?: Record<string, string>;
  /** Extra manifest fields. */
  extra?: Record<string, unknown>;
  /** How `mod.ts` imports the SDK (default `@sluice/sdk`, through the host's import map). */
  sdk?: string;
}

/** Writes a plugin folder (`plugin.json` + `mod.ts` + extra files) into `dir`. */
export async function writePlugin(dir: string, p: FixturePlugin): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const manifest = {
    name: p.name,
    version: p.version,
    kind: p.kind ?? "transform",
    description: p.description ?? `fixture ${p.name}`,
    entry: "mod.ts",
    config: { type: "object", properties: { field: { type: "string" } } },
    permissions: p.permissions ?? {},
    ...p.extra,
  };
  await Deno.writeTextFile(join(dir, "plugin.json"), JSON.stringify(manifest, null, 2));
  await Deno.writeTextFile(
    join(dir, "mod.ts"),
    `import { definePlugin } from "${p.sdk ?? "@sluice/sdk"}";\n` +
      `export default definePlugin({ process: (items) => items });\n`,
  );
  for (const [rel, text] of Object.entries(p.files ?? {})) {
    await Deno.mkdir(dirname(join(dir, rel)), { recursive: true });
    await Deno.writeTextFile(join(dir, rel), text);
  }
  return dir;
}

/** One entry for {@linkcode makeTarGz}; paths are written as given (no safety checks). */
export type TarEntry =
  | { path: string; type?: "file"; body: string | Uint8Array }
  | { path: string; type: "dir" }
  | { path: string; type: "symlink" | "hardlink"; target: string };

const enc = new TextEncoder();

function header(path: string, type: string, size: number, link = ""): Uint8Array {
  const h = new Uint8Array(512);
  const put = (off: number, len: number, s: string) => h.set(enc.encode(s).subarray(0, len), off);
  const oct = (off: number, len: number, n: number) =>
    put(off, len, n.toString(8).padStart(len - 1, "0") + "\0");
  put(0, 100, path);
  oct(100, 8, type === "5" ? 0o755 : 0o644);
  oct(108, 8, 0);
  oct(116, 8, 0);
  oct(124, 12, size);
  oct(136, 12, 1_700_000_000);
  put(148, 8, "        ");
  put(156, 1, type);
  put(157, 100, link);
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

function pad(body: Uint8Array): Uint8Array[] {
  const rest = body.length % 512;
  return rest ? [body, new Uint8Array(512 - rest)] : [body];
}

function paxRecord(key: string, value: string): string {
  const base = ` ${key}=${value}\n`;
  let len = base.length + 1;
  while (String(len).length + base.length !== len) len = String(len).length + base.length;
  return `${len}${base}`;
}

/**
 * Builds a gzipped tar archive. Paths longer than 100 bytes get a pax `path` record, so the
 * reader's pax support is exercised.
 */
export async function makeTarGz(entries: TarEntry[]): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const type = e.type === "dir"
      ? "5"
      : e.type === "symlink"
      ? "2"
      : e.type === "hardlink"
      ? "1"
      : "0";
    let path = e.path;
    if (enc.encode(path).length > 100) {
      const pax = enc.encode(paxRecord("path", path));
      parts.push(header("PaxHeader", "x", pax.length), ...pad(pax));
      path = path.slice(0, 99);
    }
    if (type === "0") {
      const body = typeof (e as { body: unknown }).body === "string"
        ? enc.encode((e as { body: string }).body)
        : (e as { body: Uint8Array }).body;
      parts.push(header(path, "0", body.length), ...pad(body));
    } else {
      const target = "target" in e ? e.target : "";
      parts.push(header(path, type, 0, target));
    }
  }
  parts.push(new Uint8Array(1024));
  const stream = new Blob(parts as Uint8Array<ArrayBuffer>[]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Every file of `dir` as tar entries under `prefix` (e.g. `package/`). */
export async function folderEntries(dir: string, prefix = ""): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(join(dir, rel))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(p);
      else out.push({ path: prefix + p, body: await Deno.readFile(join(dir, p)) });
    }
  };
  await walk("");
  return out;
}

/** A temporary folder and a way to remove it. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "sluice-plugins-test-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** Creates a self-signed certificate for `localhost` and `127.0.0.1` with the openssl CLI. */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, "cert.pem"), key = join(dir, "key.pem");
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return { cert: await Deno.readTextFile(cert), key: await Deno.readTextFile(key) };
}

/** A loopback server (plain or TLS) answering from a route table; `urls` counts requests. */
export function serveRoutes(
  routes: Record<string, () => Response>,
  tls?: { cert: string; key: string },
): { base: string; hits: string[] } & AsyncDisposable {
  const hits: string[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    ...(tls ?? {}),
  }, (req) => {
    const path = new URL(req.url).pathname;
    hits.push(path);
    return routes[path]?.() ?? new Response("not found", { status: 404 });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    base: `${tls ? "https" : "http"}://127.0.0.1:${addr.port}`,
    hits,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Lists every file and folder (with a trailing `/`) under `dir`, for "nothing written" checks. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    let it;
    try {
      it = Deno.readDir(join(dir, rel));
      for await (const e of it) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory) {
          out.push(p + "/");
          await walk(p);
        } else out.push(p);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  };
  await walk("");
  return out.sort();
}
