/**
 * The default {@link PipelineCatalog}: one YAML file per pipeline in `pipelines.dir`
 * (`<name>.yaml`), read fresh on every call so edits on disk show at once. Writes are atomic
 * (temporary file + rename).
 * @module
 */
import { join } from "../paths.ts";
import { parsePipeline } from "../pipeline/parse.ts";
import type { PluginRegistry } from "../plugins/manifest.ts";
import type { PipelineCatalog, PipelineEntry } from "./deps.ts";
import { writingPipelines } from "../triggers/mod.ts";

/** Pipelines as files in a folder. */
export class FilePipelineCatalog implements PipelineCatalog {
  #dir: string;
  #registry?: PluginRegistry;

  /** `registry` lets entries be checked against installed plugins. */
  constructor(dir: string, opts: { registry?: PluginRegistry } = {}) {
    this.#dir = dir;
    this.#registry = opts.registry;
  }

  async #files(): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const e of Deno.readDir(this.#dir)) {
        if (e.isFile && /\.ya?ml$/.test(e.name) && !e.name.startsWith(".")) out.push(e.name);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return out.sort();
  }

  async #read(name: string): Promise<PipelineEntry | undefined> {
    const file = join(this.#dir, name);
    let yaml: string, mtime: number;
    try {
      yaml = await Deno.readTextFile(file);
      mtime = (await Deno.stat(file)).mtime?.getTime() ?? 0;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    const r = parsePipeline(yaml, file, { registry: this.#registry });
    return {
      name: r.pipeline?.name ?? nameFromYaml(yaml) ?? name.replace(/\.ya?ml$/, ""),
      file,
      yaml,
      pipeline: r.pipeline,
      problems: r.problems,
      warnings: r.warnings ?? [],
      updatedAt: mtime,
    };
  }

  async list(): Promise<PipelineEntry[]> {
    const out: PipelineEntry[] = [];
    for (const f of await this.#files()) {
      const e = await this.#read(f);
      if (e) out.push(e);
    }
    return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  async get(name: string): Promise<PipelineEntry | undefined> {
    for (const f of [`${name}.yaml`, `${name}.yml`]) {
      const e = await this.#read(f);
      if (e && e.name === name) return e;
    }
    return (await this.list()).find((e) => e.name === name);
  }

  async put(name: string, yaml: string): Promise<PipelineEntry> {
    const existing = await this.get(name);
    const file = existing?.file ?? join(this.#dir, `${name}.yaml`);
    await writingPipelines(this.#dir, async () => {
      await Deno.mkdir(this.#dir, { recursive: true });
      const tmp = `${file}.tmp-${crypto.randomUUID()}`;
      await Deno.writeTextFile(tmp, yaml);
      await Deno.rename(tmp, file);
    });
    return (await this.get(name))!;
  }

  async delete(name: string): Promise<boolean> {
    const e = await this.get(name);
    if (!e) return false;
    await writingPipelines(this.#dir, () => Deno.remove(e.file));
    return true;
  }
}

/** The `name:` of a pipeline file even when the rest is invalid. */
export function nameFromYaml(yaml: string): string | undefined {
  return /^name:\s*["']?([a-z0-9][a-z0-9_-]*)["']?\s*(#.*)?$/m.exec(yaml)?.[1];
}
