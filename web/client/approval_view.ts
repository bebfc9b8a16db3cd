/**
 * The plugin approval request in parts for the dialog: the install API answers it as lines of
 * text (`describeApproval` in `core/plugins/describe.ts`: a title line, indented notes, for an
 * upgrade `Compared with the installed …:` with `+ ` added and `- ` removed permissions, then
 * `It asks for:` with `- ` permission lines, then `Integrity: …`). This reads those lines back
 * into headings and clean lists; a line of a shape it does not know is kept as a note, never
 * dropped, so the dialog always shows all of the request.
 * @module
 */

/** The parts of an approval request. */
export interface ApprovalView {
  /** `Install plugin acme@1.0.0 (transform) from …`. */
  title: string;
  /** Indented lines under the title (the plugin's description, a built-in of the same name). */
  notes: string[];
  /** For an upgrade, downgrade or reinstall over an installed version: what changed. */
  diff?: {
    /** `Compared with the installed acme@1.0.0`. */
    heading: string;
    /** Permissions asked for now and not before. */
    added: string[];
    /** Permissions asked for before and not now. */
    removed: string[];
  };
  /** Every permission asked for, one sentence each. */
  asks: string[];
  /** `sha256-…` of the files. */
  integrity?: string;
}

/** Reads the approval lines of the install API (`description`) into parts. */
export function approvalView(lines: readonly string[]): ApprovalView {
  const view: ApprovalView = { title: (lines[0] ?? "").trim(), notes: [], asks: [] };
  let section: "head" | "diff" | "asks" = "head";
  let sub: "added" | "removed" = "added";
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    if (!line) continue;
    const integrity = /^Integrity:\s*(\S+)$/.exec(raw);
    if (integrity) {
      view.integrity = integrity[1];
      continue;
    }
    if (!/^\s/.test(raw) && /^Compared with\b.*:$/.test(line)) {
      section = "diff";
      view.diff = { heading: line.slice(0, -1), added: [], removed: [] };
      continue;
    }
    if (!/^\s/.test(raw) && line === "It asks for:") {
      section = "asks";
      continue;
    }
    if (section === "diff" && view.diff) {
      if (line === "new permissions:") sub = "added";
      else if (line === "no longer asks for:") sub = "removed";
      else if (line === "no new permissions") continue;
      else if (line.startsWith("+ ")) view.diff.added.push(line.slice(2));
      else if (line.startsWith("- ")) view.diff.removed.push(line.slice(2));
      else view.diff[sub].push(line);
      continue;
    }
    if (section === "asks") {
      view.asks.push(line.startsWith("- ") ? line.slice(2) : line);
      continue;
    }
    view.notes.push(line);
  }
  return view;
}
