/**
 * The cost of the `same_business_as` / `website_elsewhere` columns at an export's finish: rows
 * gathered into {@link SiblingIndex} (every row the stage saw) and {@link SameBusinessIndex} (the
 * exported rows), then each row's other domains asked for, as `keyedRows` does. Many rows of
 * one business name and city (placeholders like "Unknown" / "Unknown" in CRM exports) once made
 * this quadratic. Not a test: run it by hand.
 *
 *   deno run -A bench/same_business_bench.ts [--sizes 2000,5000,10000,20000] [--distinct 20000]
 * @module
 */
import { parseArgs } from "node:util";
import {
  businessIdentity,
  SameBusinessIndex,
  SiblingIndex,
  siblingOf,
  type SiblingRow,
} from "../sdk/sink/same_business.ts";

const STATUSES = ["live", "parked", "no_dns", "redirect", ""];

/** `n` rows, all of one business when `oneIdentity`, else each of its own. */
function rowsOf(n: number, oneIdentity: boolean): SiblingRow[] {
  const rows: SiblingRow[] = [];
  for (let i = 0; i < n; i++) {
    const phone = i % 3 === 0 ? "" : `+1 520 555 ${String(i % 10_000).padStart(4, "0")}`;
    rows.push(
      siblingOf({
        domain: `d${i}.example`,
        name: oneIdentity ? "Unknown" : `Business ${i}`,
        city: "Unknown",
        phone,
        phone_e164: i % 2 === 0 ? phone.replace(/\s/g, "") : "",
        website: { status: STATUSES[i % STATUSES.length] },
      }, i % 4 !== 0)!,
    );
  }
  return rows;
}

/** Seconds to gather `rows` and ask for the other domains of each. */
function measure(rows: SiblingRow[]): { siblings: number; sameBusiness: number } {
  let t = performance.now();
  const siblings = new SiblingIndex();
  for (const row of rows) siblings.add(row);
  let cells = 0;
  for (const row of rows) cells += siblings.others(row[1], row[2]).sameBusinessAs.length;
  const siblingSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const sameBusiness = new SameBusinessIndex();
  for (const row of rows) sameBusiness.add(row[1], row[2]);
  for (const row of rows) cells += sameBusiness.others(row[1], row[2]).length;
  const sameBusinessSeconds = (performance.now() - t) / 1000;
  if (cells < 0) throw new Error("unreachable");
  return { siblings: siblingSeconds, sameBusiness: sameBusinessSeconds };
}

const args = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string", default: "2000,5000,10000,20000" },
    distinct: { type: "string", default: "20000" },
  },
});
const sizes = args.values.sizes.split(",").filter((s) => s).map(Number);
const distinct = Number(args.values.distinct);

if (businessIdentity({ name: "Unknown", city: "Unknown" }) === undefined) {
  throw new Error("the bench's placeholder rows have no business identity");
}
console.log("| rows | identities | SiblingIndex s | SameBusinessIndex s |");
console.log("| ---: | ---------- | -------------: | ------------------: |");
const line = (n: number, what: string, r: { siblings: number; sameBusiness: number }) =>
  console.log(
    `| ${n.toLocaleString("en-US")} | ${what} | ${r.siblings.toFixed(3)} | ${
      r.sameBusiness.toFixed(3)
    } |`,
  );
for (const n of sizes) line(n, "one", measure(rowsOf(n, true)));
if (distinct > 0) line(distinct, "distinct", measure(rowsOf(distinct, false)));
