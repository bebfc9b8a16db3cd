/**
 * A small, strict reader for gzipped tar archives (`.tgz`, as npm publishes them): ustar headers,
 * pax extended headers (`path`, `linkpath`, `size`) and GNU long names. Built on the standard
 * `DecompressionStream("gzip")`, no dependency.
 *
 * Safety rules: absolute paths, `..` segments, backslashes and NUL bytes are refused; device
 * files and FIFOs are refused; no link is ever created on disk: a symlink or hard link to a
 * regular file of the same archive becomes a copy of that file, any other link (to a folder,
 * outside the archive, or dangling) is refused. Totals are capped.
 * @module
 */
import { dirname, join } from "node:path";
import { posix } from "node:path";

/** An archive that cannot be extracted safely; the message names the archive and the entry. */
export class ArchiveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ArchiveError";
  }
}

/** Options of {@linkcode extractTarGz}. */
export interface ExtractOptions {
  /** Name of the archive in error messages. */
  displayName?: string;
  /** Cap on the total size of extracted files in bytes (default 200 MiB). */
  maxBytes?: number;
  /** Cap on the number of entries (default 20,000). */
  maxEntries?: number;
  signal?: AbortSignal;
}

class ByteReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }
  /** Exactly `n` bytes, or `null` at a clean end of stream; throws when the stream is cut. */
  async read(n: number): Promise<Uint8Array | null> {
    while (this.#buffered < n) {
      const { done, value } = await this.#reader.read();
      if (done) {
        if (this.#buffered === 0) return null;
        throw new Error("archive is truncated");
      }
      this.#chunks.push(value);
      this.#buffered += value.byteLength;
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0];
      const take = Math.min(c.byteLength, n - off);
      out.set(c.subarray(0, take), off);
      off += take;
      if (take === c.byteLength) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
    }
    this.#buffered -= n;
    return out;
  }
  async cancel() {
    await this.#reader.cancel().catch(() => {});
  }
}

const dec = new TextDecoder();

function cstr(b: Uint8Array, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return dec.decode(nul < 0 ? s : s.subarray(0, nul));
}

function octal(b: Uint8Array, off: number, len: number): number {
  if (b[off] & 0x80) { // GNU base-256 for big sizes
    let v = b[off] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i];
    return v;
  }
  const s = cstr(b, off, len).trim();
  return s === "" ? 0 : parseInt(s, 8);
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === octal(h, 148, 8);
}

function parsePax(body: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const text = dec.decode(body);
  let i = 0;
  while (i < text.length) {
    const sp = text.indexOf(" ", i);
    if (sp < 0) break;
    const len = parseInt(text.slice(i, sp), 10);
    if (!(len > 0)) break;
    const rec = text.slice(sp + 1, i + len - 1);
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Normalizes an entry path, or returns why it is refused. */
export function safeEntryPath(raw: string): { path: string } | { error: string } {
  if (raw.includes("\0")) return { error: "contains a NUL byte" };
  if (raw.includes("\\")) return { error: "contains a backslash" };
  if (raw.startsWith("/") || /^[A-Za-z]:/.test(raw)) return { error: "is an absolute path" };
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) return { error: "climbs out of the archive with .." };
  return { path: parts.join("/") };
}

interface PendingLink {
  path: string;
  target: string;
  kind: "symlink" | "hard link";
}

/**
 * Extracts a gzipped tar archive into `destDir` (created if needed) and returns the relative
 * paths of the files written. Entries are written exactly at their archive paths (an npm
 * tarball's files land under `package/`).
 * @throws {ArchiveError} naming the archive and the offending entry.
 */
export async function extractTarGz(
  input: Uint8Array | ReadableStream<Uint8Array>,
  destDir: string,
  options: ExtractOptions = {},
): Promise<string[]> {
  const name = options.displayName ?? "archive";
  const maxBytes = options.maxBytes ?? 200 * 1024 * 1024;
  const maxEntries = options.maxEntries ?? 20_000;
  const stream =
    (input instanceof Uint8Array
      ? new Blob([input as Uint8Array<ArrayBuffer>]).stream()
      : input) as ReadableStream<BufferSource>;
  const reader = new ByteReader(stream.pipeThrough(new DecompressionStream("gzip")));
  const files = new Set<string>();
  const links: PendingLink[] = [];
  const fail = (msg: string, cause?: unknown): never => {
    throw new ArchiveError(`${name}: ${msg}`, { cause });
  };
  await Deno.mkdir(destDir, { recursive: true });
  let total = 0, entries = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined, longLink: string | undefined;
  try {
    while (true) {
      options.signal?.throwIfAborted();
      const h = await reader.read(512);
      if (h === null || h.every((b) => b === 0)) break;
      if (!checksumOk(h)) fail("not a tar archive, or it is corrupted (bad header checksum)");
      if (++entries > maxEntries) fail(`more than ${maxEntries} entries`);
      const type = String.fromCharCode(h[156] || 48);
      const magic = cstr(h, 257, 6);
      let path = cstr(h, 0, 100);
      const prefix = magic.startsWith("ustar") ? cstr(h, 345, 155) : "";
      if (prefix) path = `${prefix}/${path}`;
      let link = cstr(h, 157, 100);
      let size = octal(h, 124, 12);
      if (pax.path !== undefined) path = pax.path;
      if (pax.linkpath !== undefined) link = pax.linkpath;
      if (pax.size !== undefined) size = Number(pax.size);
      if (longName !== undefined) path = longName;
      if (longLink !== undefined) link = longLink;
      if (!["x", "g", "L", "K"].includes(type)) {
        pax = {};
        longName = longLink = undefined;
      }
      if (!Number.isSafeInteger(size) || size < 0) fail(`entry "${path}" has a broken size`);
      const padded = Math.ceil(size / 512) * 512;
      const readBody = async () => {
        if (padded === 0) return new Uint8Array(0);
        const body = await reader.read(padded);
        if (body === null) return fail(`archive is truncated in entry "${path}"`);
        return body.subarray(0, size);
      };
      if (type === "x" || type === "g" || type === "L" || type === "K") {
        if (size > 1024 * 1024) fail(`extended header of "${path}" is too large`);
        const body = await readBody();
        if (type === "x") pax = parsePax(body);
        if (type === "L") longName = cstr(body, 0, body.length);
        if (type === "K") longLink = cstr(body, 0, body.length);
        continue;
      }
      const safe = safeEntryPath(path);
      if ("error" in safe) fail(`entry "${path}" ${safe.error}; refusing to extract it`);
      const rel = (safe as { path: string }).path;
      if (type === "0" || type === "7") {
        total += size;
        if (total > maxBytes) fail(`its files exceed ${maxBytes} bytes`);
        const body = await readBody();
        if (rel === "") continue;
        const full = join(destDir, rel);
        await Deno.mkdir(dirname(full), { recursive: true });
        await Deno.writeFile(full, body, { mode: 0o644 });
        files.add(rel);
      } else if (type === "5") {
        await readBody();
        if (rel) await Deno.mkdir(join(destDir, rel), { recursive: true });
      } else if (type === "2" || type === "1") {
        await readBody();
        links.push({ path: rel, target: link, kind: type === "2" ? "symlink" : "hard link" });
      } else {
        fail(`entry "${path}" is a device, FIFO or other special file (type ${type}); refused`);
      }
    }
  } catch (e) {
    if (e instanceof ArchiveError || e instanceof DOMException) throw e;
    fail(`cannot read it: ${(e as Error).message}`, e);
  } finally {
    await reader.cancel();
  }
  await materializeLinks(links, files, destDir, fail);
  return [...files].sort();
}

async function materializeLinks(
  links: PendingLink[],
  files: Set<string>,
  destDir: string,
  fail: (msg: string) => never,
) {
  const resolved = links.map((l) => {
    if (l.target.startsWith("/")) {
      fail(`${l.kind} "${l.path}" -> "${l.target}" points outside the plugin folder`);
    }
    const base = l.kind === "symlink" ? posix.dirname(l.path) : "";
    const joined = posix.normalize(posix.join(base, l.target));
    if (joined === ".." || joined.startsWith("../")) {
      fail(`${l.kind} "${l.path}" -> "${l.target}" points outside the plugin folder`);
    }
    return { ...l, resolved: joined };
  });
  let pending = resolved;
  while (pending.length) {
    const next = pending.filter((l) => !files.has(l.resolved));
    for (const l of pending.filter((l) => files.has(l.resolved))) {
      const full = join(destDir, l.path);
      await Deno.mkdir(dirname(full), { recursive: true });
      await Deno.copyFile(join(destDir, l.resolved), full);
      files.add(l.path);
    }
    if (next.length === pending.length) {
      const l = next[0];
      fail(
        `${l.kind} "${l.path}" -> "${l.target}" does not point to a file of the archive; only ` +
          `links to files inside it are supported`,
      );
    }
    pending = next;
  }
}
