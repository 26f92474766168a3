/** Stable error codes: user errors print one line and exit 2; Slack shows them as-is. */
export type ErrorCode =
  | 'bad_input'
  | 'unknown_namespace'
  | 'unknown_workflow'
  | 'invalid_workflow'
  | 'unreadable_dump'
  | 'missing_kubeconfig'
  | 'forbidden'
  | 'cluster_unreachable';

/** An error whose message is written for the user (no stack trace needed to act on it). */
export class NetdoctorError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NetdoctorError';
  }
}
