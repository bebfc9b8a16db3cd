import assert from "node:assert/strict";
import { hasProc, ResidentMemory } from "./resident_memory.ts";

function statusRssMb(pid: number): number {
  const kb = /^VmRSS:\s*(\d+)\s*kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1];
  return Number(kb) / 1024;
}

Deno.test({
  name: "resident memory: statm agrees with VmRSS and follows the process as it grows",
  ignore: Deno.build.os !== "linux",
  async fn() {
    assert.equal(hasProc(), true);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        // Holds 200 MiB of touched memory once told to (a line on stdin), then waits.
        "const b = new Uint8Array(64); await Deno.stdin.read(b);" +
        "const a = new Uint8Array(200 * 1024 * 1024).fill(1); console.log('ready');" +
        "await Deno.stdin.read(b); console.log(a[7]);",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const memory = new ResidentMemory(child.pid);
    const writer = child.stdin.getWriter();
    const reader = child.stdout.getReader();
    try {
      // Before: a fresh Deno process, well under 200 MiB.
      await new Promise((r) => setTimeout(r, 300));
      const before = memory.read();
      assert.ok(before !== undefined && before > 5, `read ${before} MB`);
      const status = statusRssMb(child.pid);
      assert.ok(Math.abs(before - status) < Math.max(4, status * 0.1), `${before} vs ${status}`);
      await writer.write(new TextEncoder().encode("go\n"));
      await reader.read(); // "ready"
      const after = memory.read()!;
      assert.ok(after - before > 190, `grew from ${before} to ${after} MB`);
      const status2 = statusRssMb(child.pid);
      assert.ok(Math.abs(after - status2) < Math.max(4, status2 * 0.05), `${after} vs ${status2}`);
    } finally {
      await writer.write(new TextEncoder().encode("end\n")).catch(() => {});
      await writer.close().catch(() => {});
      reader.releaseLock();
      await child.stdout.cancel().catch(() => {});
      await child.status;
      memory.close();
    }
  },
});

Deno.test({
  name: "resident memory: a process that does not exist reads as unknown",
  ignore: Deno.build.os !== "linux",
  fn() {
    const memory = new ResidentMemory(2 ** 22 + 12345); // above Linux's largest pid
    assert.equal(memory.read(), undefined);
    memory.close();
  },
});
