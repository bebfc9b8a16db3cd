/**
 * Brings a plugin from where it lives (a folder, a `.tgz` file, an `https://` URL to a `.tgz`,
 * or `npm:name[@version]`) into a private staging folder, without running any of its code.
 * @module
 */
import { join, resolve, sep } from "node:path";
import semver from "semver";
import { listFolder } from "./integrity.ts";
import { checkSri } from "./integrity.ts";
import { extractTarGz } from "./tar.ts";
import { splitPluginRef } from "./manifest.ts";
import { describeFetchFailure, describeHttpStatus } from "./fetch_failure.ts";

/** A source that could not be fetched or unpacked; the message says which and why. */
export class PluginSourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PluginSourceError";
  }
}

/** The npm registry plugin installs use when none is set. */
export const DEFAULT_NPM_REGISTRY = "https://registry.npmjs.org";

/**
 * The npm registry for `plugin install npm:…`: `NPM_CONFIG_REGISTRY` as read by `env` (the
 * variable Deno itself reads, so a plugin and the npm packages it imports come from the same
 * registry), else {@link DEFAULT_NPM_REGISTRY}.
 *
 * ```ts
 * npmRegistryFromEnv((name) => Deno.env.get(name));
 * ```
 */
export function npmRegistryFromEnv(env: (name: string) => string | undefined): string {
  return env("NPM_CONFIG_REGISTRY")?.trim() || DEFAULT_NPM_REGISTRY;
}

/** Options of {@linkcode stageSource}. */
export interface StageSourceOptions {
  /** An empty folder to unpack into. */
  stagingDir: string;
  /** `fetch` to use for URLs and the npm registry (inject a client with extra CA certs here). */
  fetch?: typeof fetch;
  /** Base URL of the npm registry (default {@link DEFAULT_NPM_REGISTRY}). */
  npmRegistry?: string;
  /** Cap on a download, in bytes (default 50 MiB). */
  maxDownloadBytes?: number;
  signal?: AbortSignal;
}

/** A staged plugin: the folder that holds `plugin.json`, and the source as the lock records it. */
export interface StagedSource {
  /** Folder (inside the staging folder) that holds `plugin.json`. */
  root: string;
  /** Canonical source: an absolute path, the URL, or `npm:name@exact-version`. */
  source: string;
}

/** The four kinds of sources. */
export type SourceKind = "folder" | "tgz" | "url" | "npm";

/** Tells which kind of source `source` is (a path that is not a `.tgz` counts as a folder). */
export function sourceKind(source: string): SourceKind {
  if (source.startsWith("npm:")) return "npm";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return "url";
  if (/\.(tgz|tar\.gz)$/i.test(source)) return "tgz";
  return "folder";
}

async function download(
  url: string,
  opts: StageSourceOptions,
  what: string,
  notFound?: string,
): Promise<Uint8Array> {
  const max = opts.maxDownloadBytes ?? 50 * 1024 * 1024;
  const failed = (e: unknown) =>
    new PluginSourceError(`cannot download ${what} from ${url}: ${describeFetchFailure(e, url)}`, {
      cause: e,
    });
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, { signal: opts.signal });
  } catch (e) {
    throw failed(e);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new PluginSourceError(
      `cannot download ${what} from ${url}: ${
        describeHttpStatus(res.status, res.statusText, url, notFound)
      }`,
    );
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > max) {
        throw new PluginSourceError(`${what} at ${url} is larger than ${max} bytes; refused`);
      }
      chunks.push(chunk);
    }
  } catch (e) {
    throw e instanceof PluginSourceError ? e : failed(e);
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** Copies a folder's files; links are copied as files when they point to a file inside it. */
async function copyFolder(src: string, dest: string) {
  const root = await Deno.realPath(src);
  for (const e of await listFolder(src)) {
    const from = join(src, e.path), to = join(dest, e.path);
    await Deno.mkdir(join(to, ".."), { recursive: true });
    if (e.type === "file") {
      await Deno.copyFile(from, to);
      continue;
    }
    let real: string;
    try {
      real = await Deno.realPath(from);
    } catch {
      throw new PluginSourceError(`${from}: link does not point to anything; remove it`);
    }
    if (!real.startsWith(root + sep) || !(await Deno.stat(real)).isFile) {
      throw new PluginSourceError(
        `${from}: link points outside the plugin folder or to a folder; a plugin must contain ` +
          `its files, replace the link by a copy`,
      );
    }
    await Deno.copyFile(real, to);
  }
}

/** The folder holding `plugin.json`: the top, or the single top-level folder (npm's `package/`). */
async function findRoot(dir: string, source: string): Promise<string> {
  const hasManifest = async (d: string) =>
    (await Deno.stat(join(d, "plugin.json")).catch(() => null))?.isFile;
  if (await hasManifest(dir)) return dir;
  const tops = [];
  for await (const e of Deno.readDir(dir)) tops.push(e);
  if (tops.length === 1 && tops[0].isDirectory && await hasManifest(join(dir, tops[0].name))) {
    return join(dir, tops[0].name);
  }
  throw new PluginSourceError(
    `${source}: no plugin.json at its top (or under its single top folder such as package/); ` +
      `is this a Sluice plugin?`,
  );
}

interface Packument {
  "dist-tags"?: Record<string, string>;
  versions?: Record<string, { dist?: { tarball?: string; integrity?: string; shasum?: string } }>;
}

async function stageNpm(spec: string, opts: StageSourceOptions): Promise<StagedSource> {
  const { name, range } = splitPluginRef(spec.slice("npm:".length));
  const base = (opts.npmRegistry ?? DEFAULT_NPM_REGISTRY).replace(/\/+$/, "");
  const url = `${base}/${name.replace("/", "%2f")}`;
  let body: Uint8Array;
  try {
    body = await download(
      url,
      opts,
      `npm metadata of ${name}`,
      `the registry has no package ${name}; check the name after npm:`,
    );
  } catch (e) {
    if (!(e instanceof PluginSourceError)) throw e;
    throw new PluginSourceError(
      `${e.message} (npm registry ${base}; set NPM_CONFIG_REGISTRY to use another, e.g. a mirror)`,
      { cause: e.cause ?? e },
    );
  }
  let doc: Packument;
  try {
    doc = JSON.parse(new TextDecoder().decode(body));
  } catch (e) {
    throw new PluginSourceError(`${url}: the npm registry answered with something not JSON`, {
      cause: e,
    });
  }
  const versions = Object.keys(doc.versions ?? {});
  const wanted = range ?? "latest";
  const version = doc["dist-tags"]?.[wanted] ??
    (semver.valid(wanted) ? wanted : semver.maxSatisfying(versions, wanted));
  const meta = version ? doc.versions?.[version] : undefined;
  if (!version || !meta?.dist?.tarball) {
    throw new PluginSourceError(
      `npm:${name}: no version matches "${wanted}" (published: ${versions.join(", ") || "none"})`,
    );
  }
  const sri = meta.dist.integrity ?? meta.dist.shasum;
  if (!sri) {
    throw new PluginSourceError(`npm:${name}@${version}: the registry gives no integrity; refused`);
  }
  const tgz = await download(meta.dist.tarball, opts, `npm:${name}@${version}`);
  const bad = checkSri(tgz, sri);
  if (bad) {
    throw new PluginSourceError(
      `npm:${name}@${version}: the tarball from ${meta.dist.tarball} does not match the ` +
        `registry's integrity (${bad}); refused. Try again later or report it to the publisher.`,
    );
  }
  await extractTarGz(tgz, opts.stagingDir, {
    displayName: `npm:${name}@${version}`,
    signal: opts.signal,
  });
  return { root: await findRoot(opts.stagingDir, spec), source: `npm:${name}@${version}` };
}

/**
 * Fetches or copies `source` into `opts.stagingDir` and returns the folder holding
 * `plugin.json`. Plain `http://` URLs are refused (use `https://`, or `npm:` whose integrity is
 * checked). No plugin code runs.
 * @throws {PluginSourceError} or `ArchiveError` with what was wrong.
 */
export async function stageSource(source: string, opts: StageSourceOptions): Promise<StagedSource> {
  const kind = sourceKind(source);
  if (kind === "npm") return await stageNpm(source, opts);
  if (kind === "url") {
    if (!source.startsWith("https://")) {
      throw new PluginSourceError(
        `${source}: only https:// URLs are accepted (the download must be authenticated)`,
      );
    }
    const tgz = await download(source, opts, "the plugin archive");
    await extractTarGz(tgz, opts.stagingDir, { displayName: source, signal: opts.signal });
    return { root: await findRoot(opts.stagingDir, source), source };
  }
  const path = resolve(source);
  const info = await Deno.stat(path).catch(() => null);
  if (!info) throw new PluginSourceError(`${path}: no such file or folder`);
  if (kind === "tgz" && info.isFile) {
    const file = await Deno.open(path);
    await extractTarGz(file.readable, opts.stagingDir, { displayName: path, signal: opts.signal });
    return { root: await findRoot(opts.stagingDir, path), source: path };
  }
  if (!info.isDirectory) {
    throw new PluginSourceError(`${path}: not a folder nor a .tgz archive`);
  }
  await copyFolder(path, opts.stagingDir);
  return { root: await findRoot(opts.stagingDir, path), source: path };
}
