/** What a report page link opens: one run's report, or one day's digest of a cluster. */
export type PageRef = { kind: 'run'; cluster: string; runId: string } | { kind: 'digest'; cluster: string; day: string };
