/**
 * A keyset walk: reads page after page, each after the last row of the one before (no OFFSET, so a page costs the
 * same however deep the walk), until a short page. One page is in memory at a time, whatever the total.
 *
 * @example keysetWalk((from) => repo.pageForSubject(db, id, from, 1000), 1000, (row) => ({ placedAt: row.placed_at, id: row.id }))
 */
export async function* keysetWalk<R, C>(read: (from: C | undefined) => Promise<readonly R[]>, pageSize: number, cursorOf: (last: R) => C): AsyncGenerator<R> {
  // A page of 0 (or a fraction) would never end the walk.
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new Error(`a page holds at least one row (got ${pageSize})`);
  let from: C | undefined;
  for (;;) {
    const rows = await read(from);
    yield* rows;
    const last = rows.at(-1);
    if (last === undefined || rows.length < pageSize) return;
    from = cursorOf(last);
  }
}
