/**
 * The input file of `POST /api/v1/pipelines/{name}/runs`: a raw body (`text/csv`,
 * `application/x-ndjson`; its name from `Content-Disposition: attachment; filename=…`, as the web
 * UI sends it) or a `multipart/form-data` form (`curl -F file=@businesses.csv`; its `set` fields
 * are inputs too). Either way the upload's own file name, sanitized, labels the run's input.
 * `PUT /api/v1/pipelines/{name}/source-file` reads its file the same ways, with the same limit.
 * @module
 */
import { dispositionFileName, safeInputName } from "../triggers/input_name.ts";
import { HttpProblem } from "./problem.ts";

/** An upload ready to be saved as a run's input file. */
export interface RunUpload {
  /** The type the body is read as (checked against the source's `accepts`). */
  contentType: string | null;
  /** The file's bytes. */
  body: ReadableStream<Uint8Array>;
  /** The file's own name, sanitized (see `safeInputName`); undefined when it had none. */
  name?: string;
  /** `name=value` inputs sent in the form (multipart `set` fields). */
  sets: string[];
}

/** The default size limit of an uploaded file (`limits.uploadBytes`): 256 MiB. */
export const DEFAULT_UPLOAD_BYTES = 256 * 1024 * 1024;

/** Room for a form's boundaries and part headers on top of the file's own size limit. */
const FORM_OVERHEAD = 64 * 1024;

/** True for a `multipart/form-data` body. */
export function isMultipart(contentType: string | undefined | null): boolean {
  return (contentType ?? "").split(";")[0].trim().toLowerCase() === "multipart/form-data";
}

/** A raw upload body and the name its `Content-Disposition` header gives, if any. */
export function rawUpload(req: Request): RunUpload {
  if (!req.body) throw new HttpProblem(400, "the upload is empty");
  return {
    contentType: req.headers.get("content-type"),
    body: req.body,
    name: dispositionFileName(req.headers.get("content-disposition")),
    sets: [],
  };
}

/** The 413 of an upload larger than `max` bytes, with what to do (`advice`). */
export function uploadTooLarge(max: number, advice = "split it into several runs"): HttpProblem {
  return new HttpProblem(413, `the uploaded input is larger than ${max} bytes; ${advice}`);
}

/**
 * Hands the bytes of `body` to `write` in order, refusing ({@link uploadTooLarge}, 413) once they
 * pass `max` bytes; returns how many there were. The caller removes what was written on a throw.
 */
export async function copyUpload(
  body: ReadableStream<Uint8Array>,
  write: (bytes: Uint8Array) => Promise<void>,
  max: number,
  advice?: string,
): Promise<number> {
  let n = 0;
  for await (const chunk of body) {
    n += chunk.length;
    if (n > max) throw uploadTooLarge(max, advice);
    await write(chunk);
  }
  return n;
}

/**
 * Reads a `multipart/form-data` upload: its `file` field (else its first file) and its `set`
 * fields. The form is read into memory, at most `max` bytes of file plus a little for the form
 * (413 beyond, its detail ending with `advice`); 400 for a form without a file.
 */
export async function multipartUpload(
  req: Request,
  max: number,
  advice?: string,
): Promise<RunUpload> {
  const limit = max + FORM_OVERHEAD;
  const tooLarge = () => uploadTooLarge(max, advice);
  if (Number(req.headers.get("content-length") ?? "0") > limit) throw tooLarge();
  if (!req.body) throw new HttpProblem(400, "the upload is empty");
  let seen = 0;
  let over = false;
  const bounded = req.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        seen += chunk.length;
        if (seen > limit) {
          over = true;
          ctl.error(tooLarge());
          return;
        }
        ctl.enqueue(chunk);
      },
    }),
  );
  let form: FormData;
  try {
    form = await new Request(req.url, {
      method: "POST",
      headers: { "content-type": req.headers.get("content-type")! },
      body: bounded,
    }).formData();
  } catch (e) {
    if (over) throw tooLarge();
    throw new HttpProblem(
      400,
      `the multipart/form-data body could not be read (${(e as Error).message}); send the file ` +
        "as its `file` field (curl -F file=@businesses.csv)",
    );
  }
  const named = form.get("file");
  const file = named instanceof File
    ? named
    : [...form.values()].find((v): v is File => v instanceof File);
  if (!file) {
    throw new HttpProblem(
      400,
      "the form has no file: send the input file as its `file` field (curl -F file=@businesses.csv)",
    );
  }
  if (file.size === 0) throw new HttpProblem(400, "the upload is empty");
  const sets = form.getAll("set").filter((v): v is string => typeof v === "string");
  return { contentType: fileType(file), body: file.stream(), name: safeInputName(file.name), sets };
}

/**
 * The type a form's file is read as: its name's extension (`.csv`, `.jsonl`, `.ndjson`) decides,
 * as browsers and curl often send CSV as `application/vnd.ms-excel` or
 * `application/octet-stream`; else the type the form gave it.
 */
function fileType(file: File): string | null {
  if (/\.csv$/i.test(file.name)) return "text/csv";
  if (/\.(jsonl|ndjson)$/i.test(file.name)) return "application/x-ndjson";
  return file.type || null;
}
