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
  pack(run: RunRecord): { record: StoredRun; snapshot?: { id: string; value: RunSnapshot } } {
    const { pipelineYaml, pipelineFile, stages, ...rest } = run;
    const id = snapshotId({ pipelineYaml, pipelineFile, stages });
    const record: StoredRun = { ...rest, snapshot: id };
    if (this.#known.has(id)) return { record };
    return { record, snapshot: { id, value: { pipelineYaml, pipelineFile, stages } } };
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
      const got = (await this.#kv.get<RunSnapshot>(snapshotKey(id))).value;
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

  #remember(id: string, snap: RunSnapshot) {
    if (this.#known.size >= 256) this.#known.clear();
    this.#known.set(id, snap);
  }
}
