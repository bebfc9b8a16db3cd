/**
 * The pipeline catalog: the pipelines in a folder (`pipelines/`), each file's last GOOD parsed
 * version and its current problems. A file that breaks keeps serving its last good version and
 * shows its errors until it is fixed. The catalog watches the folder (debounced), emits change
 * events, and writes files atomically keeping previous versions under `.versions/`.
 * @module
 */
import type { Pipeline } from "../pipeline/model.ts";
import {
  formatProblems,
  parsePipeline,
  type Problem,
  type ValidateOptions,
} from "../pipeline/parse.ts";
import { join } from "../paths.ts";
import { type Logger, silentLogger } from "../telemetry/log.ts";
import { type Clock, systemClock, type TimerHandle } from "./clock.ts";
import { writeFileDurably } from "../../sdk/io/durable_files.ts";
import {
  listVersions,
  type PipelineVersion,
  pruneVersions,
  readVersion,
  saveVersion,
} from "./pipeline_versions.ts";

export type { PipelineVersion };

/** One pipeline file as the catalog knows it. */
export interface CatalogEntry {
  /** The pipeline's name (the file name without extension while it never parsed). */
  name: string;
  /** Path of the file. */
  file: string;
  /** The last good version, served even while the file is broken. */
  pipeline?: Pipeline;
  /** The text of the last good version. */
  yaml?: string;
  /** When the last good version was loaded (epoch ms). */
  loadedAt?: number;
  /** Problems of the file as it is now on disk (empty when it is good). */
  problems: Problem[];
  /** What should change but keeps it valid (a secret written in the file), at line:col. */
  warnings?: Problem[];
}

/** A change of the catalog. */
export interface CatalogEvent {
  /** `invalid`: the file changed but has problems (the last good version stays). */
  kind: "added" | "changed" | "removed" | "invalid";
  name: string;
  file: string;
}

/**
 * Options of {@link PipelineCatalog}; the validation options (`registry`, `secretGrants`) check
 * every file as `parsePipeline` does.
 */
export interface CatalogOptions extends ValidateOptions {
  /** The folder of pipeline files (`*.yaml`, `*.yml`). */
  dir: string;
  clock?: Clock;
  /** Quiet time after a file system event before reloading (default 150 ms). */
  debounceMs?: number;
  /** Versions kept per pipeline (default 50). */
  keepVersions?: number;
  log?: Logger;
}

/** Thrown when a write is refused; `problems` lists what is wrong with the text. */
export class CatalogError extends Error {
  /** What is wrong, with positions. */
  readonly problems: Problem[];
  /** Builds the error. */
  constructor(message: string, problems: Problem[] = []) {
    super(message);
    this.name = "CatalogError";
    this.problems = problems;
  }
}

/**
 * Thrown when a pipeline cannot be saved or removed because the pipelines folder cannot be
 * written on this server (mounted read-only as compose and Kubernetes do, or not writable by the
 * server's user). Nothing was changed.
 */
export class PipelinesReadOnlyError extends Error {
  /** The pipelines folder. */
  readonly dir: string;
  /** Builds the error; `cause` is the file system error. */
  constructor(dir: string, options?: { cause?: unknown }) {
    super(
      `the pipelines folder ${dir} is read-only on this server (${
        (options?.cause as Error | undefined)?.message ?? "not writable"
      }); nothing was changed`,
      options,
    );
    this.name = "PipelinesReadOnlyError";
    this.dir = dir;
  }
}

/**
 * Whether `e` is a file system error saying a place cannot be written: a read-only file system
 * (`EROFS`), a permission or immutable-file refusal (`EACCES`, `EPERM`), or a Deno permission
 * the process was not given.
 */
export function isReadOnlyFsError(e: unknown): boolean {
  return e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable ||
    ["EROFS", "EACCES", "EPERM"].includes((e as { code?: string } | null)?.code ?? "");
}

/**
 * Runs a write to the pipelines folder `dir`; a read-only refusal becomes
 * {@linkcode PipelinesReadOnlyError}.
 */
export async function writingPipelines<T>(dir: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    throw isReadOnlyFsError(e) ? new PipelinesReadOnlyError(dir, { cause: e }) : e;
  }
}

const NAME = /^[a-z0-9][a-z0-9_-]*$/;
const isPipelineFile = (f: string) => !f.startsWith(".") && /\.ya?ml$/.test(f);

interface FileState {
  /** Text last read from disk. */
  text: string;
  /** The last good version of this file. */
  good?: { pipeline: Pipeline; yaml: string; loadedAt: number };
  /** Problems of the text on disk. */
  problems: Problem[];
  /** Warnings of the text on disk. */
  warnings: Problem[];
  /** What the catalog serves for this file (recomputed on every reload). */
  entry: CatalogEntry;
}

/** Pipelines of one folder. Create with {@link PipelineCatalog.open}. */
export class PipelineCatalog {
  #o: CatalogOptions;
  #clock: Clock;
  #log: Logger;
  #files = new Map<string, FileState>();
  #listeners = new Set<(e: CatalogEvent) => void>();
  #reloading: Promise<unknown> = Promise.resolve();
  #watcher?: Deno.FsWatcher;
  #watchLoop?: Promise<void>;
  #debounce?: TimerHandle;

  private constructor(o: CatalogOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#log = o.log ?? silentLogger;
  }

  /** Opens the catalog of `dir` (created when missing) and loads every file. */
  static async open(o: CatalogOptions): Promise<PipelineCatalog> {
    await Deno.mkdir(o.dir, { recursive: true });
    const c = new PipelineCatalog(o);
    await c.reload();
    return c;
  }

  /** The folder. */
  get dir(): string {
    return this.#o.dir;
  }

  /** Every entry, by name. */
  list(): CatalogEntry[] {
    return [...this.#files.values()].map((f) => f.entry)
      .sort((a, b) => a.name.localeCompare(b.name) || a.file.localeCompare(b.file));
  }

  /** The entry serving pipeline `name`, if any. */
  get(name: string): CatalogEntry | undefined {
    let found: CatalogEntry | undefined;
    for (const { entry } of this.#files.values()) {
      if (entry.name !== name) continue;
      if (entry.pipeline) return entry;
      found ??= entry;
    }
    return found;
  }

  /** Calls `fn` for every change; returns the unsubscribe function. */
  subscribe(fn: (e: CatalogEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Re-reads the folder; changed files are parsed again (all of them with `force`, e.g. after
   * plugins were installed). Returns the changes, also sent to subscribers.
   */
  reload(opts: { force?: boolean } = {}): Promise<CatalogEvent[]> {
    const next = this.#reloading.then(() => this.#reload(opts.force ?? false));
    this.#reloading = next.catch(() => {});
    return next;
  }

  async #reload(force: boolean): Promise<CatalogEvent[]> {
    const names: string[] = [];
    for await (const e of Deno.readDir(this.#o.dir)) {
      if (e.isFile && isPipelineFile(e.name)) names.push(e.name);
    }
    names.sort();
    const events: CatalogEvent[] = [];
    const seen = new Set<string>();
    for (const fname of names) {
      const file = join(this.#o.dir, fname);
      let text: string;
      try {
        text = await Deno.readTextFile(file);
      } catch {
        continue; // removed meanwhile
      }
      seen.add(file);
      const prev = this.#files.get(file);
      if (prev && prev.text === text && !force) continue;
      const ev = this.#load(file, fname, text, prev);
      if (ev) events.push(ev);
    }
    for (const [file, st] of this.#files) {
      if (seen.has(file)) continue;
      this.#files.delete(file);
      events.push({ kind: "removed", name: st.entry.name, file });
    }
    this.#buildEntries();
    for (const e of events) {
      if (e.kind === "invalid") this.#logProblems(e.file);
      for (const fn of this.#listeners) {
        try {
          fn(e);
        } catch (err) {
          this.#log.error("catalog listener failed", { error: String(err) });
        }
      }
    }
    return events;
  }

  /** Logs a broken file's problems as `FILE:LINE:COL: message`, the first 20 and a count. */
  #logProblems(file: string) {
    const entry = this.#files.get(file)?.entry;
    const problems = entry?.problems ?? [];
    this.#log.warn("pipeline file has problems", {
      file,
      count: problems.length,
      serving: entry?.pipeline ? "its last good version" : "nothing until it is fixed",
      problems: formatProblems(problems, 20),
    });
  }

  #load(file: string, fname: string, text: string, prev?: FileState): CatalogEvent | undefined {
    const res = parsePipeline(text, file, this.#o);
    const st: FileState = {
      text,
      good: prev?.good,
      problems: res.problems,
      warnings: res.warnings ?? [],
      entry: { name: "", file, problems: [] },
    };
    let kind: CatalogEvent["kind"] = "invalid";
    if (res.pipeline) {
      if (prev?.good?.yaml === text) kind = "changed";
      else kind = prev?.good ? "changed" : "added";
      st.good = { pipeline: res.pipeline, yaml: text, loadedAt: this.#clock.now() };
    }
    st.entry.name = st.good?.pipeline.name ?? fname.replace(/\.ya?ml$/, "");
    this.#files.set(file, st);
    if (res.pipeline && prev?.good?.yaml === text && prev.problems.length === 0) return undefined;
    return { kind, name: st.entry.name, file };
  }

  /**
   * Builds each file's served entry. A second file declaring an already served name is not
   * served; it gets a problem instead.
   */
  #buildEntries() {
    const owner = new Map<string, string>();
    for (const [file, st] of [...this.#files].sort(([a], [b]) => a.localeCompare(b))) {
      const name = st.entry.name;
      const first = owner.get(name);
      if (st.good && first === undefined) {
        owner.set(name, file);
        st.entry = {
          name,
          file,
          pipeline: st.good.pipeline,
          yaml: st.good.yaml,
          loadedAt: st.good.loadedAt,
          problems: st.problems,
          warnings: st.warnings,
        };
        continue;
      }
      const dup: Problem[] = st.good && first !== undefined
        ? [{
          file,
          line: 1,
          col: 1,
          message: `pipeline name "${name}" is already used by ${first}: rename one of them`,
          path: ["name"],
        }]
        : [];
      st.entry = { name, file, problems: [...dup, ...st.problems] };
    }
  }

  /** Starts watching the folder; changes reload the catalog after the debounce time. */
  watch(): void {
    if (this.#watcher) return;
    const w = Deno.watchFs(this.#o.dir, { recursive: false });
    this.#watcher = w;
    this.#watchLoop = (async () => {
      try {
        for await (const ev of w) {
          if (ev.paths.some((p) => isPipelineFile(p.slice(p.lastIndexOf("/") + 1)))) {
            this.#scheduleReload();
          }
        }
      } catch (e) {
        this.#log.error("watching pipelines failed", { dir: this.#o.dir, error: String(e) });
      }
    })();
  }

  #scheduleReload() {
    if (this.#debounce !== undefined) this.#clock.clearTimer(this.#debounce);
    this.#debounce = this.#clock.setTimer(async () => {
      this.#debounce = undefined;
      try {
        await this.reload();
      } catch (e) {
        this.#log.error("reloading pipelines failed", { dir: this.#o.dir, error: String(e) });
      }
    }, this.#o.debounceMs ?? 150);
  }

  /** Stops watching and waits for a reload in progress. */
  async close(): Promise<void> {
    if (this.#debounce !== undefined) this.#clock.clearTimer(this.#debounce);
    this.#debounce = undefined;
    this.#watcher?.close();
    await this.#watchLoop;
    this.#watcher = undefined;
    await this.#reloading;
  }

  /**
   * Writes pipeline `name` atomically, saving the current text as a version first. The text must
   * parse and declare `name:` `name`, unless `allowProblems` (then a broken text is saved and the
   * last good version keeps serving). Returns the entry after the write.
   * @throws {CatalogError} with the problems when the text is refused.
   * @throws {PipelinesReadOnlyError} when the folder cannot be written.
   */
  async write(
    name: string,
    text: string,
    opts: { allowProblems?: boolean } = {},
  ): Promise<CatalogEntry> {
    this.#checkName(name);
    const target = this.#fileOf(name) ?? join(this.#o.dir, `${name}.yaml`);
    const res = parsePipeline(text, target, this.#o);
    if (res.pipeline && res.pipeline.name !== name) {
      throw new CatalogError(
        `${target}: the text declares name "${res.pipeline.name}" but is saved as pipeline ` +
          `"${name}": make them the same`,
      );
    }
    if (!res.pipeline && !opts.allowProblems) {
      throw new CatalogError(
        `${target}: ${res.problems.length} problem(s); nothing was saved`,
        res.problems,
      );
    }
    const old = await Deno.readTextFile(target).catch(() => undefined);
    await writingPipelines(this.#o.dir, async () => {
      if (old !== undefined && old !== text) {
        await saveVersion(this.#o.dir, name, old, this.#clock.now());
        await pruneVersions(this.#o.dir, name, this.#o.keepVersions ?? 50);
      }
      await writeFileDurably(target, text);
    });
    await this.reload();
    return this.#files.get(target)!.entry;
  }

  /** Previous versions of `name`, newest first. */
  async history(name: string): Promise<PipelineVersion[]> {
    this.#checkName(name);
    return await listVersions(this.#o.dir, name);
  }

  /** The text of version `id` of `name`. */
  async readVersion(name: string, id: string): Promise<string> {
    this.#checkName(name);
    return await readVersion(this.#o.dir, name, id);
  }

  /**
   * Removes pipeline `name` (its text is saved as a version first). False when there is none.
   * @throws {PipelinesReadOnlyError} when the folder cannot be written.
   */
  async remove(name: string): Promise<boolean> {
    this.#checkName(name);
    const file = this.#fileOf(name);
    if (!file) return false;
    const text = await Deno.readTextFile(file).catch(() => undefined);
    await writingPipelines(this.#o.dir, async () => {
      if (text !== undefined) await saveVersion(this.#o.dir, name, text, this.#clock.now());
      await Deno.remove(file).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    });
    await this.reload();
    return true;
  }

  #fileOf(name: string): string | undefined {
    return this.get(name)?.file;
  }

  #checkName(name: string) {
    if (!NAME.test(name)) {
      throw new CatalogError(
        `"${name}" is not a pipeline name: use lower case letters, digits, - and _`,
      );
    }
  }
}
