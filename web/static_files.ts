/**
 * The UI's static files (bundled client code, CSS), read once into memory and served with a
 * content hash in their URL so browsers may cache them for good.
 * @module
 */
import type { Hono } from "hono";
import type { AppEnv } from "../core/http/app_env.ts";

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  json: "application/json",
  map: "application/json",
};

interface StaticFile {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  hash: string;
}

/** Static files by name, and their versioned URLs. */
export class StaticFiles {
  #files = new Map<string, StaticFile>();

  /** Reads every file of `dir` (not recursive). */
  static async load(dir: string): Promise<StaticFiles> {
    const s = new StaticFiles();
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile) continue;
      const body = await Deno.readFile(`${dir}/${e.name}`);
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
      const hash = Array.from(digest.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
      const ext = e.name.slice(e.name.lastIndexOf(".") + 1);
      s.#files.set(e.name, { body, type: TYPES[ext] ?? "application/octet-stream", hash });
    }
    return s;
  }

  /** `/static/NAME?v=HASH`; throws for an unknown file (a missing build). */
  url(name: string): string {
    const f = this.#files.get(name);
    if (!f) {
      throw new Error(`web/static/${name} is missing; build the UI with \`deno task build:web\``);
    }
    return `/static/${name}?v=${f.hash}`;
  }

  /** Mounts `GET /static/:name`. */
  mount(app: Hono<AppEnv>): void {
    app.get("/static/:name", (c) => {
      const f = this.#files.get(c.req.param("name"));
      if (!f) return c.text("no such file", 404);
      const versioned = c.req.query("v") === f.hash;
      return c.body(f.body, 200, {
        "content-type": f.type,
        "cache-control": versioned ? "public, max-age=31536000, immutable" : "no-cache",
        etag: `"${f.hash}"`,
      });
    });
  }
}
