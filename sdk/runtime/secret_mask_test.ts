import assert from "node:assert/strict";
import { maskSecrets, maskSecretsInJson, SecretMasker } from "./secret_mask.ts";

Deno.test("maskSecrets: raw, JSON-escaped and twice-escaped forms, control characters too", () => {
  for (const secret of ['pa"ss\\word-123', "line1\nline2\ttab", "nul\u0001byte"]) {
    const once = JSON.stringify({ secret });
    const twice = JSON.stringify({ line: once });
    const text = `raw ${secret} once ${once} twice ${twice}`;
    assert.equal(
      maskSecrets(text, [secret]),
      'raw ******** once {"secret":"********"} twice {"line":"{\\"secret\\":\\"********\\"}"}',
      JSON.stringify(secret),
    );
  }
});

Deno.test("maskSecrets: the longest secret first, short values left alone, custom mask", () => {
  assert.equal(
    maskSecrets("token abcdef and abcd", ["abcd", "abcdef"]),
    "token ******** and ********",
  );
  assert.equal(maskSecrets("id abc", ["abc"]), "id abc", "under 4 characters by default");
  assert.equal(maskSecrets("id abc", ["abc"], { mask: "[secret]", minLength: 3 }), "id [secret]");
  assert.equal(new SecretMasker([]).empty, true);
});

Deno.test("maskSecretsInJson: masks strings and keys, keeps the structure whatever the secret holds", () => {
  const secret = 'end\\"';
  const value = JSON.parse(
    JSON.stringify({ [secret]: [secret, { deep: `a ${secret} b`, n: 1, ok: true, no: null }] }),
  );
  const masked = maskSecretsInJson(value, [secret]);
  assert.deepEqual(JSON.parse(JSON.stringify(masked)), {
    "********": ["********", { deep: "a ******** b", n: 1, ok: true, no: null }],
  });
});
