/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="deno.ns" />
/**
 * Browser helpers: JSON API calls with the session's CSRF token, problem+json errors as text,
 * and a status line helper.
 * @module
 */

/** The session's CSRF token (from the page's meta tag). */
export function csrf(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="sluice-csrf"]')?.content ?? "";
}

/** An API error with the server's explanation. */
export class ApiError extends Error {
  /** HTTP status. */
  status: number;
  /** The problem document, when there was one. */
  body: Record<string, unknown>;
  /** Makes an error from a response's status and problem document. */
  constructor(status: number, body: Record<string, unknown>) {
    super(String(body.detail ?? body.title ?? `HTTP ${status}`));
    this.status = status;
    this.body = body;
  }
}

/**
 * A `Content-Disposition` header naming an uploaded file (RFC 6266 `filename*`, so any name
 * fits in a header): the server names the run's input file so in its messages.
 */
export function attachmentHeader(name: string): string {
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename*=UTF-8''${encoded}`;
}

/**
 * Calls the API; JSON bodies are encoded; non-2xx answers throw {@link ApiError}. A `File`
 * body is sent as it is, with its name in a `Content-Disposition` header.
 */
export async function api<T = Record<string, unknown>>(
  method: string,
  url: string,
  body?: unknown,
  init: { contentType?: string; accept202?: boolean } = {},
): Promise<{ status: number; data: T }> {
  const headers: Record<string, string> = { "x-csrf-token": csrf(), accept: "application/json" };
  let payload: BodyInit | undefined;
  if (body instanceof Blob) {
    payload = body;
    headers["content-type"] = init.contentType ?? "application/octet-stream";
    if (body instanceof File && body.name) {
      headers["content-disposition"] = attachmentHeader(body.name);
    }
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  const res = await fetch(url, {
    method,
    headers,
    body: payload,
    credentials: "same-origin",
    // Under the server's no-referrer policy the browser would send `Origin: null`.
    referrerPolicy: "same-origin",
  });
  const text = await res.text();
  let data: Record<string, unknown> = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { detail: text.slice(0, 300) };
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return { status: res.status, data: data as T };
}

/** Sets a status element's text and its tone (`ok`, `err` or neutral). */
export function say(el: Element | null, text: string, tone: "ok" | "err" | "" = ""): void {
  if (!el) return;
  el.textContent = text;
  el.classList.remove("ok", "err");
  if (tone) el.classList.add(tone);
}

/** The element with `id`, typed. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}

/** Parses a JSON data block (`<script type="application/json" id=…>`). */
export function jsonData<T>(id: string): T | undefined {
  const el = byId(id);
  return el?.textContent ? JSON.parse(el.textContent) as T : undefined;
}
