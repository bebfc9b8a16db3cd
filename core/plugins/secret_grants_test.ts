import assert from "node:assert/strict";
import { parseSecretGrants, SECRET_GRANT, secretGrantProblem } from "./secret_grants.ts";

Deno.test("secret grants: the manifest's secrets, plus what secrets.grants gives a plugin", () => {
  const grants = parseSecretGrants(["postgres-export=CRM_DB", "@acme/tool=*"]);
  const pg = { name: "postgres-export", secrets: ["DATABASE_URL"] };
  assert.equal(secretGrantProblem(pg, "DATABASE_URL"), undefined, "listed in plugin.json");
  assert.equal(secretGrantProblem(pg, "CRM_DB", grants), undefined, "granted by the server");
  assert.match(
    secretGrantProblem(pg, "CRM_HOOK", grants)!,
    /^plugin postgres-export may not receive secret CRM_HOOK: .*lists \(DATABASE_URL\).*"postgres-export=CRM_HOOK"/,
  );
  assert.equal(secretGrantProblem({ name: "@acme/tool" }, "ANY", grants), undefined, "plugin=*");
  assert.match(secretGrantProblem({ name: "set-fields" }, "X")!, /lists \(none\)/);
  for (const ok of ["a=B", "@s/p=X_1", "p-2=*"]) assert.ok(SECRET_GRANT.test(ok), ok);
  for (const bad of ["a", "=B", "a=", "a=B C", "A=B"]) assert.ok(!SECRET_GRANT.test(bad), bad);
});
