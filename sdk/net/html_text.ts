/**
 * Streaming HTML reading for probes: the `<title>` and the visible text (scripts, styles and
 * other invisible elements skipped, whitespace collapsed, capped), fed chunk by chunk with
 * `htmlparser2` so a large page is never held whole.
 * @module
 */
import { Parser } from "htmlparser2";

/** Elements whose content is never visible text. */
const HIDDEN = new Set([
  "script",
  "style",
  "noscript",
  "template",
  "svg",
  "math",
  "iframe",
  "object",
  "canvas",
]);

/** Options of {@linkcode HtmlTextExtractor}. */
export interface HtmlTextOptions {
  /** Maximum visible-text length in characters (default 4096). */
  maxText?: number;
  /** Maximum title length in characters (default 512). */
  maxTitle?: number;
}

/** Collapses runs of whitespace to one space and trims. */
export function collapseWhitespace(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

/**
 * Extracts the title and visible text of an HTML document fed in pieces (`write`), then `end()`.
 * Stops collecting once the text cap is reached (`full` tells; the caller may stop feeding).
 */
export class HtmlTextExtractor {
  #parser: Parser;
  #hidden = 0;
  #inTitle = false;
  #titleDone = false;
  #title = "";
  #parts: string[] = [];
  #length = 0;
  #maxText: number;
  #maxTitle: number;

  /** Creates an extractor. */
  constructor(options: HtmlTextOptions = {}) {
    this.#maxText = options.maxText ?? 4096;
    this.#maxTitle = options.maxTitle ?? 512;
    this.#parser = new Parser({
      onopentag: (name) => {
        if (name === "title" && !this.#titleDone && this.#hidden === 0) this.#inTitle = true;
        else if (HIDDEN.has(name)) this.#hidden++;
        else this.#push(" ");
      },
      onclosetag: (name) => {
        if (name === "title" && this.#inTitle) {
          this.#inTitle = false;
          this.#titleDone = true;
        } else if (HIDDEN.has(name)) this.#hidden = Math.max(0, this.#hidden - 1);
        else this.#push(" ");
      },
      ontext: (text) => {
        if (this.#inTitle) {
          if (this.#title.length < this.#maxTitle * 2) this.#title += text;
        } else if (this.#hidden === 0) this.#push(text);
      },
    }, { decodeEntities: true, lowerCaseTags: true, recognizeSelfClosing: true });
  }

  /** True when the text cap is reached (the title, if any, came before the body text). */
  get full(): boolean {
    return this.#length >= this.#maxText * 2;
  }

  /** Feeds the next piece of decoded HTML. */
  write(html: string): void {
    this.#parser.write(html);
  }

  /** Ends the document and returns title and visible text. */
  end(): { title: string; text: string } {
    this.#parser.end();
    const title = collapseWhitespace(this.#title).slice(0, this.#maxTitle);
    const text = collapseWhitespace(this.#parts.join("")).slice(0, this.#maxText);
    return { title, text };
  }

  #push(s: string): void {
    // Keep up to twice the cap before collapsing, so collapsed text still fills the cap.
    if (this.#length >= this.#maxText * 2) return;
    this.#parts.push(s);
    this.#length += s.length;
  }
}

/** Title and visible text of a whole HTML string. */
export function extractText(html: string, options?: HtmlTextOptions): {
  title: string;
  text: string;
} {
  const x = new HtmlTextExtractor(options);
  x.write(html);
  return x.end();
}
