/**
 * One family's environment table: its ids in table order, membership, and specs built once per id
 * (frozen, cached), with an error that names the family and the known ids. Each family's spec.ts
 * owns its rows and how a row becomes a spec; this is only the lookup they share.
 */
export interface SpecTable<S> {
  ids(): string[];
  has(id: string): boolean;
  get(id: string): S;
}

export function specTable<R extends { id: string }, S>(family: string, rows: readonly R[], build: (row: R) => S): SpecTable<S> {
  const built = new Map<string, S>();
  const ids = () => rows.map((r) => r.id);
  return {
    ids,
    has: (id) => rows.some((r) => r.id === id),
    get(id) {
      let s = built.get(id);
      if (s === undefined) {
        const row = rows.find((r) => r.id === id);
        if (!row) throw new Error(`unknown ${family} environment '${id}' (known: ${ids().join(', ')})`);
        s = build(row);
        built.set(id, s);
      }
      return s;
    },
  };
}
