import assert from "node:assert/strict";
import {
  cronJob,
  cronTriggerId,
  nextFireTimes,
  planOccurrences,
  recentOccurrences,
} from "./cron_plan.ts";

const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString().slice(11, 19);

Deno.test("cron ids: explicit ids win; generated ids depend on pattern and zone only", () => {
  assert.equal(cronTriggerId({ id: "nightly", cron: "0 3 * * *", timezone: "UTC" }), "nightly");
  const a = cronTriggerId({ cron: "0 3 * * *", timezone: "UTC" });
  assert.match(a, /^cron-[0-9a-f]{8}$/);
  assert.equal(cronTriggerId({ cron: " 0 3 * * * ", timezone: "UTC" }), a);
  assert.notEqual(cronTriggerId({ cron: "0 3 * * *", timezone: "Europe/Berlin" }), a);
  assert.notEqual(cronTriggerId({ cron: "0 4 * * *", timezone: "UTC" }), a);
});

Deno.test("cron: 5 and 6 field patterns; next times are strictly after the reference", () => {
  const five = cronJob({ cron: "*/15 * * * *", timezone: "UTC" });
  assert.deepEqual(nextFireTimes(five, ms("2025-01-01T10:15:00Z"), 2).map(iso), [
    "10:30:00",
    "10:45:00",
  ]);
  const six = cronJob({ cron: "30 */15 * * * *", timezone: "UTC" });
  assert.deepEqual(nextFireTimes(six, ms("2025-01-01T10:15:00Z"), 2).map(iso), [
    "10:15:30",
    "10:30:30",
  ]);
  assert.throws(() => cronJob({ cron: "0 0 0 * * * 2030", timezone: "UTC" }));
});

Deno.test("cron: recent occurrences are the latest ones in (after, until]", () => {
  const job = cronJob({ cron: "0 * * * *", timezone: "UTC" });
  const got = recentOccurrences(job, ms("2025-01-01T03:00:00Z"), ms("2025-01-01T09:00:00Z"), 3);
  assert.deepEqual(got.map(iso), ["07:00:00", "08:00:00", "09:00:00"]);
  const few = recentOccurrences(job, ms("2025-01-01T07:30:00Z"), ms("2025-01-01T09:59:59Z"), 5);
  assert.deepEqual(few.map(iso), ["08:00:00", "09:00:00"]);
});

Deno.test("cron plan: on-time, caught-up and missed occurrences by catchUp", () => {
  const job = cronJob({ cron: "0 * * * *", timezone: "UTC" });
  const base = {
    job,
    catchUpLimit: 2,
    after: ms("2025-01-01T03:30:00Z"),
    graceMs: 60_000,
  };
  const show = (p: ReturnType<typeof planOccurrences>) =>
    p.map((o) => `${iso(o.at).slice(0, 5)} ${o.action}${o.late ? " late" : ""}`);
  // Restart at 08:30: 04..08 are late; only the latest two are listed.
  const late = { ...base, now: ms("2025-01-01T08:30:00Z") };
  assert.deepEqual(show(planOccurrences({ ...late, catchUp: "none" })), [
    "07:00 missed late",
    "08:00 missed late",
  ]);
  assert.deepEqual(show(planOccurrences({ ...late, catchUp: "last" })), [
    "07:00 missed late",
    "08:00 fire late",
  ]);
  assert.deepEqual(show(planOccurrences({ ...late, catchUp: "all" })), [
    "07:00 fire late",
    "08:00 fire late",
  ]);
  // Restart at 08:00:30: 08:00 is on time, so `last` has nothing more to do.
  const onTime = { ...base, now: ms("2025-01-01T08:00:30Z") };
  assert.deepEqual(show(planOccurrences({ ...onTime, catchUp: "last" })), [
    "06:00 missed late",
    "07:00 missed late",
    "08:00 fire",
  ]);
  // Nothing due.
  assert.deepEqual(
    planOccurrences({ ...base, catchUp: "all", now: ms("2025-01-01T03:59:59Z") }),
    [],
  );
});
