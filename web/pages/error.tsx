/**
 * The error page of the UI: what went wrong in words, the request id to quote, and the way back
 * (dashboard and runs, or the login page). Used for every error and unknown path outside the API
 * (see `UiErrorPages` in `core/http/app.ts`); it never shows a stack trace.
 * @module
 */

const TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Not logged in",
  403: "Not allowed",
  404: "Not found",
  405: "Not allowed here",
  409: "Conflict",
  413: "Too large",
  415: "Unsupported type",
  422: "Cannot do that",
  429: "Too many requests",
  500: "Something went wrong",
  502: "Bad gateway",
  503: "Unavailable",
};

/** The page title of an error status: `Not found`, `Something went wrong`, … */
export function errorTitle(status: number): string {
  return TITLES[status] ?? (status >= 500 ? "Something went wrong" : "Error");
}

/** Properties of {@link ErrorBody}. */
export interface ErrorProps {
  status: number;
  /** What was wrong and what to do, for a person. */
  detail: string;
  requestId?: string;
  /** True when someone is logged in (links to pages; else to the login page). */
  loggedIn: boolean;
}

/** The body of an error page. */
export function ErrorBody(p: ErrorProps) {
  return (
    <div id="error" data-status={p.status}>
      <p class="err" role="alert">{p.detail}</p>
      <p class="sub">
        HTTP {p.status}
        {p.requestId && (
          <>
            {" "}· request id <code>{p.requestId}</code>
          </>
        )}
      </p>
      <p class="actions">
        {p.loggedIn
          ? (
            <>
              <a class="button" href="/">Back to the dashboard</a>
              <a href="/runs">Runs</a>
              <a href="/pipelines">Pipelines</a>
            </>
          )
          : <a class="button" href="/login">Log in</a>}
      </p>
    </div>
  );
}
