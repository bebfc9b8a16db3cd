/**
 * Run records in Deno KV without their pipeline snapshot: the pipeline text, its file path and
 * the stage snapshots (which hold the plugin manifests) are the same for every run of one
 * pipeline version, so they are stored once under `["run_snapshot", id]`, `id` being a hash of
 * their content, and each run record names them. A run record shrinks from about 2.7 KB to
 * about 0.4 KB for the webhook bench pipeline, in every run write (creation, each state change):
 * V8 serialization fell from 7 % to 2–3 % of a busy webhook server's samples (bench/RESULTS.md).
 *
 * Snapshots are immutable and never deleted (one per pipeline version, a few KB each), so a
 * process that has written or read one knows it is there and does not write it again. Records
 * written before this existed carry their snapshot inline and are read as they are.
 *
 * A Deno KV value holds at most 64 KiB, and a snapshot holds the pipeline's text (comments too)
 * and every stage's plugin manifest (as a run keeps it, `core/engine/run_manifest.ts`): the
 * flagship's is about 40 KB, and twice that as stored should any character of it be beyond Latin-1
 * (a comment's ellipsis is enough). A larger one is stored as
 * its JSON text in parts (`["run_snapshot_part", id, i]`, {@link PART_CHARS} characters each),
 * the snapshot key naming how many; up to {@link MAX_SNAPSHOT_BYTES} as stored, beyond which a
 * run is refused with what to do (an atomic write holds at most 800 KiB).
 * @module
 */
import { createHash } from "node:crypto";
import type { RunRecord } from "./store.ts";

/** What runs of one pipeline version share. */
export type RunSnapshot = Pick<RunRecord, "pipelineYaml" | "pipelineFile" | "stages">;

/** A run record as stored: the snapshot by reference (or inline, in records written before). */
export type StoredRun = Omit<RunRecord, keyof RunSnapshot> & { snapshot: string } | RunRecord;

/** Key of a snapshot. */
export function snapshotKey(id: string): Deno.KvKey {
  return ["run_snapshot", id];
}

/** Key of part `i` of a snapshot stored in parts. */
function partKey(id: string, i: number): Deno.KvKey {
  return ["run_snapshot_part", id, i];
}

/**
 * Characters of a snapshot's JSON per part: 60,000 bytes at most even when every character takes
 * two (V8 keeps a string with a character beyond Latin-1 at two bytes a character).
 */
export const PART_CHARS = 30_000;

/**
 * The largest snapshot a run may have on the embedded store: bytes of its JSON as KV stores it
 * ({@link storedBytes}), so that its parts and the run's other writes fit one atomic write.
 */
export const MAX_SNAPSHOT_BYTES = 600_000;

/** What the snapshot key holds for a snapshot stored in parts. */
interface PartsMark {
  parts: number;
}

function isPartsMark(v: unknown): v is PartsMark {
  return typeof v === "object" && v !== null && typeof (v as PartsMark).parts === "number" &&
    !("stages" in v);
}

/** The bytes V8 stores `json` in (a KV value holds its serialized form). */
function storedBytes(json: string): number {
  // Latin-1 strings take a byte a character; any other character makes the string two-byte.
  // deno-lint-ignore no-control-regex
  const wide = /[^\u0000-\u00ff]/.test(json);
  return json.length * (wide ? 2 : 1);
}

/** A snapshot the size of `json` fits one KV value (64 KiB, with room for V8's framing). */
export function fitsOneValue(json: string): boolean {
  return storedBytes(json) <= 60_000;
}

/** A snapshot to write, with its JSON text (measured once, by {@link RunSnapshots.pack}). */
export interface PackedSnapshot {
  id: string;
  value: RunSnapshot;
  json: string;
}

/** A snapshot's writes: its value under its key, or its parts and how many there are. */
export function writeSnapshot(op: Deno.AtomicOperation, snapshot: PackedSnapshot): void {
  const json = snapshot.json;
  if (fitsOneValue(json)) {
    op.set(snapshotKey(snapshot.id), snapshot.value);
    return;
  }
  const parts = Math.ceil(json.length / PART_CHARS);
  for (let i = 0; i < parts; i++) {
    op.set(partKey(snapshot.id, i), json.slice(i * PART_CHARS, (i + 1) * PART_CHARS));
  }
  op.set(snapshotKey(snapshot.id), { parts } satisfies PartsMark);
}

/** Whether a patch of a run changes its snapshot. */
export function touchesSnapshot(patch: Partial<RunRecord>): boolean {
  return patch.pipelineYaml !== undefined || patch.pipelineFile !== undefined ||
    patch.stages !== undefined;
}

/** A content hash of a snapshot (SHA-256 of its JSON, 192 bits in base64url). */
function snapshotId(snap: RunSnapshot): string {
  const json = JSON.stringify([snap.pipelineYaml, snap.pipelineFile, snap.stages]);
  return createHash("sha256").update(json).digest("base64url").slice(0, 32);
}

/** Packs and unpacks run records for one KV database, caching the snapshots it has seen. */
export class RunSnapshots {
  #kv: Deno.Kv;
  /** Snapshots known to be stored, by id (bounded: cleared when full). */
  #known = new Map<string, RunSnapshot>();

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /**
   * The stored form of `run`, and the snapshot to write with it when this process does not
   * know it to be stored yet (call {@link stored} once that write has committed).
   */
  pack(run: RunRecord): { record: StoredRun; snapshot?: PackedSnapshot } {
    const { pipelineYaml, pipelineFile, stages, ...rest } = run;
    const id = snapshotId({ pipelineYaml, pipelineFile, stages });
    const record: StoredRun = { ...rest, snapshot: id };
    if (this.#known.has(id)) return { record };
    const value = { pipelineYaml, pipelineFile, stages };
    const json = JSON.stringify(value);
    const size = storedBytes(json);
    if (size > MAX_SNAPSHOT_BYTES) {
      throw new Error(
        `run ${run.id}: pipeline ${run.pipeline} with its plugins' manifests takes ` +
          `${Math.round(size / 1000)} KB, more than the embedded store keeps for a run ` +
          `(${MAX_SNAPSHOT_BYTES / 1000} KB): shorten the pipeline file (long comments, ` +
          "inline data), or use the PostgreSQL store (store.url)",
      );
    }
    return { record, snapshot: { id, value, json } };
  }

  /** Notes that a snapshot's write committed. */
  stored(snapshot: { id: string; value: RunSnapshot } | undefined): void {
    if (snapshot) this.#remember(snapshot.id, snapshot.value);
  }

  /** The full run record of a stored one (reads its snapshot when not cached). */
  async unpack(record: StoredRun): Promise<RunRecord>;
  async unpack(record: StoredRun | null): Promise<RunRecord | null>;
  async unpack(record: StoredRun | null): Promise<RunRecord | null> {
    if (!record || !("snapshot" in record)) return record;
    const { snapshot: id, ...rest } = record;
    let snap = this.#known.get(id);
    if (!snap) {
      const got = await this.#read(id);
      if (!got) {
        throw new Error(
          `run ${record.id}: its pipeline snapshot ${id} is missing from the store ` +
            `(the KV file was edited or partly restored); delete the run or restore the file`,
        );
      }
      this.#remember(id, snap = got);
    }
    return { ...rest, ...snap };
  }

  /** Reads a stored snapshot, from one value or from its parts; null when (a part is) missing. */
  async #read(id: string): Promise<RunSnapshot | null> {
    const got = (await this.#kv.get<RunSnapshot | PartsMark>(snapshotKey(id))).value;
    if (!isPartsMark(got)) return got;
    const keys = Array.from({ length: got.parts }, (_, i) => partKey(id, i));
    const texts: string[] = [];
    for (let i = 0; i < keys.length; i += 10) {
      for (const e of await this.#kv.getMany<string[]>(keys.slice(i, i + 10))) {
        if (typeof e.value !== "string") return null;
        texts.push(e.value);
      }
    }
    return JSON.parse(texts.join("")) as RunSnapshot;
  }

  #remember(id: string, snap: RunSnapshot) {
    if (this.#known.size >= 256) this.#known.clear();
    this.#known.set(id, snap);
  }
}
