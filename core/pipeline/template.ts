/**
 * `${{ ... }}` templates in pipeline values: `${{ inputs.NAME }}`, `${{ secrets.NAME }}` and
 * `${{ run.FIELD }}`. A string that is wholly one template takes the referenced value's type;
 * templates inside a longer string are stringified. Secrets are resolved at run time only, by an
 * injected resolver; nothing here logs values, and error messages name secrets, never values.
 * @module
 */

/** Namespaces a template may read. */
export const TEMPLATE_KINDS = ["inputs", "secrets", "run"] as const;
/** A template namespace. */
export type TemplateKind = typeof TEMPLATE_KINDS[number];

/** Fields of `run` a template may read. The engine supplies them. */
export const RUN_FIELDS = ["id", "pipeline", "trigger", "startedAt"] as const;

/** One `${{ ... }}` occurrence found in a value. */
export interface TemplateRef {
  /** `inputs`, `secrets`, `run`, or what was written when it is not one of them. */
  kind: string;
  /** The referenced name (`""` when malformed). */
  name: string;
  /** The template as written, e.g. `${{ inputs.limit }}`. */
  text: string;
  /** Character offset of the template in its string. */
  index: number;
  /** Path of the string within the searched value. */
  path: (string | number)[];
  /** Why the template is invalid, when it is. */
  error?: string;
}

/** A template that cannot be resolved. */
export class TemplateError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

/** What templates resolve against. */
export interface TemplateContext {
  /** Run inputs after defaults. */
  inputs?: Record<string, unknown>;
  /** Looks a secret up by name; `undefined` when it is not set. */
  secrets?: (name: string) => string | undefined;
  /** Run facts: `id`, `pipeline`, `trigger`, `startedAt`. */
  run?: Record<string, unknown>;
  /** How an operator provides a secret, for the error when one is missing. */
  secretHint?: (name: string) => string;
}

const TEMPLATE = /\$\{\{([\s\S]*?)\}\}/g;
const WHOLE = /^\s*\$\{\{((?:(?!\}\})[\s\S])*)\}\}\s*$/;
const REF = /^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)$/;
const USAGE = "write ${{ inputs.NAME }}, ${{ secrets.NAME }} or ${{ run.id }}";

/** Parses the inside of one template. */
function parseRef(inner: string): { kind: string; name: string; error?: string } {
  const m = REF.exec(inner.trim());
  if (!m) {
    return { kind: "", name: "", error: `malformed template "\${{${inner}}}": ${USAGE}` };
  }
  const [, kind, name] = m;
  if (kind === "env") {
    return {
      kind,
      name,
      error:
        `\${{ env.${name} }} is not allowed: pipelines do not read the server's environment; ` +
        `store the value as a secret and write \${{ secrets.${name} }}`,
    };
  }
  if (!(TEMPLATE_KINDS as readonly string[]).includes(kind)) {
    return {
      kind,
      name,
      error: `unknown template namespace "${kind}" in \${{${inner}}}: ${USAGE}`,
    };
  }
  if (kind === "run" && !(RUN_FIELDS as readonly string[]).includes(name)) {
    return {
      kind,
      name,
      error: `unknown run field "${name}" in \${{${inner}}}: use one of ${RUN_FIELDS.join(", ")}`,
    };
  }
  return { kind, name };
}

/** Finds every template in the strings of `value` (deep), valid or not. */
export function findTemplates(value: unknown, path: (string | number)[] = []): TemplateRef[] {
  const out: TemplateRef[] = [];
  walkStrings(value, path, (s, p) => {
    for (const m of s.matchAll(TEMPLATE)) {
      out.push({ ...parseRef(m[1]), text: m[0], index: m.index, path: p });
    }
    const open = s.replace(TEMPLATE, (m) => " ".repeat(m.length)).indexOf("${{");
    if (open >= 0) {
      out.push({
        kind: "",
        name: "",
        text: s.slice(open),
        index: open,
        path: p,
        error: `unclosed template "${s.slice(open, open + 30)}": close it with }}`,
      });
    }
  });
  return out;
}

/** Names of the secrets `value` uses, sorted and unique. */
export function secretNamesUsed(value: unknown): string[] {
  const names = new Set<string>();
  for (const ref of findTemplates(value)) {
    if (ref.kind === "secrets" && !ref.error) names.add(ref.name);
  }
  return [...names].sort();
}

/**
 * Resolves every template in `value` (deep over objects and arrays; a new value is returned).
 * Throws {@link TemplateError} for invalid templates, missing inputs and unset secrets.
 */
export function resolveTemplates<T = unknown>(value: T, ctx: TemplateContext): T {
  return resolve(value, ctx, []) as T;
}

function resolve(value: unknown, ctx: TemplateContext, path: (string | number)[]): unknown {
  if (typeof value === "string") return resolveString(value, ctx, path);
  if (Array.isArray(value)) return value.map((v, i) => resolve(v, ctx, [...path, i]));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolve(v, ctx, [...path, k]);
    return out;
  }
  return value;
}

function resolveString(s: string, ctx: TemplateContext, path: (string | number)[]): unknown {
  if (!s.includes("${{")) return s;
  const where = path.length > 0 ? ` (at ${path.join(".")})` : "";
  const whole = WHOLE.exec(s);
  if (whole) return lookup(whole[1], ctx, where);
  const unclosed = s.replace(TEMPLATE, "").indexOf("${{");
  if (unclosed >= 0) {
    throw new TemplateError(`unclosed template in a value${where}: close it with }}`);
  }
  return s.replace(TEMPLATE, (_m, inner: string) => stringify(lookup(inner, ctx, where)));
}

function lookup(inner: string, ctx: TemplateContext, where: string): unknown {
  const ref = parseRef(inner);
  if (ref.error) throw new TemplateError(`${ref.error}${where}`);
  if (ref.kind === "secrets") {
    const v = ctx.secrets?.(ref.name);
    if (v === undefined) {
      const hint = ctx.secretHint?.(ref.name) ??
        `provide it to the server (for example as the environment variable SLUICE_SECRET_${ref.name})`;
      throw new TemplateError(`secret "${ref.name}" is not set${where}: ${hint}`);
    }
    return v;
  }
  const source = ref.kind === "inputs" ? ctx.inputs : ctx.run;
  const v = source && Object.hasOwn(source, ref.name) ? source[ref.name] : undefined;
  if (v === undefined) {
    throw new TemplateError(
      ref.kind === "inputs"
        ? `input "${ref.name}" has no value${where}: give it (e.g. --set ${ref.name}=...) ` +
          `or declare a default under inputs.${ref.name}.default`
        : `run field "${ref.name}" is not available${where}`,
    );
  }
  return v;
}

function stringify(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function walkStrings(
  value: unknown,
  path: (string | number)[],
  fn: (s: string, path: (string | number)[]) => void,
): void {
  if (typeof value === "string") fn(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, [...path, i], fn));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) walkStrings(v, [...path, k], fn);
  }
}

/** Whether `s` is wholly one template (its resolved value keeps its type). */
export function isWholeTemplate(s: unknown): s is string {
  return typeof s === "string" && WHOLE.test(s);
}

/** Whether `s` contains a template. */
export function hasTemplate(s: unknown): s is string {
  return typeof s === "string" && s.includes("${{");
}
