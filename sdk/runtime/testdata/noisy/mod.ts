import { definePlugin } from "@sluice/sdk";

/** Writes `bytes` bytes of `x` to `out` in 64 KiB pieces, without a newline. */
function flood(out: typeof Deno.stdout | typeof Deno.stderr, bytes: number): void {
  const piece = new TextEncoder().encode("x".repeat(64 * 1024));
  for (let left = bytes; left > 0; left -= piece.length) {
    let b = piece.subarray(0, Math.min(piece.length, left));
    while (b.length > 0) b = b.subarray(out.writeSync(b));
  }
}

/**
 * Per item `op`: `stdout` floods stdout with `bytes` bytes and no newline; `stderr` writes a
 * stderr line of `bytes` bytes; `big` answers with a `bytes`-long field; `secret` logs the
 * run's secret TOKEN in a message (as is and inside JSON) and in structured data; `location`
 * answers the origin the process runs at; `forge` writes an answer whose items line is broken;
 * `hold` holds a slot of `ctx.limits` key `k` (at most `limit` holders) for `ms` and answers
 * when it held it (`held: [from, to]`, epoch ms), the items of a call all at once;
 * `forge-acquire` asks the host for a slot with an empty key, around the SDK.
 */
export default definePlugin({
  async process(items, { secrets, log, limits, signal }) {
    if (items.some((item) => item.op === "hold")) {
      return await Promise.all(items.map(async (item) => {
        const release = await limits.acquire(String(item.k), Number(item.limit), signal);
        const from = Date.now();
        await new Promise((r) => setTimeout(r, Number(item.ms)));
        const to = Date.now();
        release();
        return { ...item, held: [from, to] };
      }));
    }
    return items.map((item) => {
      const bytes = Number(item.bytes ?? 0);
      switch (item.op) {
        case "stdout":
          flood(Deno.stdout, bytes);
          return item;
        case "stderr":
          flood(Deno.stderr, bytes);
          Deno.stderr.writeSync(new TextEncoder().encode("\nafter the long line\n"));
          return item;
        case "forge":
          // A protocol answer whose items line is no JSON array (the host must refuse it).
          Deno.stdout.writeSync(new TextEncoder().encode(
            '\x1e{"id":987654,"ok":true,"result":{},"itemsNext":true}\n\x1enot an array\n',
          ));
          return item;
        case "forge-acquire":
          Deno.stdout.writeSync(new TextEncoder().encode(
            '\x1e{"op":"acquire","lease":1,"key":"","limit":1}\n',
          ));
          return item;
        case "location":
          return { ...item, location: globalThis.location?.href ?? null };
        case "big":
          return { ...item, big: "y".repeat(bytes) };
        case "secret": {
          const token = secrets.TOKEN;
          console.log(`token ${token} as JSON: ${JSON.stringify({ token })}`);
          log.info("structured", { token, nested: { list: [`Bearer ${token}`] } });
          return item;
        }
        default:
          return { ...item, ok: true };
      }
    });
  },
});
