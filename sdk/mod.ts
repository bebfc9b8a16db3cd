/**
 * The Sluice plugin SDK: everything a plugin author imports.
 * @module
 */
export * from "./types.ts";
export * from "./plugin.ts";
export * from "./errors.ts";
