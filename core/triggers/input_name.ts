/**
 * The name a person knows a run's input file by: the upload's file name (a multipart `File`, a
 * `Content-Disposition: attachment; filename=…` header), made safe to show and to log. The file
 * itself is stored under the run's id; this name only labels it (`businesses.csv:12` in the
 * reasons of rejected rows instead of `<runId>.csv:12`).
 * @module
 */

/** The longest input name kept, in characters (a longer one keeps its end, the extension). */
export const MAX_INPUT_NAME = 120;

/**
 * A file name from a client, made safe: the base name only (no folders, `/` or `\`), without
 * control or bidirectional formatting characters, trimmed, and at most {@link MAX_INPUT_NAME}
 * characters (the middle is cut, keeping the start and the extension). Undefined when nothing
 * usable is left (empty, `.`, `..`).
 */
export function safeInputName(raw: string | null | undefined): string | undefined {
  if (typeof raw !== "string") return undefined;
  // Control characters (newlines included) and format characters (bidi overrides) are dropped.
  const clean = raw.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, "");
  const base = clean.split(/[/\\]/).pop()!.trim();
  if (base === "" || base === "." || base === "..") return undefined;
  const chars = [...base];
  if (chars.length <= MAX_INPUT_NAME) return base;
  const tail = Math.min(20, MAX_INPUT_NAME >> 2);
  return `${chars.slice(0, MAX_INPUT_NAME - tail - 1).join("")}…${chars.slice(-tail).join("")}`;
}

/**
 * The file name a `Content-Disposition` header gives (`filename*=UTF-8''…`, preferred as RFC
 * 6266 says, else `filename="…"` or `filename=…`), made safe by {@link safeInputName}; undefined
 * when the header is absent or names none.
 */
export function dispositionFileName(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  // Some clients quote the extended value, against RFC 5987: the quotes are not the name's.
  const ext = /(?:^|;)\s*filename\*\s*=\s*"?([^';\s"]*)'[^']*'([^;\s"]+)"?/i.exec(header);
  if (ext) {
    try {
      const charset = ext[1].toLowerCase();
      // ISO-8859-1 (the other charset RFC 5987 names): each %XX is one character.
      const value = charset === "utf-8" || charset === ""
        ? decodeURIComponent(ext[2])
        : ext[2].replace(/%([0-9a-f]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
      const name = safeInputName(value);
      if (name) return name;
    } catch {
      // A malformed %-escape: fall back to the plain `filename`.
    }
  }
  const quoted = /(?:^|;)\s*filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header);
  if (quoted) return safeInputName(quoted[1].replace(/\\(.)/g, "$1"));
  const token = /(?:^|;)\s*filename\s*=\s*([^;"\s][^;]*)/i.exec(header);
  return token ? safeInputName(token[1]) : undefined;
}
