// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, no keys
/**
 * Pipelines: the list (triggers, last run) and the editor page (YAML with highlighting,
 * completion and inline errors via `editor.js`; save, versions and diff, dry run, run now, and a
 * read-only graph of the stages with each plugin's permissions in plain words, and the source file
 * that scheduled runs read).
 * @module
 */
import type { PipelineEntry } from "../../core/http/deps.ts";
import type { Pipeline } from "../../core/pipeline/model.ts";
import { splitPluginRef } from "../../core/plugins/manifest.ts";
import type { PluginRegistry } from "../../core/plugins/manifest.ts";
import { describePermissions } from "../../core/plugins/describe.ts";
import { formatProblem } from "../../core/pipeline/problem.ts";
import type { RunRecord } from "../../core/store/store.ts";
import { missingInputFile } from "../../core/engine/prepare.ts";
import { when } from "../format.ts";
import { Empty, JsonData, StateBadge } from "../layout.tsx";
import { SourceFileSection, type SourceFileView } from "./source_file.tsx";

/** One row of the pipeline list. */
export interface PipelineRow {
  entry: PipelineEntry;
  lastRun?: RunRecord;
}

function triggerText(t: Record<string, unknown>): string {
  if (typeof t.cron === "string") {
    return `cron ${t.cron}${t.enabled === false ? " (disabled)" : ""}`;
  }
  if (typeof t.webhook === "string") return `webhook ${t.webhook}`;
  return "trigger";
}

/** The pipeline list. */
export function PipelineList(p: { rows: PipelineRow[]; canEdit: boolean }) {
  return (
    <>
      {p.canEdit && (
        <p class="actions">
          <a class="button" href="/pipelines/new">New pipeline</a>
        </p>
      )}
      {p.rows.length === 0
        ? (
          <Empty>
            No pipelines yet.{" "}
            {p.canEdit ? <a href="/pipelines/new">Write one</a> : "Ask an operator to add one"}{" "}
            or put YAML files in the pipelines folder.
          </Empty>
        )
        : (
          <div class="scroll-x">
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Stages</th>
                  <th scope="col">Triggers</th>
                  <th scope="col">Last run</th>
                </tr>
              </thead>
              <tbody>
                {p.rows.map(({ entry, lastRun }) => (
                  <tr>
                    <td>
                      <a href={`/pipelines/${entry.name}`}>{entry.name}</a>
                      {entry.problems.length > 0 && (
                        <span class="state state-failed">{entry.problems.length} problem(s)</span>
                      )}
                      {entry.pipeline?.description && (
                        <div class="sub">{entry.pipeline.description}</div>
                      )}
                    </td>
                    <td>{entry.pipeline ? entry.pipeline.stages.length + 1 : "—"}</td>
                    <td>
                      {(entry.pipeline?.triggers ?? []).map((t) => (
                        <span class="badge">{triggerText(t as Record<string, unknown>)}</span>
                      ))}
                      {!(entry.pipeline?.triggers ?? []).length && <span class="sub">manual</span>}
                    </td>
                    <td>
                      {lastRun
                        ? (
                          <a href={`/runs/${lastRun.id}`}>
                            <StateBadge state={lastRun.state} /> {when(lastRun.createdAt)}
                          </a>
                        )
                        : <span class="sub">never</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </>
  );
}

/** The read-only graph: source → stages, each with its plugin's permissions in plain words. */
export function StageGraph(p: { pipeline: Pipeline; registry: PluginRegistry }) {
  const all = [
    { ...p.pipeline.source, id: p.pipeline.source.id ?? "source", when: undefined },
    ...p.pipeline.stages,
  ];
  return (
    <ol class="graph" aria-label="Stages in order">
      {all.map((s) => {
        const ref = splitPluginRef(s.plugin);
        const resolved = p.registry.resolve(ref.name, ref.range);
        const perms = resolved?.approved ?? resolved?.manifest.permissions;
        return (
          <li class="node">
            <div class="node-head">
              <strong>{s.id}</strong> <code>{s.plugin}</code>
              {resolved && <span class="badge">{resolved.manifest.kind}</span>}
            </div>
            {s.when && (
              <div class="sub">
                only when <code>{s.when}</code>
              </div>
            )}
            {resolved
              ? (
                <ul class="perms">
                  {describePermissions(perms ?? {}).map((l) => <li>{l}</li>)}
                  {s.permissions && (
                    <li>
                      <em>narrowed by this stage:</em> {JSON.stringify(s.permissions)}
                    </li>
                  )}
                </ul>
              )
              : <p class="err">plugin {s.plugin} is not installed</p>}
          </li>
        );
      })}
    </ol>
  );
}

/** Properties of {@link PipelineEditor}. */
export interface EditorProps {
  /** Undefined for a new pipeline. */
  entry?: PipelineEntry;
  yaml: string;
  canEdit: boolean;
  versions: { id: string; at: number }[];
  schema: Record<string, unknown>;
  registry: PluginRegistry;
  /** The source file scheduled runs read (a source with `with.path`); none: no section. */
  sourceFile?: SourceFileView;
}

/** The editor page body. */
export function PipelineEditor(p: EditorProps) {
  const e = p.entry;
  const inputs = Object.entries(e?.pipeline?.inputs ?? {});
  // A source that reads the run's input file (csv-source without with.path) has nothing to read
  // without one: the file is then required, not optional.
  const needsFile = !!e?.pipeline && missingInputFile(e.pipeline, p.registry) !== undefined;
  return (
    <div
      id="pipeline-editor"
      data-name={e?.name ?? ""}
      data-can-edit={p.canEdit ? "1" : "0"}
    >
      <JsonData id="pipeline-schema" value={p.schema} />
      <JsonData
        id="plugin-names"
        value={[...new Set(p.registry.list().map((r) => r.manifest.name))].sort()}
      />
      {e && (
        <p class="sub">
          File <code>{e.file}</code>, changed {when(e.updatedAt)}
        </p>
      )}
      <div class="editor-grid">
        <section aria-labelledby="yaml-h" class="editor-main">
          <h2 id="yaml-h">YAML</h2>
          <label for="yaml-text" class="sr-only">Pipeline YAML</label>
          <textarea
            id="yaml-text"
            class="yaml-fallback"
            rows={24}
            spellcheck={false}
            readonly={!p.canEdit}
          >
            {p.yaml}
          </textarea>
          {p.canEdit && (
            <p id="yaml-keys" class="sub">
              In the editor, Tab indents: to move on with the keyboard, press Esc, then Tab.
            </p>
          )}
          <div id="yaml-editor" class="cm-host"></div>
          <div id="problems" class="problems" role="status" aria-live="polite">
            {e && e.problems.length > 0 && (
              <ul>
                {e.problems.map((x) => (
                  <li class="err" data-line={x.line} data-col={x.col}>
                    line {x.line}:{x.col}: {x.message}
                  </li>
                ))}
              </ul>
            )}
            {e && (e.warnings ?? []).length > 0 && (
              <ul class="warnings">
                {(e.warnings ?? []).map((x) => (
                  <li class="warn" data-line={x.line} data-col={x.col}>
                    line {x.line}:{x.col}: warning: {x.message}
                  </li>
                ))}
              </ul>
            )}
            {e && e.problems.length === 0 && <p class="ok">No problems.</p>}
          </div>
          {p.canEdit && (
            <div class="actions">
              <button type="button" id="save" class="primary">Save</button>
              {e && (
                <button type="button" id="diff" disabled={p.versions.length === 0}>
                  Diff with previous version
                </button>
              )}
              <span id="save-status" role="status" aria-live="polite"></span>
            </div>
          )}
          <div id="diff-view" hidden></div>
          {e && p.versions.length > 0 && (
            <details class="versions">
              <summary>{p.versions.length} earlier version(s)</summary>
              <ul>
                {p.versions.slice(0, 20).map((v) => (
                  <li data-version={v.id}>
                    {when(v.at)} <code>{v.id}</code>
                  </li>
                ))}
              </ul>
            </details>
          )}
          {e && e.problems.length > 0 && (
            <noscript>
              <pre>{e.problems.map((x) => formatProblem(x)).join("\n")}</pre>
            </noscript>
          )}
        </section>
        <aside class="editor-side">
          {e?.pipeline && (
            <section aria-labelledby="graph-h">
              <h2 id="graph-h">Stages</h2>
              <StageGraph pipeline={e.pipeline} registry={p.registry} />
            </section>
          )}
        </aside>
      </div>
      {e && p.sourceFile && (
        <SourceFileSection pipeline={e.name} view={p.sourceFile} canEdit={p.canEdit} />
      )}
      {e && p.canEdit && (
        <div class="two">
          <section aria-labelledby="run-h" class="panel">
            <h2 id="run-h">Run now</h2>
            <form id="run-form">
              {inputs.map(([name, d]) => (
                <p>
                  <label for={`in-${name}`}>{name}{d.required ? " (required)" : ""}</label>
                  <input
                    id={`in-${name}`}
                    name={name}
                    data-type={d.type}
                    value={d.default === undefined ? "" : String(d.default)}
                  />
                  {d.description && <span class="sub">{d.description}</span>}
                </p>
              ))}
              <p>
                <label for="run-file">
                  {needsFile
                    ? "Input file (CSV or JSON lines), required: the pipeline reads its items from it"
                    : "Input file (CSV or JSON lines), optional"}
                </label>
                <input
                  id="run-file"
                  name="file"
                  type="file"
                  accept=".csv,.jsonl,.ndjson,text/csv"
                  required={needsFile}
                />
              </p>
              <button type="submit" class="primary" id="run-now">Run now</button>
              <span id="run-status" role="status" aria-live="polite"></span>
            </form>
          </section>
          <section aria-labelledby="dry-h" class="panel">
            <h2 id="dry-h">Dry run</h2>
            <form id="dry-form">
              <label for="dry-items">
                Sample: CSV lines as in your file (read by the pipeline's source, as a run reads it)
                or JSON lines (items); leave it empty to dry run on the first items the source reads
                itself (a source that reads no input file, or the file its with.path names)
              </label>
              <textarea id="dry-items" rows={5} spellcheck={false}>
                {'{"website": "example.com", "name": "Example Ltd"}'}
              </textarea>
              <button type="submit" id="dry-run">Dry run the editor's YAML</button>
              <span id="dry-status" role="status" aria-live="polite"></span>
            </form>
            <div id="dry-result"></div>
          </section>
        </div>
      )}
    </div>
  );
}
