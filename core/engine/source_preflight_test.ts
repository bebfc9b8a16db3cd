import assert from "node:assert/strict";
import { sampleOf } from "./source_preflight.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => b && new TextDecoder().decode(b);

Deno.test("sampleOf keeps a small body whole and cuts a large one after a whole record", () => {
  assert.equal(text(sampleOf(bytes("a,b\n1,2"), "csv", 16)), "a,b\n1,2");
  // Cut after the last line end within the limit.
  assert.equal(text(sampleOf(bytes("a,b\n1,2\n3,4\n5,6\n"), "csv", 10)), "a,b\n1,2\n");
  // Not inside a quoted field: the line end in "x\ny" is no record's end.
  const quoted = 'a,b\n1,"x\ny"\n3,4\n';
  assert.equal(text(sampleOf(bytes(quoted), "csv", 11)), "a,b\n");
  assert.equal(text(sampleOf(bytes(quoted), "csv", 12)), 'a,b\n1,"x\ny"\n');
  // Doubled quotes inside a field keep the parity.
  assert.equal(text(sampleOf(bytes('a\n"say ""hi""\n!"\nb\n'), "csv", 18)), 'a\n"say ""hi""\n!"\n');
  // JSON lines: quotes are no CSV quotes.
  assert.equal(text(sampleOf(bytes('{"a":"\\""}\n{"b":1}\n'), "jsonl", 14)), '{"a":"\\""}\n');
  // One line longer than the limit: nothing to check.
  assert.equal(sampleOf(bytes("x".repeat(40) + "\n"), "csv", 16), undefined);
});
