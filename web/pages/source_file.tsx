/**
 * The "Source file" section of a pipeline's page: the file its source's `with.path` names, which
 * scheduled runs read (name, size, update time, rows, a download link), and for those who may
 * edit pipelines a form that replaces it (sent by `editor.js` to
 * `PUT /api/v1/pipelines/{name}/source-file`, so roles and CSRF are checked by the API).
 * @module
 */
import type { SourceFileInfo } from "../../core/http/source_file.ts";
import { fileSize, num, when } from "../format.ts";

/** What the section shows: the file's metadata, or why it cannot be shown. */
export interface SourceFileView {
  /** The source's `with.path` as the pipeline gives it. */
  path: string;
  /** The file, located; undefined when `error` says why it is not. */
  info?: SourceFileInfo;
  /** Why the file cannot be shown or replaced (a templated path, one outside the folder). */
  error?: string;
  /** The largest file an upload takes, in bytes. */
  maxBytes: number;
}

/** The file types a file input offers for a source reading `accepts`. */
function acceptAttr(accepts: readonly string[]): string {
  const csv = accepts.includes("text/csv");
  const jsonl = accepts.some((a) => /json/.test(a));
  return [
    ...(csv ? [".csv", "text/csv"] : []),
    ...(jsonl ? [".jsonl", ".ndjson", "application/x-ndjson"] : []),
  ].join(",");
}

/** The section; `canEdit` adds the upload form. */
export function SourceFileSection(p: { pipeline: string; view: SourceFileView; canEdit: boolean }) {
  const { view } = p;
  const info = view.info;
  const url = `/api/v1/pipelines/${p.pipeline}/source-file`;
  const csv = info?.accepts.includes("text/csv");
  return (
    <section
      aria-labelledby="source-file-h"
      class="panel"
      id="source-file"
      data-url={url}
      data-accepts={(info?.accepts ?? []).join(",")}
    >
      <h2 id="source-file-h">Source file</h2>
      <p class="sub">
        Scheduled runs, and runs started without a file, read this file (the source's{" "}
        <code>with.path</code>,{" "}
        <code>{view.path}</code>); replacing it changes what the next run reads.
      </p>
      {view.error && <p class="err">{view.error}</p>}
      {info && (
        <>
          <dl class="source-file-facts">
            <dt>File</dt>
            <dd>
              <code id="source-file-name">{info.name}</code>{" "}
              <span class="sub">in the data folder at {info.location}</span>
            </dd>
            <dt>Size</dt>
            <dd id="source-file-size">
              {info.exists
                ? fileSize(info.bytes!)
                : "no file yet: scheduled runs fail until one is uploaded"}
            </dd>
            <dt>Updated</dt>
            <dd id="source-file-updated">{info.exists ? when(info.modifiedAt!) : "—"}</dd>
            <dt>{csv ? "Rows" : "Lines"}</dt>
            <dd id="source-file-rows">
              {info.rows === null ? "—" : `${num(info.rows)}${csv ? " after the header" : ""}`}
            </dd>
            {csv && (
              <>
                <dt>Header</dt>
                <dd>
                  <code id="source-file-header">{info.header ?? "—"}</code>
                </dd>
              </>
            )}
          </dl>
          <p>
            <a
              id="source-file-download"
              href={`${url}/content`}
              download={info.name}
              hidden={!info.exists}
            >
              Download {info.name}
            </a>
          </p>
          {p.canEdit && (
            <form id="source-file-form">
              <label for="source-file-input">
                Replace it with a file from your computer ({info.accepts.join(" or ")}, at most{" "}
                {fileSize(view.maxBytes)})
              </label>
              <input
                id="source-file-input"
                name="file"
                type="file"
                accept={acceptAttr(info.accepts)}
                required
              />
              <button type="submit" id="source-file-upload">Upload and replace</button>{" "}
              <span id="source-file-status" role="status" aria-live="polite"></span>
            </form>
          )}
        </>
      )}
    </section>
  );
}
