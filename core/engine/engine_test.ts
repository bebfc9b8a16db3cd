import { engineBehaviour } from "./engine_behaviour.ts";
import { kvBackendFactory } from "./test_helpers.ts";

for (const [name, fn] of engineBehaviour(kvBackendFactory)) Deno.test(name, fn);
