/**
 * A throwaway PostgreSQL server for tests: `initdb` into a temp dir with a known password,
 * listening on 127.0.0.1 at a free port with its socket dir inside the temp dir, stopped and
 * removed by `close()`. As root the server runs as the `postgres` OS user (via `runuser`),
 * since PostgreSQL refuses to run as root. When `SLUICE_TEST_DATABASE_URL` is set, that server
 * is used instead and nothing is started.
 *
 * A watchdog (a small shell loop, immune to Ctrl-C) stops and removes the server when the process
 * that started it ends without `close()`: interrupted, killed, or crashed. A benchmark stopped with
 * Ctrl-C or SIGKILL no longer leaves clusters running.
 * @module
 */
import { join } from "node:path";

/** A running (or external) test database. */
export interface TestPostgres extends AsyncDisposable {
  /** Connection string, e.g. `postgres://sluice:pw@127.0.0.1:54321/postgres`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** True when it came from `SLUICE_TEST_DATABASE_URL` (not started here). */
  readonly external: boolean;
  /** A local server's folder (data, socket, `server.log`); absent for an external one. */
  readonly dir?: string;
  /** Stops the server and removes its files (no-op for an external one). */
  close(): Promise<void>;
}

/** Options of {@linkcode startPostgres}. */
export interface StartPostgresOptions {
  /** Folder with `initdb`/`pg_ctl` (default: newest `/usr/lib/postgresql/<v>/bin`, or PATH). */
  binDir?: string;
  /** Ignore `SLUICE_TEST_DATABASE_URL` and always start a server. */
  forceLocal?: boolean;
}

async function findBinDir(): Promise<string> {
  const root = "/usr/lib/postgresql";
  const versions: number[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      if (/^\d+$/.test(e.name)) versions.push(Number(e.name));
    }
  } catch {
    // not a Debian layout: rely on PATH
  }
  versions.sort((a, b) => b - a);
  return versions.length ? join(root, String(versions[0]), "bin") : "";
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function run(cmd: string[], asUser: string | undefined, what: string): Promise<void> {
  const argv = asUser ? ["runuser", "-u", asUser, "--", ...cmd] : cmd;
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C" },
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`startPostgres: ${what} failed (${argv.join(" ")}):\n${text.trim()}`);
  }
}

const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/**
 * A shell loop that waits for this process to end, then stops the server (`pgCtl` is the
 * `pg_ctl -D <data>` command line) and removes `dir`. It ignores SIGINT, SIGTERM and SIGHUP, so
 * the Ctrl-C that stops its owner does not stop it; `close()` kills it with SIGKILL.
 */
function startWatchdog(pgCtl: string[], dir: string): Deno.ChildProcess {
  const script = `trap '' INT TERM HUP; while kill -0 ${Deno.pid} 2>/dev/null; do sleep 1; done; ` +
    `${pgCtl.map(quote).join(" ")} -m immediate -w stop >/dev/null 2>&1; rm -rf ${quote(dir)}`;
  const child = new Deno.Command("sh", {
    args: ["-c", script],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  return child;
}

/** Starts a server (or wraps `SLUICE_TEST_DATABASE_URL`); see the module doc. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const ext = options.forceLocal ? undefined : Deno.env.get("SLUICE_TEST_DATABASE_URL");
  if (ext) {
    const u = new URL(ext);
    const close = () => Promise.resolve();
    return {
      url: ext,
      host: u.hostname,
      port: Number(u.port || 5432),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: u.pathname.slice(1) || "postgres",
      external: true,
      close,
      [Symbol.asyncDispose]: close,
    };
  }
  const bin = options.binDir ?? await findBinDir();
  const exe = (name: string) => (bin ? join(bin, name) : name);
  const isRoot = Deno.uid() === 0;
  const asUser = isRoot ? "postgres" : undefined;
  const dir = await Deno.makeTempDir({ prefix: "sluice_pg_" });
  const password = crypto.randomUUID().replaceAll("-", "");
  const user = "sluice";
  const data = join(dir, "data");
  const sock = join(dir, "sock");
  let started = false;
  let watchdog: Deno.ChildProcess | undefined;
  const stop = async () => {
    if (watchdog) {
      watchdog.ref(); // (unref'd, its status would not keep this await alive)
      try {
        watchdog.kill("SIGKILL");
      } catch { /* already gone */ }
      await watchdog.status;
      watchdog = undefined;
    }
    if (started) {
      started = false;
      await run([exe("pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"], asUser, "pg_ctl stop")
        .catch(() => {});
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await Deno.mkdir(sock);
    await Deno.writeTextFile(join(dir, "pw"), password);
    if (isRoot) {
      const uid = Number(
        new TextDecoder().decode(
          (await new Deno.Command("id", { args: ["-u", "postgres"], stdout: "piped" }).output())
            .stdout,
        ).trim(),
      );
      for (const p of [dir, sock, join(dir, "pw")]) await Deno.chown(p, uid, null);
    }
    await run(
      [
        exe("initdb"),
        "-D",
        data,
        "-U",
        user,
        `--pwfile=${join(dir, "pw")}`,
        "-A",
        "scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
      ],
      asUser,
      "initdb",
    );
    for (let attempt = 0;; attempt++) {
      const port = freePort();
      try {
        await run(
          [
            exe("pg_ctl"),
            "-D",
            data,
            "-l",
            join(dir, "server.log"),
            "-w",
            "-t",
            "30",
            "-o",
            `-c listen_addresses=127.0.0.1 -p ${port} -k ${sock} -c fsync=off ` +
            `-c synchronous_commit=off -c full_page_writes=off`,
            "start",
          ],
          asUser,
          "pg_ctl start",
        );
      } catch (err) {
        if (attempt < 2) continue; // the port was taken meanwhile
        const log = await Deno.readTextFile(join(dir, "server.log")).catch(() => "");
        throw new Error(`${(err as Error).message}\n${log}`);
      }
      started = true;
      watchdog = startWatchdog(
        [...(asUser ? ["runuser", "-u", asUser, "--"] : []), exe("pg_ctl"), "-D", data],
        dir,
      );
      const url = `postgres://${user}:${password}@127.0.0.1:${port}/postgres`;
      return {
        url,
        host: "127.0.0.1",
        port,
        user,
        password,
        database: "postgres",
        external: false,
        dir,
        close: stop,
        [Symbol.asyncDispose]: stop,
      };
    }
  } catch (err) {
    await stop();
    throw err;
  }
}
