/**
 * Recognises a web server's or hosting panel's stock page ("Welcome to nginx!", "Apache2 Debian
 * Default Page", IIS, cPanel, Plesk…) from the signatures in `sdk/data/server_default_pages.json`,
 * the same entries classify judges pages with. http-probe uses it to go on to www when the apex
 * answers with such a page: a server whose virtual host exists for www only shows its stock page
 * for the bare name, while www holds the business's site.
 * @module
 */
import data from "../data/server_default_pages.json" with { type: "json" };

/** The parts of a response the signatures look at. */
export interface PageText {
  title: string;
  text: string;
  html: string;
}

const SIGNATURES = data.signatures.map((s) => ({
  where: s.where as "title" | "text" | "html",
  pattern: new RegExp(s.pattern, "i"),
  service: s.service,
}));

/** The service whose stock page `page` is (e.g. `nginx`), or undefined. */
export function serverDefaultPage(page: PageText): string | undefined {
  return SIGNATURES.find((s) => s.pattern.test(page[s.where]))?.service;
}
