// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, no keys
/**
 * The page shell: skip link, navigation, who is logged in (with logout), the CSRF token and role
 * for client code, and the page's scripts (bundled files only: the CSP allows no inline code).
 * @module
 */
import type { Child } from "hono/jsx";
import type { Principal } from "../core/http/roles.ts";
import type { StaticFiles } from "./static_files.ts";

const NAV: [string, string][] = [
  ["/", "Dashboard"],
  ["/pipelines", "Pipelines"],
  ["/runs", "Runs"],
  ["/plugins", "Plugins"],
  ["/triggers", "Schedules & webhooks"],
  ["/settings", "Settings"],
];

/** Properties of {@link Layout}. */
export interface LayoutProps {
  title: string;
  /** Path of the active nav entry. */
  nav: string;
  user?: Principal;
  assets: StaticFiles;
  /** Extra bundles for this page (e.g. `editor.js`). */
  scripts?: string[];
  children?: Child;
}

/** The HTML document of every page. */
export function Layout(p: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {
          /* The server sends Referrer-Policy: no-referrer, under which browsers send `Origin: null`
        with form posts and fetches; same-origin keeps the Origin that the CSRF checks need. */
        }
        <meta name="referrer" content="same-origin" />
        <title>{`${p.title} · Sluice`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={p.assets.url("app.css")} />
        {p.user && <meta name="sluice-csrf" content={p.user.csrf ?? ""} />}
        {p.user && <meta name="sluice-role" content={p.user.role} />}
        <script type="module" src={p.assets.url("app.js")}></script>
        {(p.scripts ?? []).map((s) => <script type="module" src={p.assets.url(s)}></script>)}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/">Sluice</a>
          {p.user && (
            <nav aria-label="Main">
              <ul>
                {NAV.map(([href, label]) => (
                  <li>
                    <a
                      href={href}
                      aria-current={(href === "/" ? p.nav === "/" : p.nav.startsWith(href))
                        ? "page"
                        : undefined}
                    >
                      {label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          {p.user && (
            <form class="who" method="post" action="/auth/logout">
              <span>
                {p.user.name} <span class="badge">{p.user.role}</span>
              </span>
              <input type="hidden" name="csrf" value={p.user.csrf ?? ""} />
              <button type="submit" class="link">Log out</button>
            </form>
          )}
        </header>
        <main id="main" tabindex={-1}>
          <h1>{p.title}</h1>
          {p.children}
        </main>
      </body>
    </html>
  );
}

/** A notice for empty lists: what is missing and what to do. */
export function Empty(p: { children?: Child; id?: string }) {
  return <p class="empty" id={p.id}>{p.children}</p>;
}

/**
 * Text of any length: up to `max` characters (default 500) as they are; longer text shows its
 * start with a "show more" that opens the whole text (a `<details>`, no script needed).
 */
export function LongText(p: { text: string; max?: number }) {
  const max = p.max ?? 500;
  if (p.text.length <= max) return <>{p.text}</>;
  return (
    <details class="more">
      <summary>
        <span class="preview">{p.text.slice(0, max)}…</span>{" "}
        <span class="more-label when-closed">
          show more ({(p.text.length - max).toLocaleString("en-US")} more characters)
        </span>
        <span class="more-label when-open">show less</span>
      </summary>
      <span class="full">{p.text}</span>
    </details>
  );
}

/** A state badge (`succeeded`, `failed`, …). */
export function StateBadge(p: { state: string }) {
  return <span class={`state state-${p.state}`}>{p.state}</span>;
}

/** A JSON data block for client code (`type="application/json"`: not executed, CSP-safe). */
export function JsonData(p: { id: string; value: unknown }) {
  const text = JSON.stringify(p.value).replaceAll("<", "\\u003c");
  return <script type="application/json" id={p.id} dangerouslySetInnerHTML={{ __html: text }} />;
}
