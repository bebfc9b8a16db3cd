/**
 * Byte arrays joined into one, for the places that hold a body or a stored chunk in pieces.
 * @module
 */

/** The pieces as one array of bytes (the only piece itself, not a copy). */
export function joinBytes(pieces: readonly Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  const all = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
