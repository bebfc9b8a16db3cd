/**
 * finish-sink (records its `name` in `globalThis.__finish.order` when its `finish` runs), as a
 * plugin whose manifest declares `finishLast`.
 */
export { default } from "../finish-sink/mod.ts";
