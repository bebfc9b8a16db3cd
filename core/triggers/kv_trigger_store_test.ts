import { join } from "../paths.ts";
import { KvTriggerStore } from "./kv_trigger_store.ts";
import { TRIGGER_STORE_SCENARIOS } from "./trigger_store_behaviour.ts";

async function withStores(fn: (a: KvTriggerStore, b: KvTriggerStore) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-trgstore-" });
  const kvA = await Deno.openKv(join(dir, "t.kv"));
  const kvB = await Deno.openKv(join(dir, "t.kv"));
  try {
    await fn(new KvTriggerStore(kvA), new KvTriggerStore(kvB));
  } finally {
    kvA.close();
    kvB.close();
    await Deno.remove(dir, { recursive: true });
  }
}

for (const [name, scenario] of TRIGGER_STORE_SCENARIOS) {
  Deno.test(name, () => withStores(scenario));
}
