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

interface Approval {
  approvalRequired: true;
  request: { name: string; version: string; integrity: string; change: string; kind: string };
  description: string[];
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
      const r = data.request;
      pending = { source, integrity: r.integrity };
      byId("approve-what")!.textContent =
        `${r.change} ${r.name}@${r.version} (${r.kind}) from ${source}`;
      const ul = byId("approve-lines")!;
      ul.replaceChildren(...data.description.map((l) => {
        const li = document.createElement("li");
        li.textContent = l.replace(/^- /, "");
        return li;
      }));
      byId("approve-integrity")!.textContent = r.integrity;
      say(status, "");
      dialog.showModal();
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
