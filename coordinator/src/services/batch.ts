/**
 * Reads by key in groups: the keys asked for in one turn of the event loop are read together, by
 * one `load` of all of them, and each caller gets its own key's value. For the reads every member's
 * poll makes (its tasks, its consent edits): 50 members asking at once cost one statement, not 50.
 *
 * The group is read on `setImmediate`, after the requests whose bytes have already arrived have
 * been handled up to their read (embedded PGlite answers without leaving the JavaScript thread, so
 * nothing would ever wait otherwise). A failed load rejects every caller of its group; the next
 * group is read afresh. Nothing is cached: each call reads the database.
 *
 * @example
 * const consentOf = batchLoader((ids: string[]) => getConsents(ctx, ids));
 * const [a, b] = await Promise.all([consentOf('shop-a'), consentOf('shop-b')]); // one statement
 */
export function batchLoader<K, V>(
  load: (keys: K[]) => Promise<Map<K, V>>,
): (key: K) => Promise<V | undefined> {
  let waiting = new Map<
    K,
    { resolve: (v: V | undefined) => void; reject: (e: unknown) => void }[]
  >();
  let scheduled = false;
  const flush = async () => {
    scheduled = false;
    const group = waiting;
    waiting = new Map();
    try {
      const values = await load([...group.keys()]);
      for (const [key, callers] of group) for (const c of callers) c.resolve(values.get(key));
    } catch (err) {
      for (const callers of group.values()) for (const c of callers) c.reject(err);
    }
  };
  return (key) =>
    new Promise((resolve, reject) => {
      let callers = waiting.get(key);
      if (!callers) waiting.set(key, (callers = []));
      callers.push({ resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    });
}
