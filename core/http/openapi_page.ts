/**
 * A small self-contained API reference page (no CDN): HTML plus a script served from
 * `/api/v1/docs.js` (CSP `script-src 'self'`) that renders `/api/v1/openapi.json`: operations
 * by tag with their role, parameters, request and response schemas.
 * @module
 */

/** The reference page. */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sluice API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2433;background:#f7f8fa}
header{background:#1d2433;color:#fff;padding:12px 24px}header a{color:#9cc3ff}
main{max-width:1000px;margin:0 auto;padding:16px 24px}
h2{border-bottom:1px solid #d8dce3;padding-bottom:4px;margin-top:28px;text-transform:capitalize}
details{background:#fff;border:1px solid #d8dce3;border-radius:6px;margin:6px 0}
summary{cursor:pointer;padding:8px 10px;display:flex;gap:10px;align-items:center}
.m{font:600 12px monospace;padding:2px 6px;border-radius:4px;color:#fff;min-width:52px;text-align:center}
.get{background:#2f7d32}.post{background:#1565c0}.put{background:#8e5a00}.delete{background:#b3261e}
.p{font-family:monospace}.role{margin-left:auto;font-size:12px;color:#555}
.body{padding:0 12px 12px}pre{background:#f1f3f6;padding:8px;overflow:auto;font-size:12px}
</style></head>
<body><header><strong>Sluice API</strong> &middot; <a href="/api/v1/openapi.json">openapi.json</a>
&middot; authenticate with <code>Authorization: Bearer slc_…</code></header>
<main id="root">Loading…</main><script src="/api/v1/docs.js"></script></body></html>
`;

/** The page's script. */
export const DOCS_JS = `(async () => {
  const root = document.getElementById("root");
  const doc = await (await fetch("/api/v1/openapi.json")).json();
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) e.append(k);
    return e;
  };
  const resolve = (s) => s && s.$ref ? doc.components.schemas[s.$ref.split("/").pop()] : s;
  const byTag = {};
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      (byTag[(op.tags || ["other"])[0]] ||= []).push({ path, method, op });
    }
  }
  root.textContent = "";
  root.append(el("p", {}, (doc.info.description || "") + " Version " + doc.info.version + "."));
  for (const [tag, ops] of Object.entries(byTag)) {
    root.append(el("h2", {}, tag));
    for (const { path, method, op } of ops) {
      const body = el("div", { class: "body" });
      if (op.description) body.append(el("p", {}, op.description));
      if (op.parameters?.length) {
        body.append(el("h4", {}, "Parameters"));
        const ul = el("ul");
        for (const p of op.parameters) {
          ul.append(el("li", {}, el("code", {}, p.name), " (" + p.in + (p.required ? ", required" : "") + ") " + (p.description || p.schema?.description || "")));
        }
        body.append(ul);
      }
      const rb = op.requestBody?.content;
      if (rb) {
        body.append(el("h4", {}, "Request body"));
        for (const [type, c] of Object.entries(rb)) {
          body.append(el("div", {}, el("code", {}, type)), el("pre", {}, JSON.stringify(resolve(c.schema), null, 2)));
        }
      }
      body.append(el("h4", {}, "Responses"));
      for (const [code, r] of Object.entries(op.responses || {})) {
        const c = r.content && Object.entries(r.content)[0];
        body.append(el("div", {}, el("strong", {}, code), " " + r.description + (c ? " (" + c[0] + ")" : "")));
        if (c && /^2/.test(code)) body.append(el("pre", {}, JSON.stringify(resolve(c[1].schema), null, 2)));
      }
      root.append(el("details", {}, el("summary", {}, el("span", { class: "m " + method }, method.toUpperCase()), el("span", { class: "p" }, path), el("span", {}, op.summary || ""), el("span", { class: "role" }, op["x-sluice-role"] ? "role: " + op["x-sluice-role"] : "public")), body));
    }
  }
})().catch((e) => { document.getElementById("root").textContent = "Could not load the API document: " + e; });
`;
