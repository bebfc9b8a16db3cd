/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="deno.ns" />
/**
 * The pipeline editor: CodeMirror 6 with YAML highlighting, completion from the pipeline JSON
 * Schema, inline errors at line:col from the server's validator as you type, save (versioned),
 * diff against the previous version, dry run of the editor's YAML on sample items, run now with
 * inputs or an uploaded file, replacing the source file that scheduled runs read, and a warning
 * before leaving the page with unsaved changes.
 * @module
 */
import { editorSetup, viewSetup } from "./setup.ts";
import { EditorView } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { yaml } from "@codemirror/lang-yaml";
import { type Diagnostic, forceLinting, linter, lintGutter } from "@codemirror/lint";
import { autocompletion } from "@codemirror/autocomplete";
import { MergeView } from "@codemirror/merge";
import { api, ApiError, byId, jsonData, say } from "./api.ts";
import { schemaCompletion } from "./schema_complete.ts";
import { parseSample, renderDryRun, type Sample } from "./dry_run_view.ts";
import { fileSize, num, when } from "../format.ts";

interface ProblemRow {
  line: number;
  col: number;
  message: string;
}

const root = byId("pipeline-editor");
if (root) start(root);

function start(root: HTMLElement) {
  const name = root.dataset.name ?? "";
  const canEdit = root.dataset.canEdit === "1";
  const textarea = byId<HTMLTextAreaElement>("yaml-text")!;
  const host = byId("yaml-editor")!;
  const problemsEl = byId("problems")!;
  const schema = jsonData<Record<string, unknown>>("pipeline-schema") ?? {};
  const plugins = jsonData<string[]>("plugin-names") ?? [];

  /**
   * Lists problems (errors) and warnings (say a secret written into the file) under the editor,
   * each a link to its line, as the page itself lists them after saving.
   */
  const showProblems = (rows: ProblemRow[], warnings: ProblemRow[] = []) => {
    if (!rows.length && !warnings.length) {
      problemsEl.innerHTML = `<p class="ok">No problems.</p>`;
      return;
    }
    const ul = document.createElement("ul");
    const add = (p: ProblemRow, warn: boolean) => {
      const li = document.createElement("li");
      li.className = warn ? "warn" : "err";
      li.dataset.line = String(p.line);
      li.dataset.col = String(p.col);
      const b = document.createElement("button");
      b.type = "button";
      b.className = "link";
      b.textContent = `line ${p.line}:${p.col}`;
      b.addEventListener("click", () => {
        const l = view.state.doc.line(Math.min(p.line, view.state.doc.lines));
        const pos = Math.min(l.to, l.from + Math.max(0, p.col - 1));
        view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
        view.focus();
      });
      li.append(b, warn ? `: warning: ${p.message}` : `: ${p.message}`);
      ul.append(li);
    };
    for (const p of rows) add(p, false);
    for (const p of warnings) add(p, true);
    problemsEl.replaceChildren(ul);
  };

  const toDiagnostics = (rows: ProblemRow[], severity: "error" | "warning"): Diagnostic[] =>
    rows.map((p) => {
      const doc = view.state.doc;
      const l = doc.line(Math.max(1, Math.min(p.line, doc.lines)));
      const from = Math.min(l.to, l.from + Math.max(0, p.col - 1));
      const word = /^[^\s,\]}]*/.exec(doc.sliceString(from, l.to))?.[0].length ?? 0;
      return {
        from,
        to: Math.max(from + word, Math.min(l.to, from + 1)),
        severity,
        message: p.message,
      };
    });

  const validate = linter(async (v) => {
    const text = v.state.doc.toString();
    if (!text.trim()) return [];
    try {
      const { data } = await api<{ problems: ProblemRow[]; warnings?: ProblemRow[] }>(
        "POST",
        "/api/v1/pipelines/validate",
        { yaml: text },
      );
      if (v.state.doc.toString() !== text) return [];
      const warnings = data.warnings ?? [];
      showProblems(data.problems, warnings);
      return [
        ...toDiagnostics(data.problems, "error"),
        ...toDiagnostics(warnings, "warning"),
      ];
    } catch (e) {
      problemsEl.textContent = `Could not validate: ${(e as Error).message}`;
      return [];
    }
  }, { delay: 350 });

  // The text the server holds (for a new pipeline: the template, nothing saved yet). Leaving the
  // page while the editor's text differs asks first, so unsaved changes are not lost silently.
  let saved = textarea.value;
  const unsaved = () => canEdit && view.state.doc.toString() !== saved;

  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        editorSetup,
        yaml(),
        lintGutter(),
        validate,
        autocompletion({ override: [schemaCompletion(schema, plugins)] }),
        EditorState.readOnly.of(!canEdit),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) root.dataset.unsaved = unsaved() ? "1" : "0";
        }),
        EditorView.contentAttributes.of({
          "aria-label": "Pipeline YAML",
          "aria-describedby": "yaml-keys problems",
        }),
      ],
    }),
  });
  textarea.hidden = true;
  host.classList.add("ready");

  root.dataset.unsaved = "0";
  addEventListener("beforeunload", (ev) => {
    if (!unsaved()) return;
    ev.preventDefault();
    ev.returnValue = ""; // browsers before the standard preventDefault() need it set
  });
  (globalThis as Record<string, unknown>).sluiceEditor = view;
  forceLinting(view);

  const status = byId("save-status");
  const diffBtn = byId<HTMLButtonElement>("diff");
  byId("save")?.addEventListener("click", async () => {
    const text = view.state.doc.toString();
    say(status, "Saving…");
    try {
      if (!name) {
        const { data } = await api<{ name: string }>("POST", "/api/v1/pipelines", { yaml: text });
        saved = text;
        location.href = `/pipelines/${data.name}`;
        return;
      }
      await api("PUT", `/api/v1/pipelines/${name}`, { yaml: text });
      saved = text;
      root.dataset.unsaved = unsaved() ? "1" : "0";
      say(status, `Saved at ${new Date().toLocaleTimeString()}.`, "ok");
      if (diffBtn) diffBtn.disabled = false;
    } catch (e) {
      const probs = e instanceof ApiError ? e.body.problems as ProblemRow[] | undefined : undefined;
      if (probs) showProblems(probs);
      say(status, `Not saved: ${(e as Error).message}`, "err");
    }
  });

  let merge: MergeView | undefined;
  diffBtn?.addEventListener("click", async () => {
    const out = byId("diff-view")!;
    if (merge) {
      merge.destroy();
      merge = undefined;
      out.hidden = true;
      diffBtn.textContent = "Diff with previous version";
      return;
    }
    try {
      const { data } = await api<{ versions: { id: string; at: string }[] }>(
        "GET",
        `/api/v1/pipelines/${name}/versions`,
      );
      const current = view.state.doc.toString();
      let previous: { id: string; at: string; yaml: string } | undefined;
      for (const v of data.versions.slice(0, 10)) {
        const r = await api<{ yaml: string }>(
          "GET",
          `/api/v1/pipelines/${name}/versions/${encodeURIComponent(v.id)}`,
        );
        if (r.data.yaml !== current) {
          previous = { ...v, yaml: r.data.yaml };
          break;
        }
      }
      if (!previous) {
        say(status, "No earlier version differs from the editor's text.");
        return;
      }
      out.hidden = false;
      out.replaceChildren();
      const head = document.createElement("p");
      head.className = "sub";
      head.textContent = `Left: version ${previous.id} (${previous.at}). Right: the editor.`;
      const box = document.createElement("div");
      out.append(head, box);
      const ro = [viewSetup, yaml(), EditorState.readOnly.of(true), EditorView.editable.of(false)];
      merge = new MergeView({
        a: { doc: previous.yaml, extensions: ro },
        b: { doc: current, extensions: ro },
        parent: box,
      });
      diffBtn.textContent = "Hide diff";
    } catch (e) {
      say(status, (e as Error).message, "err");
    }
  });

  const dryForm = byId<HTMLFormElement>("dry-form");
  dryForm?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const st = byId("dry-status");
    const text = byId<HTMLTextAreaElement>("dry-items")!.value;
    const yaml = view.state.doc.toString();
    // No sample: the pipeline's source reads its own first items (a source that reads no input
    // file, or the file its with.path names); the server says what to paste when it cannot.
    if (!text.trim()) {
      say(st, "No sample: the pipeline's source reads its first items…");
      try {
        const { data } = await api("POST", `/api/v1/pipelines/${name}/dry-run`, { yaml });
        const failed = (data as { stages?: { status: string }[] }).stages
          ?.some((x) => x.status === "failed");
        if (failed) say(st, "A stage failed: see below.", "err");
        else say(st, "Done, on the source's first items.", "ok");
        renderDryRun(byId("dry-result")!, data as never, []);
      } catch (e) {
        say(st, (e as Error).message, "err");
      }
      return;
    }
    // A CSV sample goes to the pipeline's own source, which reads it as it reads a run's file
    // (its column names, website column and rejected rows); a source that reads no file (422)
    // or not this type (415) gets the sample as items read here.
    if (text.trim() && !text.trimStart().startsWith("{")) {
      say(st, "Running on the sample, read by the pipeline's source…");
      try {
        const { data } = await api("POST", `/api/v1/pipelines/${name}/dry-run`, {
          input: text,
          yaml,
        });
        const failed = (data as { stages?: { status: string }[] }).stages
          ?.some((x) => x.status === "failed");
        if (failed) say(st, "A stage failed: see below.", "err");
        else say(st, "Done.", "ok");
        renderDryRun(byId("dry-result")!, data as never, []);
        return;
      } catch (e) {
        const status = (e as { status?: number }).status;
        if (status !== 422 && status !== 415) {
          say(st, (e as Error).message, "err");
          return;
        }
      }
    }
    let sample: Sample;
    try {
      sample = parseSample(text);
    } catch (e) {
      say(st, (e as Error).message, "err");
      return;
    }
    const left = sample.errors.length;
    say(
      st,
      `Running on ${sample.items.length} sample item(s)` +
        (left ? `; ${left} sample line(s) left out (see below)…` : "…"),
    );
    try {
      const { data } = await api("POST", `/api/v1/pipelines/${name}/dry-run`, {
        items: sample.items,
        yaml,
      });
      say(st, left ? `Done; ${left} sample line(s) left out.` : "Done.", left ? "" : "ok");
      renderDryRun(byId("dry-result")!, data as never, sample.errors);
    } catch (e) {
      say(st, (e as Error).message, "err");
    }
  });

  const runForm = byId<HTMLFormElement>("run-form");
  runForm?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const st = byId("run-status");
    const inputs: Record<string, unknown> = {};
    for (const el of runForm.querySelectorAll<HTMLInputElement>("input[data-type]")) {
      if (el.value === "") continue;
      const t = el.dataset.type;
      inputs[el.name] = t === "number" || t === "integer"
        ? Number(el.value)
        : t === "boolean"
        ? el.value === "true"
        : el.value;
    }
    const file = byId<HTMLInputElement>("run-file")?.files?.[0];
    say(st, "Starting…");
    try {
      let res;
      if (file) {
        const q = new URLSearchParams();
        for (const [k, v] of Object.entries(inputs)) q.append("set", `${k}=${v}`);
        const csv = /\.csv$/i.test(file.name) || file.type === "text/csv";
        res = await api<{ id: string }>("POST", `/api/v1/pipelines/${name}/runs?${q}`, file, {
          contentType: csv ? "text/csv" : "application/x-ndjson",
        });
      } else {
        res = await api<{ id: string }>("POST", `/api/v1/pipelines/${name}/runs`, { inputs });
      }
      location.href = `/runs/${res.data.id}`;
    } catch (e) {
      say(st, (e as Error).message, "err");
    }
  });

  const sourceForm = byId<HTMLFormElement>("source-file-form");
  sourceForm?.addEventListener("submit", (ev) => {
    ev.preventDefault();
    replaceSourceFile(byId("source-file")!, byId<HTMLInputElement>("source-file-input")!);
  });
}

/** What `PUT /api/v1/pipelines/{name}/source-file` answers. */
interface SourceFileInfo {
  name: string;
  bytes: number | null;
  modifiedAt: string | null;
  rows: number | null;
  header: string | null;
  exists: boolean;
}

/**
 * Sends the chosen file to replace the pipeline's source file (its type by its name's extension,
 * else the type the browser gives it, so that the API refuses a file the source cannot read, such
 * as an Excel workbook or a JSON document, with the reason) and shows the new size, time and rows,
 * or why it was refused.
 */
async function replaceSourceFile(section: HTMLElement, input: HTMLInputElement) {
  const st = byId("source-file-status");
  const file = input.files?.[0];
  if (!file) {
    say(st, "Choose a file first.", "err");
    return;
  }
  const accepts = (section.dataset.accepts ?? "").split(",").filter(Boolean);
  const contentType = /\.csv$/i.test(file.name)
    ? "text/csv"
    : /\.(jsonl|ndjson)$/i.test(file.name)
    ? "application/x-ndjson"
    : file.type || "application/octet-stream";
  say(st, `Uploading ${file.name}…`);
  try {
    const { data } = await api<SourceFileInfo>("PUT", section.dataset.url!, file, { contentType });
    const set = (id: string, text: string) => {
      const el = byId(id);
      if (el) el.textContent = text;
    };
    const csv = accepts.includes("text/csv");
    set("source-file-size", fileSize(data.bytes ?? 0));
    set("source-file-updated", when(data.modifiedAt ?? undefined));
    set(
      "source-file-rows",
      data.rows === null ? "—" : `${num(data.rows)}${csv ? " after the header" : ""}`,
    );
    set("source-file-header", data.header ?? "—");
    byId("source-file-download")?.removeAttribute("hidden");
    input.value = "";
    say(
      st,
      `Replaced with ${file.name} (${fileSize(data.bytes ?? 0)}): the next scheduled run reads it.`,
      "ok",
    );
  } catch (e) {
    say(st, `Not replaced: ${(e as Error).message}`, "err");
  }
}
