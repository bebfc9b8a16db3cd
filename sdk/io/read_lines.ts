/**
 * Reads up to `limit` lines of a file starting at a byte offset, without loading the file:
 * how file sources stream large inputs and resume at a committed cursor.
 * @module
 */

const BLOCK = 64 * 1024;
const decoders = new Map<string, TextDecoder>();

/** Lines read, the byte offset after the last full line, and whether the file ended. */
export interface LinesRead {
  lines: string[];
  /** Absolute byte offset after each line (its newline included). */
  ends: number[];
  offset: number;
  eof: boolean;
  /** Indexes (into `lines`) of lines that were not UTF-8 and were read with the fallback. */
  recoded?: number[];
}

/** Options of {@linkcode readLines}. */
export interface ReadLinesOptions {
  /**
   * With UTF-8: the encoding a line that is not valid UTF-8 is read in instead of getting
   * replacement characters (a row pasted into a UTF-8 file from a Windows-1252 one); such lines
   * are listed in `recoded`.
   */
  fallback?: string;
}

function decoderOf(label: string, fatal = false): TextDecoder {
  const key = fatal ? `${label}!` : label;
  let d = decoders.get(key);
  if (!d) decoders.set(key, d = new TextDecoder(label, { fatal }));
  return d;
}

/**
 * Reads up to `limit` newline-terminated lines (the last line may lack its newline), decoded
 * with `encoding` (a `TextDecoder` label of an ASCII-compatible encoding; default UTF-8).
 */
export async function readLines(
  path: string,
  offset: number,
  limit: number,
  encoding = "utf-8",
  options: ReadLinesOptions = {},
): Promise<LinesRead> {
  const lines: string[] = [];
  const recoded: number[] = [];
  const plain = decoderOf(encoding);
  const strict = options.fallback ? decoderOf(encoding, true) : undefined;
  const fallback = options.fallback ? decoderOf(options.fallback) : undefined;
  const decoder = {
    decode(bytes: Uint8Array): string {
      if (!strict) return plain.decode(bytes);
      try {
        return strict.decode(bytes);
      } catch {
        recoded.push(lines.length);
        return fallback!.decode(bytes);
      }
    },
  };
  using file = await Deno.open(path, { read: true });
  await file.seek(offset, Deno.SeekMode.Start);
  const ends: number[] = [];
  let pending = new Uint8Array(0);
  let pos = offset;
  const buf = new Uint8Array(BLOCK);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) {
      if (pending.length) {
        lines.push(decoder.decode(pending).replace(/\r$/, ""));
        pos += pending.length;
        ends.push(pos);
      }
      return { lines, ends, offset: pos, eof: true, ...(strict ? { recoded } : {}) };
    }
    const data = new Uint8Array(pending.length + n);
    data.set(pending);
    data.set(buf.subarray(0, n), pending.length);
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      if (data[i] !== 10) continue;
      lines.push(decoder.decode(data.subarray(start, i)).replace(/\r$/, ""));
      pos += i + 1 - start;
      ends.push(pos);
      start = i + 1;
      if (lines.length === limit) {
        // Peek: are we at the end of the file?
        const rest = data.length - start;
        const extra = strict ? { recoded } : {};
        if (rest > 0) return { lines, ends, offset: pos, eof: false, ...extra };
        const more = await file.read(buf);
        return { lines, ends, offset: pos, eof: more === null, ...extra };
      }
    }
    pending = data.slice(start);
  }
}
