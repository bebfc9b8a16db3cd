/**
 * Checks beyond the shape of the document, run over the raw (possibly invalid) data so every
 * problem is reported at once: unique stage ids, cron patterns and time zones, unique webhook
 * and cron ids, CEL expressions, `${{ }}` templates and input declarations.
 * @module
 */
import { Cron } from "croner";
import { compileExpression, ExpressionError } from "./expression.ts";
import { coerceInput } from "./inputs.ts";
import { pathString, suggestionOr } from "./problem.ts";
import { findTemplates } from "./template.ts";
import type { SourcePositions } from "./yaml_positions.ts";
import type { InputDecl } from "./model.ts";

type Path = (string | number)[];

/** Reports a problem at a path, optionally at a character of a string or at a key. */
export type SemanticReport = (
  path: Path,
  message: string,
  opts?: { key?: boolean; index?: number; needle?: string },
) => void;

/** Runs every semantic check over the raw document. */
export function checkSemantics(
  data: unknown,
  pos: SourcePositions,
  report: SemanticReport,
): void {
  const doc = rec(data);
  if (!doc) return;
  const inputs = rec(doc.inputs) ?? {};
  const declared = Object.keys(inputs);
  checkInputDecls(inputs, report);
  checkStageIds(doc, pos, report);
  checkTriggers(doc, declared, report);
  checkExpressions(doc, declared, report);
  checkTemplates(pos, declared, report);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkInputDecls(inputs: Record<string, unknown>, report: SemanticReport): void {
  for (const [name, d] of Object.entries(inputs)) {
    if (!IDENT.test(name)) {
      report(
        ["inputs", name],
        `input name "${name}" must be letters, digits and _ (starting with a letter or _), ` +
          `so it can be used as inputs.${name.replace(/\W/g, "_")}`,
        { key: true },
      );
    }
    const decl = rec(d);
    if (!decl || decl.default === undefined) continue;
    const type = typeof decl.type === "string" ? decl.type : "string";
    const known = ["string", "number", "integer", "boolean", "file", "list"];
    if (!known.includes(type)) continue; // the model check reports it
    const r = coerceInput(
      { type: type as InputDecl["type"], enum: Array.isArray(decl.enum) ? decl.enum : undefined },
      decl.default,
    );
    if (r.error !== undefined) {
      report(["inputs", name, "default"], `the default of input "${name}" ${r.error}`);
    }
  }
}

function checkStageIds(doc: Record<string, unknown>, pos: SourcePositions, report: SemanticReport) {
  const seen = new Map<string, Path>();
  const source = rec(doc.source);
  if (source) seen.set(typeof source.id === "string" ? source.id : "source", ["source"]);
  const stages = Array.isArray(doc.stages) ? doc.stages : [];
  stages.forEach((s, i) => {
    const id = rec(s)?.id;
    if (typeof id !== "string") return;
    const first = seen.get(id);
    if (first) {
      const hasId = first[0] !== "source" || typeof source?.id === "string";
      const { line } = hasId ? pos.locate([...first, "id"]) : pos.locate(first, { key: true });
      const which = first[0] === "source" ? "the source" : pathString(first);
      report(
        ["stages", i, "id"],
        `duplicate stage id "${id}" in stages[${i}]: already used by ${which} (line ${line}); ` +
          `stage ids must be unique, the source's included`,
      );
    } else seen.set(id, ["stages", i]);
  });
}

let zones: string[] | undefined;

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function checkTriggers(doc: Record<string, unknown>, declared: string[], report: SemanticReport) {
  const triggers = Array.isArray(doc.triggers) ? doc.triggers : [];
  const webhooks = new Map<string, number>();
  const cronIds = new Map<string, number>();
  triggers.forEach((t, i) => {
    const trig = rec(t);
    if (!trig) return;
    const at: Path = ["triggers", i];
    if (typeof trig.cron === "string") {
      let tz = "UTC";
      if (typeof trig.timezone === "string") {
        if (validTimeZone(trig.timezone)) tz = trig.timezone;
        else {
          zones ??= Intl.supportedValuesOf("timeZone");
          report(
            [...at, "timezone"],
            `unknown time zone "${trig.timezone}" in ${pathString(at)}` +
              suggestionOr(trig.timezone, zones, "use an IANA name such as Europe/Berlin or UTC"),
          );
        }
      }
      const err = cronError(trig.cron, tz);
      if (err) {
        report(
          [...at, "cron"],
          `invalid cron pattern "${trig.cron}" in ${pathString(at)}: ${
            err.replace(/\.$/, "")
          }; write 5 fields ` +
            `(minute hour day month weekday) or 6 with seconds first, e.g. "0 3 * * *"`,
        );
      }
      dupId(trig.id, cronIds, i, "cron trigger id", report);
    }
    if (typeof trig.webhook === "string") dupId(trig.webhook, webhooks, i, "webhook id", report);
    const given = rec(trig.inputs);
    for (const name of Object.keys(given ?? {})) {
      if (declared.includes(name)) continue;
      report(
        [...at, "inputs", name],
        `${pathString(at)} sets undeclared input "${name}"` +
          suggestionOr(name, declared, "declare it under inputs:"),
        { key: true },
      );
    }
  });
}

function dupId(
  id: unknown,
  seen: Map<string, number>,
  i: number,
  what: string,
  report: SemanticReport,
): void {
  if (typeof id !== "string") return;
  const first = seen.get(id);
  const key = what === "webhook id" ? "webhook" : "id";
  if (first !== undefined) {
    report(
      ["triggers", i, key],
      `duplicate ${what} "${id}" in triggers[${i}]: already used by triggers[${first}]`,
    );
  } else seen.set(id, i);
}

/** Why croner rejects `pattern` in `timezone`, or `undefined` when it is valid. */
export function cronError(pattern: string, timezone = "UTC"): string | undefined {
  try {
    const job = new Cron(pattern, { timezone, paused: true, mode: "5-or-6-parts" });
    const next = job.nextRun();
    job.stop();
    return next === null ? "it never fires" : undefined;
  } catch (e) {
    return (e as Error).message.replace(/^Cron\w*:\s*/, "");
  }
}

function checkExpressions(
  doc: Record<string, unknown>,
  declared: string[],
  report: SemanticReport,
) {
  const stages = Array.isArray(doc.stages) ? doc.stages : [];
  stages.forEach((s, i) => {
    const stage = rec(s);
    if (!stage) return;
    const targets: [Path, unknown][] = [
      [["stages", i, "when"], stage.when],
      [["stages", i, "rateLimit", "key"], rec(stage.rateLimit)?.key],
    ];
    for (const [path, src] of targets) {
      if (typeof src !== "string") continue;
      try {
        const expr = compileExpression(src);
        if (path[2] === "when" && expr.resultType !== undefined && expr.resultType !== "bool") {
          // The engine would skip every item (a non-boolean `when:` fails for each of them).
          report(
            path,
            `${pathString(path)}: must give true or false; this gives ${expr.resultType}: ` +
              `compare it (e.g. item.score >= 50) or test a field with has(item.x)`,
            { index: 0 },
          );
        }
        for (const name of expr.inputs) {
          if (declared.includes(name)) continue;
          report(
            path,
            `${pathString(path)} reads inputs.${name}, which is not declared` +
              suggestionOr(name, declared, "declare it under inputs:"),
            { needle: `inputs.${name}` },
          );
        }
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        report(path, `${pathString(path)}: ${e.message}`, { index: e.col });
      }
    }
  });
}

function checkTemplates(pos: SourcePositions, declared: string[], report: SemanticReport) {
  for (const { path, value } of pos.strings()) {
    if (!value.includes("${{")) continue;
    for (const ref of findTemplates(value, path)) {
      const at = { index: ref.index, needle: ref.text };
      if (ref.error) {
        report(path, `${ref.error} (in ${pathString(path)})`, at);
      } else if (ref.kind === "inputs" && !declared.includes(ref.name)) {
        report(
          path,
          `${ref.text} in ${pathString(path)} refers to undeclared input "${ref.name}"` +
            suggestionOr(ref.name, declared, "declare it under inputs:"),
          at,
        );
      }
    }
  }
}

function rec(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}
