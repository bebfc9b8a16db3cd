/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="deno.ns" />
/**
 * The plugin install flow: the first POST answers with an approval request (permissions in plain
 * words, the difference to the installed version on upgrades); the dialog shows it; approving
 * POSTs again with the shown integrity, so exactly the reviewed files are installed.
 * @module
 */
import { api, ApiError, byId, say } from "./api.ts";
import { approvalView } from "./approval_view.ts";

interface Approval {
  approvalRequired: true;
  request: { name: string; version: string; integrity: string; change: string; kind: string };
  description: string[];
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  cls?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/**
 * Fills the dialog: the title, notes, for an upgrade the added permissions (highlighted) and the
 * removed ones (marked), every permission asked for as a list (added ones highlighted there too),
 * and the integrity once.
 */
function showApproval(data: Approval): void {
  const v = approvalView(data.description);
  const r = data.request;
  byId("approve-what")!.textContent = v.title ||
    `${r.change} ${r.name}@${r.version} (${r.kind})`;
  byId("approve-notes")!.replaceChildren(...v.notes.map((n) => el("p", n, "sub")));
  const diff = byId("approve-diff")!;
  diff.replaceChildren();
  const added = new Set(v.diff?.added ?? []);
  if (v.diff) {
    diff.append(el("h3", v.diff.heading));
    if (!v.diff.added.length) diff.append(el("p", "No new permissions.", "ok"));
    const ul = el("ul", undefined, "perm-diff");
    for (const a of v.diff.added) {
      const li = el("li", undefined, "perm-added");
      li.append(el("span", "new", "badge badge-new"), ` ${a}`);
      ul.append(li);
    }
    for (const x of v.diff.removed) {
      const li = el("li", undefined, "perm-removed");
      li.append(el("span", "no longer asked", "badge"), " ", el("s", x));
      ul.append(li);
    }
    if (ul.childElementCount) diff.append(ul);
  }
  byId("approve-lines")!.replaceChildren(...v.asks.map((l) => {
    const li = el("li", undefined, added.has(l) ? "perm-added" : undefined);
    if (added.has(l)) li.append(el("span", "new", "badge badge-new"), " ");
    li.append(l);
    return li;
  }));
  byId("approve-integrity")!.textContent = v.integrity ?? r.integrity;
}

/** Wires the install form and dialog of the plugins page. */
export function startPluginInstall(): void {
  const form = byId<HTMLFormElement>("install-form");
  const dialog = byId<HTMLDialogElement>("approve-dialog");
  if (!form || !dialog) return;
  const status = byId("install-status");
  let pending: { source: string; integrity: string } | undefined;

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const source = byId<HTMLInputElement>("install-source")!.value.trim();
    say(status, "Reading the plugin…");
    try {
      const { status: code, data } = await api<Approval & { installed?: boolean }>(
        "POST",
        "/api/v1/plugins",
        { source },
      );
      if (code === 201) {
        location.reload();
        return;
      }
      pending = { source, integrity: data.request.integrity };
      showApproval(data);
      say(status, "");
      // A Cancel or Esc must not reuse the answer of an earlier opening.
      dialog.returnValue = "";
      dialog.showModal();
      // Enter must not approve: the safe choice has the focus.
      byId("approve-cancel")?.focus();
    } catch (e) {
      say(status, e instanceof ApiError ? e.message : String(e), "err");
    }
  });

  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "approve" || !pending) {
      say(status, "Not installed.");
      return;
    }
    say(status, "Installing…");
    try {
      const { data } = await api<{ name: string; version: string }>("POST", "/api/v1/plugins", {
        ...pending,
        approve: true,
      });
      say(status, `Installed ${data.name}@${data.version}.`, "ok");
      location.reload();
    } catch (e) {
      say(status, e instanceof ApiError ? e.message : String(e), "err");
    }
  });
}
