/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="deno.ns" />
/**
 * Client code of every page: action buttons (`data-post`, `data-delete`), copy buttons, token
 * creation, the plugin approval dialog, and live run progress over Server-Sent Events.
 * @module
 */
import { when } from "../format.ts";
import { api, ApiError, byId, say } from "./api.ts";
import { startRunLive } from "./run_live.ts";
import { startPluginInstall } from "./plugin_install.ts";

function notice(text: string, tone: "ok" | "err") {
  let el = byId("flash");
  if (!el) {
    el = document.createElement("p");
    el.id = "flash";
    el.setAttribute("role", "alert");
    document.querySelector("main h1")?.after(el);
  }
  say(el, text, tone);
}

function actions() {
  document.addEventListener("click", async (ev) => {
    const btn = (ev.target as Element).closest<HTMLButtonElement>(
      "button[data-post], button[data-delete], button[data-copy]",
    );
    if (!btn) return;
    if (btn.dataset.copy) {
      const src = byId(btn.dataset.copy);
      const text = src instanceof HTMLInputElement ? src.value : src?.textContent ?? "";
      try {
        await navigator.clipboard.writeText(text);
        btn.textContent = "Copied";
      } catch {
        if (src instanceof HTMLInputElement) src.select();
        btn.textContent = "Press Ctrl+C";
      }
      return;
    }
    if (btn.dataset.confirm && !confirm(btn.dataset.confirm)) return;
    btn.disabled = true;
    try {
      if (btn.dataset.post) await api("POST", btn.dataset.post, {});
      else await api("DELETE", btn.dataset.delete!);
      location.reload();
    } catch (e) {
      notice(e instanceof ApiError ? e.message : String(e), "err");
      btn.disabled = false;
    }
  });
}

/** A token as the API shows it (never its value). */
interface TokenView {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  expiresAt?: string;
  createdBy?: string;
}

/** Adds a just-created token to the settings page's token list, as the server renders rows. */
function addTokenRow(t: TokenView) {
  const table = byId<HTMLTableElement>("tokens");
  const body = table?.tBodies[0];
  if (!table || !body) return;
  const tr = document.createElement("tr");
  tr.dataset.token = t.id;
  const td = (text = "") => {
    const c = document.createElement("td");
    c.textContent = text;
    tr.append(c);
    return c;
  };
  const name = td(`${t.name} `);
  const sub = document.createElement("span");
  sub.className = "sub";
  sub.textContent = `${t.id}${t.createdBy ? ` · by ${t.createdBy}` : ""}`;
  name.append(sub);
  td(t.role);
  td(when(t.createdAt));
  td(when(t.expiresAt));
  td("active");
  const revoke = document.createElement("button");
  revoke.type = "button";
  revoke.dataset.delete = `/api/v1/tokens/${t.id}`;
  revoke.dataset.confirm = `Revoke token ${t.name}?`;
  revoke.textContent = "Revoke";
  td().append(revoke);
  body.append(tr); // the list is oldest first
  table.hidden = false;
  byId("tokens-empty")?.remove();
}

function tokens() {
  const form = byId<HTMLFormElement>("token-form");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const days = Number(f.get("days") || 0);
    try {
      const { data } = await api<{ token: string; info: TokenView }>("POST", "/api/v1/tokens", {
        name: String(f.get("name")),
        role: String(f.get("role")),
        ...(days > 0 ? { expiresInDays: days } : {}),
      });
      const box = byId("token-created")!;
      box.hidden = false;
      byId<HTMLInputElement>("token-value")!.value = data.token;
      byId<HTMLInputElement>("token-value")!.select();
      addTokenRow(data.info);
      form.reset();
    } catch (e) {
      notice((e as Error).message, "err");
    }
  });
}

actions();
tokens();
startRunLive();
startPluginInstall();
