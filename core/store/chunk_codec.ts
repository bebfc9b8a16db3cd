/**
 * Encodes chunks of items as UTF-8 JSON split into parts that fit a Deno KV value (64 KiB cap).
 * @module
 */
import type { Item } from "../../sdk/types.ts";
import { joinBytes } from "../../sdk/io/join_bytes.ts";
import type { ChunkCommit, RawChunk } from "./store.ts";

/** Largest part written to one KV value, leaving headroom below the 64 KiB limit. */
export const PART_BYTES = 60_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Serializes `value` as JSON and splits the bytes into parts of at most `partBytes`. */
export function encodeParts(value: unknown, partBytes = PART_BYTES): Uint8Array[] {
  return encodeJsonParts(JSON.stringify(value), partBytes);
}

/** JSON text as UTF-8 split into parts of at most `partBytes` (see {@linkcode encodeParts}). */
export function encodeJsonParts(json: string, partBytes = PART_BYTES): Uint8Array[] {
  return splitParts(encoder.encode(json), partBytes);
}

/** `bytes` split into parts of at most `partBytes` (views, not copies). */
export function splitParts(bytes: Uint8Array, partBytes = PART_BYTES): Uint8Array[] {
  if (bytes.length <= partBytes) return [bytes];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += partBytes) parts.push(bytes.subarray(i, i + partBytes));
  return parts;
}

/** The parts as one array of bytes (the only part itself, not a copy). */
export const joinParts: (parts: readonly Uint8Array[]) => Uint8Array = joinBytes;

/** Joins parts written by {@link encodeParts} and parses the JSON. */
export function decodeParts<T>(parts: Uint8Array[]): T {
  return JSON.parse(decoder.decode(joinParts(parts))) as T;
}

/** Parses a chunk as stored: from its text when the store kept it, else from its parts. */
export function decodeRaw<T>(raw: RawChunk): T {
  return raw.text !== undefined ? JSON.parse(raw.text) as T : decodeParts<T>(raw.parts);
}

/** How many items a chunk commit holds (`count` when its items were left unparsed). */
export function commitCount(c: ChunkCommit): number {
  return c.count ?? c.items.length;
}

/** A chunk commit's items, parsed from its JSON when it gives only a `count` (a sink's input). */
export function commitItems(c: ChunkCommit): Item[] {
  if (c.count === undefined) return c.items;
  if (c.itemsJson !== undefined) return JSON.parse(c.itemsJson) as Item[];
  return decodeParts<Item[]>(c.itemsBytes ?? []);
}

/** A chunk commit's items as JSON text: the text it carries, else decoded or serialized here. */
export function commitJson(c: ChunkCommit): string {
  if (c.itemsJson !== undefined) return c.itemsJson;
  if (c.itemsBytes) return joinedText(c.itemsBytes);
  return JSON.stringify(c.items);
}

/** The text of UTF-8 bytes given in pieces (a piece may end inside a character). */
function joinedText(parts: readonly Uint8Array[]): string {
  const d = new TextDecoder();
  return parts.map((p, i) => d.decode(p, { stream: i < parts.length - 1 })).join("");
}
