/**
 * Adapters from `core/triggers/` to what the HTTP app needs: the hot-reloading, versioned
 * pipeline catalog as a {@link PipelineCatalog}, and the cron scheduler as a
 * {@link ScheduleService} (schedule ids are `pipeline/trigger`).
 * @module
 */
import type {
  CatalogEntry,
  PipelineCatalog as TriggerCatalog,
  Scheduler,
} from "../triggers/mod.ts";
import { TriggerError } from "../triggers/mod.ts";
import type { FireRecord } from "../triggers/trigger_store.ts";
import { isoInZone } from "../triggers/zoned_time.ts";
import type { PipelineCatalog, PipelineEntry, ScheduleFire, ScheduleService } from "./deps.ts";

/** A fire record for the API: ISO times, the occurrence also in the schedule's zone. */
function fireView(f: FireRecord, timezone: string): ScheduleFire {
  return {
    scheduledAt: new Date(f.scheduledAt).toISOString(),
    scheduledAtLocal: isoInZone(f.scheduledAt, timezone),
    firedAt: new Date(f.firedAt).toISOString(),
    outcome: f.outcome,
    ...(f.runId ? { runId: f.runId } : {}),
    ...(f.reason ? { reason: f.reason } : {}),
    ...(f.catchUp ? { catchUp: true } : {}),
  };
}

async function entryOf(e: CatalogEntry): Promise<PipelineEntry> {
  const onDisk = await Deno.readTextFile(e.file).catch(() => undefined);
  const st = await Deno.stat(e.file).catch(() => undefined);
  const broken = e.problems.length > 0;
  return {
    name: e.name,
    file: e.file,
    // While the file is broken, show what is on disk (with its problems), not the last good text.
    yaml: broken ? onDisk ?? e.yaml ?? "" : e.yaml ?? onDisk ?? "",
    pipeline: broken ? undefined : e.pipeline,
    problems: e.problems,
    warnings: e.warnings ?? [],
    updatedAt: st?.mtime?.getTime() ?? e.loadedAt ?? 0,
    ...(broken && e.pipeline
      ? { lastGood: { pipeline: e.pipeline, yaml: e.yaml ?? "", loadedAt: e.loadedAt ?? 0 } }
      : {}),
  };
}

/** The triggers' catalog as the API's {@link PipelineCatalog}, with version history. */
export function catalogAdapter(c: TriggerCatalog): PipelineCatalog {
  return {
    list: () => Promise.all(c.list().map(entryOf)),
    async get(name) {
      const e = c.get(name);
      return e ? await entryOf(e) : undefined;
    },
    async put(name, yaml) {
      return await entryOf(await c.write(name, yaml));
    },
    delete: (name) => c.remove(name),
    async history(name) {
      return (await c.history(name)).map((v) => ({ id: v.id, at: v.savedAt }));
    },
    readVersion: (name, id) => c.readVersion(name, id),
  };
}

/** The scheduler as the API's {@link ScheduleService}. */
export function scheduleAdapter(s: Scheduler): ScheduleService {
  const split = (id: string): [string, string | undefined] => {
    const i = id.indexOf("/");
    return i > 0 ? [id.slice(0, i), id.slice(i + 1)] : [id, undefined];
  };
  const run = async (f: () => Promise<void>) => {
    try {
      await f();
      return true;
    } catch (e) {
      if (e instanceof TriggerError) return false;
      throw e;
    }
  };
  return {
    async list() {
      return (await s.schedules()).map((x) => ({
        id: `${x.pipeline}/${x.trigger}`,
        pipeline: x.pipeline,
        cron: x.cron,
        timezone: x.timezone,
        paused: x.paused,
        enabled: x.enabled,
        overlap: x.overlap,
        catchUp: x.catchUp,
        next: x.next,
        nextLocal: x.nextLocal,
        ...(x.lastFire
          ? {
            lastFiredAt: new Date(x.lastFire.firedAt).toISOString(),
            lastFire: fireView(x.lastFire, x.timezone),
          }
          : {}),
      }));
    },
    pause: (id) => run(() => s.pause(...split(id))),
    resume: (id) => run(() => s.resume(...split(id))),
    async fires(id, limit) {
      const [pipeline, trigger] = split(id);
      if (trigger === undefined) return undefined;
      try {
        const fires = await s.fires(pipeline, trigger, limit);
        const tz = (await s.schedules({ pipeline, count: 0 }))
          .find((x) => x.trigger === trigger)?.timezone ?? "UTC";
        return fires.map((f) => fireView(f, tz));
      } catch (e) {
        if (e instanceof TriggerError) return undefined;
        throw e;
      }
    },
  };
}
