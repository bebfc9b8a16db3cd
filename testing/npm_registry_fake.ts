/**
 * A tiny npm registry on loopback for tests: serves one package's metadata and tarball, so
 * `deno cache` can be exercised without the internet.
 * @module
 */
function encodeBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** One file of the package (path inside `package/`). */
export interface PackageFile {
  path: string;
  text: string;
}

function tarHeader(name: string, size: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (offset: number, text: string) => h.set(new TextEncoder().encode(text), offset);
  put(0, name);
  put(100, "0000644\0");
  put(108, "0000000\0");
  put(116, "0000000\0");
  put(124, size.toString(8).padStart(11, "0") + "\0");
  put(136, "00000000000\0");
  put(148, "        ");
  put(156, "0");
  put(257, "ustar\0");
  put(263, "00");
  let sum = 0;
  for (const b of h) sum += b;
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

/** Builds a gzipped tarball with the files under `package/`. */
export async function makeTarball(files: PackageFile[]): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = [];
  for (const f of files) {
    const body = new TextEncoder().encode(f.text);
    parts.push(tarHeader(`package/${f.path}`, body.length), body);
    parts.push(new Uint8Array((512 - (body.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  const tar = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    tar.set(p, at);
    at += p.length;
  }
  const gz = new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(gz).arrayBuffer());
}

/** A running fake registry; `requests` counts what it served. */
export interface FakeRegistry {
  url: string;
  requests: () => number;
  close(): Promise<void>;
}

/** Serves package `name@version` made of `files` on 127.0.0.1. */
export async function startFakeRegistry(
  name: string,
  version: string,
  files: PackageFile[],
): Promise<FakeRegistry> {
  const tgz = await makeTarball(files);
  const sha512 = new Uint8Array(await crypto.subtle.digest("SHA-512", tgz));
  const sha1 = new Uint8Array(await crypto.subtle.digest("SHA-1", tgz));
  const shasum = [...sha1].map((b) => b.toString(16).padStart(2, "0")).join("");
  let requests = 0;
  let port = 0;
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, (req): Response => {
    requests++;
    const path = decodeURIComponent(new URL(req.url).pathname);
    const base = `http://127.0.0.1:${port}`;
    if (path === `/${name}`) {
      return Response.json({
        name,
        "dist-tags": { latest: version },
        versions: {
          [version]: {
            name,
            version,
            dependencies: {},
            dist: {
              tarball: `${base}/${name}/-/${name}-${version}.tgz`,
              shasum,
              integrity: `sha512-${encodeBase64(sha512)}`,
            },
          },
        },
      });
    }
    if (path === `/${name}/-/${name}-${version}.tgz`) return new Response(tgz);
    return new Response("not found", { status: 404 });
  });
  port = server.addr.port;
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    requests: () => requests,
    close: () => server.shutdown(),
  };
}
