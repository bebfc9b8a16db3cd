/**
 * Masks secret values in text and in JSON values: the one place the host's logs, the runs' own
 * log lines and the sandbox's plugin log lines mask secrets. A secret is looked for as it is and
 * in the forms JSON gives it inside a string (`pa"ss\word` is `pa\"ss\\word` in a JSON log line,
 * and `pa\\\"ss\\\\word` when that line is quoted once more), so a secret with quotes,
 * backslashes or control characters is masked in a JSON line too.
 * @module
 */

/** Options of {@linkcode maskSecrets} and {@linkcode maskSecretsInJson}. */
export interface MaskOptions {
  /** What replaces a secret; default `********`. */
  mask?: string;
  /** Shorter values are left alone (masking them would garble text); default 4. */
  minLength?: number;
}

/** A secret as it appears in a JSON string. */
function jsonEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/**
 * The texts to replace for `secrets`: each secret as is, JSON-escaped, and JSON-escaped twice
 * (the same text once for a secret JSON leaves alone), longest first, so a secret that holds
 * another one is masked whole.
 */
export function secretForms(secrets: Iterable<string>, minLength = 4): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length < minLength) continue;
    const once = jsonEscaped(secret);
    forms.add(secret).add(once).add(jsonEscaped(once));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Masks a fixed set of secrets; build it once and use it for many texts. */
export class SecretMasker {
  #forms: string[];
  #mask: string;

  /** A masker for `secrets` (values shorter than `options.minLength` are left alone). */
  constructor(secrets: Iterable<string>, options: MaskOptions = {}) {
    this.#forms = secretForms(secrets, options.minLength);
    this.#mask = options.mask ?? "********";
  }

  /** True when there is nothing to mask. */
  get empty(): boolean {
    return this.#forms.length === 0;
  }

  /** `text` with every secret (as is or JSON-escaped) replaced by the mask. */
  text(text: string): string {
    for (const form of this.#forms) {
      if (text.includes(form)) text = text.replaceAll(form, this.#mask);
    }
    return text;
  }

  /**
   * A copy of a JSON value with secrets masked in every string and object key (the value's
   * structure is kept: masking never breaks it, whatever the secret holds).
   */
  json<T>(value: T): T {
    if (this.empty) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === "string") return this.text(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
          // defineProperty: a `__proto__` key stays a key.
          Object.defineProperty(out, this.text(k), {
            value: walk(x),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return out;
      }
      return v;
    };
    return walk(value) as T;
  }
}

/** `text` with every secret of `secrets` (as is or JSON-escaped) replaced by the mask. */
export function maskSecrets(
  text: string,
  secrets: Iterable<string>,
  options: MaskOptions = {},
): string {
  return new SecretMasker(secrets, options).text(text);
}

/** A copy of a JSON value with secrets masked in every string and object key. */
export function maskSecretsInJson<T>(
  value: T,
  secrets: Iterable<string>,
  options: MaskOptions = {},
): T {
  return new SecretMasker(secrets, options).json(value);
}
