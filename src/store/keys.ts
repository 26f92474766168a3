/**
 * Every Redis key netdoctor writes outside BullMQ is built here. The prefix carries a hash tag
 * (`{…}`), so under Redis Cluster all keys with the same tag sit in one hash slot and a Lua
 * script, MULTI or pipeline over them is allowed:
 * - one cluster's data: `{netdoctor:prod-eu}:data:report:…` (the same tag as its queues under Cluster);
 * - data shared by all clusters (audit stream, Slack state, plan → cluster index): `{netdoctor}:…`.
 * A new store takes its keys from these functions and keeps each script/MULTI inside one tag.
 */

/** A key of one cluster's data: `{<prefix>:<cluster>}:<parts…>`. */
export function clusterKey(queuePrefix: string, cluster: string, ...parts: string[]): string {
  return [`{${queuePrefix}:${cluster}}`, ...parts].join(':');
}

/** `{<prefix>:<cluster>}:data:…`: every store's keys for one cluster, in its queues' slot under Cluster. */
export function clusterDataKey(queuePrefix: string, cluster: string, ...parts: string[]): string {
  return clusterKey(queuePrefix, cluster, 'data', ...parts);
}

/** A key shared by every cluster: `{<prefix>}:<parts…>`. */
export function sharedKey(queuePrefix: string, ...parts: string[]): string {
  return [`{${queuePrefix}}`, ...parts].join(':');
}
