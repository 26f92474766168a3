/** Stable codes of NetdoctorError: user errors print one line and exit 2; Slack shows them as-is. */
export type ErrorCode =
  | 'bad_input'
  | 'unknown_namespace'
  | 'unknown_workflow'
  | 'invalid_workflow'
  | 'unreadable_dump'
  | 'missing_kubeconfig'
  | 'forbidden'
  | 'read_forbidden'
  | 'cluster_unreachable'
  | 'plan_unavailable';

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

/** What an apiserver answer means to netdoctor, by HTTP status (the one place statuses are read). */
export type ApiErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'gone'
  | 'invalid'
  | 'throttled'
  | 'server_error'
  | 'unexpected_status';

const API_CODES: Readonly<Record<number, ApiErrorCode>> = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 410: 'gone', 422: 'invalid', 429: 'throttled' };

export function apiErrorCode(status: number): ApiErrorCode {
  return API_CODES[status] ?? (status >= 500 ? 'server_error' : 'unexpected_status');
}

/** A non-2xx answer from the apiserver, with its Status reason when it sent one. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;

  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = apiErrorCode(status);
  }

  /** 429, 5xx: worth another try. 4xx are semantic and final. */
  get transient(): boolean {
    return this.code === 'throttled' || this.code === 'server_error';
  }
}
