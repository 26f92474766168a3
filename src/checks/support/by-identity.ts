/**
 * `compute` memoized on its argument's identity. A cluster-wide run checks namespace by namespace and
 * hands every namespace's run the same shared objects and lists (Nodes, infrastructure DaemonSets,
 * every namespace's Services): what a check derives from them alone is derived once, not per namespace.
 * Views never change an object they handed out, so a result stays right for as long as its key lives.
 */
export function byIdentity<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const cache = new WeakMap<K, V>();
  return (key) => {
    if (cache.has(key)) return cache.get(key) as V;
    const value = compute(key);
    cache.set(key, value);
    return value;
  };
}
