/**
 * Log lines about a run carry the run's trace id: a line with a `run` field gets `traceId`, the
 * id every span of that run is exported under (derived from the run id, see `tracing.ts`), so
 * an operator goes from a log line to the run's trace in the tracing backend and back.
 * @module
 */
import type { LogFields, Logger } from "./log.ts";
import { runTraceIds } from "./tracing.ts";

/** `log`, adding `traceId` to every line (of it and its children) that names a `run`. */
export function withRunTraceIds(log: Logger): Logger {
  const add = (fields?: LogFields): LogFields | undefined => {
    const run = fields?.run;
    if (typeof run !== "string" || run === "" || fields!.traceId !== undefined) return fields;
    return { ...fields, traceId: runTraceIds(run).traceId };
  };
  return {
    debug: (msg, fields) => log.debug(msg, add(fields)),
    info: (msg, fields) => log.info(msg, add(fields)),
    warn: (msg, fields) => log.warn(msg, add(fields)),
    error: (msg, fields) => log.error(msg, add(fields)),
    // A child bound to a run: its lines carry the trace id without naming the run again.
    child: (fields) => withRunTraceIds(log.child(add(fields)!)),
  };
}
