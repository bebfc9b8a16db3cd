/**
 * Progress of a run on the terminal: a bar per stage on a TTY, plain lines otherwise.
 * @module
 */
import type { RunRecord, StageCounters, Store } from "../store/store.ts";

const enc = new TextEncoder();

/** Renders one frame of progress bars. */
export function renderBars(
  run: RunRecord,
  counters: StageCounters[],
  sourceDone: boolean,
  width = 30,
): string {
  const total = counters[0]?.chunksDone ?? 0;
  const lines = run.stages.map((st, i) => {
    const c = counters[i];
    const done = c.chunksDone + c.chunksDead;
    const frac = total === 0 ? 0 : Math.min(1, done / total);
    const shown = i === 0 ? (sourceDone ? 1 : 0.5) : (sourceDone ? frac : frac * 0.99);
    const fill = Math.round(shown * width);
    const bar = "█".repeat(fill) + "░".repeat(width - fill);
    const n = i === 0 ? `${c.out} read` : `${c.in} in, ${c.out} out`;
    const extra = [
      c.rejected ? `${c.rejected} rejected` : "",
      c.failed ? `${c.failed} failed` : "",
      c.chunksDead ? `${c.chunksDead} dead` : "",
    ].filter(Boolean).join(", ");
    return `${st.id.padEnd(14)} ${bar} ${n}${extra ? ` (${extra})` : ""}`;
  });
  return lines.join("\n");
}

/** Shows progress until `signal` aborts; returns a function that draws the last frame. */
export function showProgress(
  store: Store,
  run: RunRecord,
  signal: AbortSignal,
  write: (s: string) => void = (s) => Deno.stderr.writeSync(enc.encode(s)),
  tty = Deno.stderr.isTerminal(),
): () => Promise<void> {
  let lastLines = 0;
  let lastPlain = 0;
  const draw = async (final: boolean) => {
    const counters = await store.counters(run.id, run.stages.length);
    const p = await store.sourceProgress(run.id);
    if (tty) {
      const frame = renderBars(run, counters, p.done);
      const up = lastLines ? `\x1b[${lastLines}A\r\x1b[J` : "";
      write(up + frame + "\n");
      lastLines = frame.split("\n").length;
    } else if (final || Date.now() - lastPlain > 2000) {
      lastPlain = Date.now();
      // `normalize 296 out, 2 chunks`: items the stage passed on, chunks it finished.
      const parts = run.stages.map((st, i) => {
        const c = counters[i];
        return `${st.id} ${c.out} out, ${c.chunksDone} chunk${c.chunksDone === 1 ? "" : "s"}`;
      });
      write(`progress ${run.id}: ${parts.join(" | ")}\n`);
    }
  };
  const timer = setInterval(() => draw(false).catch(() => {}), tty ? 200 : 500);
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  return async () => {
    clearInterval(timer);
    await draw(true);
  };
}
