import { definePlugin } from "@sluice/sdk";

type Arg = string;

/** Each attack returns what it got if it succeeds (it must not), or throws. */
const attacks: Record<string, (arg: Arg) => unknown> = {
  readFile: (path) => Deno.readTextFile(path),
  readDir: async (path) => (await Array.fromAsync(Deno.readDir(path))).map((e) => e.name),
  nodeReadFile: async (path) => (await import("node:fs")).readFileSync(path, "utf8"),
  env: (name) => Deno.env.get(name),
  envAll: () => Deno.env.toObject(),
  fetch: async (url) => (await fetch(url)).text(),
  nodeHttp: async (url) => {
    const http = await import("node:http");
    return await new Promise((resolve, reject) => {
      http.get(url, (res) => resolve(res.statusCode)).on("error", reject);
    });
  },
  tcp: async (hostPort) => {
    const [hostname, port] = hostPort.split(":");
    const conn = await Deno.connect({ hostname, port: Number(port) });
    conn.close();
    return "connected";
  },
  udp: async (hostPort) => {
    const [host, port] = hostPort.split(":");
    const dgram = await import("node:dgram");
    const socket = dgram.createSocket("udp4");
    return await new Promise((resolve, reject) => {
      socket.on("error", reject);
      socket.send("hello", Number(port), host, (err) => err ? reject(err) : resolve("sent"));
    });
  },
  spawn: async () =>
    (await new Deno.Command(Deno.execPath(), { args: ["--version"] }).output()).code,
  nodeSpawn: async () =>
    String((await import("node:child_process")).execFileSync(Deno.execPath(), ["--version"])),
  kill: (pid) => Deno.kill(Number(pid), "SIGCONT"),
  ffi: () => Deno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } }),
  sys: () => Deno.hostname(),
  write: (path) => Deno.writeTextFile(path, "pwned"),
  symlink: (path) => Deno.symlink("/etc/passwd", path),
  hardLink: (path) => Deno.link("/etc/passwd", path),
  listen: (port) => {
    const listener = Deno.listen({ hostname: "0.0.0.0", port: Number(port) });
    listener.close();
    return "listening";
  },
  chdir: (dir) => {
    Deno.chdir(dir);
    return Deno.readTextFile("passwd");
  },
  importUrl: (url) => import(url),
  requestPermission: async (path) => {
    const status = await Deno.permissions.request({ name: "read", path });
    return { state: status.state, text: await Deno.readTextFile(path) };
  },
  openKv: async (path) => {
    const kv = await Deno.openKv(path || undefined);
    kv.close();
    return "opened";
  },
  localStorage: () => localStorage.getItem("anything"),
  worker: () => {
    // A worker's globals would not carry the child's guards: its Cache API and KV are open.
    const w = new Worker(new URL("./mod.ts", import.meta.url).href, { type: "module" });
    w.terminate();
    return "started";
  },
  caches: async () => {
    const cache = await caches.open("shared");
    await cache.put("https://channel.invalid/", new Response("a message for another plugin"));
    return "cached";
  },
  floodStdout: (mib) => {
    // Never a newline: the host must not gather all of it (it ran out of string length).
    const piece = new TextEncoder().encode("x".repeat(1024 * 1024));
    for (let i = 0; i < Number(mib); i++) {
      for (let b = piece; b.length > 0;) b = b.subarray(Deno.stdout.writeSync(b));
    }
    return "flooded";
  },
  memory: () => {
    const hog: number[][] = [];
    while (true) hog.push(new Array(1e6).fill(7));
  },
  bufferMemory: async (mib) => {
    // ArrayBuffers live outside the V8 heap: the heap cap does not stop them.
    const hog: Uint8Array[] = [];
    for (let i = 0; i < Number(mib) / 16; i++) {
      hog.push(new Uint8Array(16 * 1024 * 1024).fill(7));
      await new Promise((r) => setTimeout(r, 0));
    }
    return `held ${hog.length * 16} MiB`;
  },
  loop: () => {
    while (true) { /* forever */ }
  },
};

export default definePlugin({
  async process(items) {
    const out = [];
    for (const item of items) {
      const attack = attacks[String(item.attack ?? "")];
      if (!attack) {
        out.push({ ...item, ok: true });
        continue;
      }
      const got = await attack(String(item.arg ?? ""));
      out.push({ key: item.key, escaped: true, got: String(got).slice(0, 100) });
    }
    return out;
  },
});
