/**
 * Mixed `int`/`double` arithmetic for CEL (`@bufbuild/cel`), shared by every expression language
 * Sluice has (`when:` and `rateLimit.key` in pipelines, `score` rules). Items are plain JSON, so
 * every JSON number is a CEL `double` while a literal such as `1` is an `int`; standard CEL has
 * no `double + int`, so `item.score + 1` would fail. These overloads make such expressions, and
 * `%` on whole doubles, work as a person expects.
 * @module
 */
import { celFunc, CelScalar } from "@bufbuild/cel";

const D = CelScalar.DOUBLE;
const I = CelScalar.INT;

function modulo(a: number, b: number): number {
  if (!Number.isInteger(a) || !Number.isInteger(b)) {
    throw new Error(`'%' needs whole numbers, got ${a} and ${b}`);
  }
  if (b === 0) throw new Error("modulus by zero");
  return a % b;
}

/** The `+ - * / %` overloads for `double` with `int` (either side) and `%` on `double`s. */
export const MIXED_NUMBER_FUNCS = [
  celFunc("_+_", [D, I], D, (a, b) => a + Number(b)),
  celFunc("_+_", [I, D], D, (a, b) => Number(a) + b),
  celFunc("_-_", [D, I], D, (a, b) => a - Number(b)),
  celFunc("_-_", [I, D], D, (a, b) => Number(a) - b),
  celFunc("_*_", [D, I], D, (a, b) => a * Number(b)),
  celFunc("_*_", [I, D], D, (a, b) => Number(a) * b),
  celFunc("_/_", [D, I], D, (a, b) => a / Number(b)),
  celFunc("_/_", [I, D], D, (a, b) => Number(a) / b),
  celFunc("_%_", [D, D], D, (a, b) => modulo(a, b)),
  celFunc("_%_", [D, I], D, (a, b) => modulo(a, Number(b))),
  celFunc("_%_", [I, D], D, (a, b) => modulo(Number(a), b)),
];
