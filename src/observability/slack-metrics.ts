// Slack Web API errors as metrics: a WebClient whose every apiCall failure is counted by method
// and Slack's error code (netdoctor_slack_api_errors_total). Counted after the client's own
// retries, so one count is one call that finally failed.
import { webApi } from '@slack/bolt';
import type { Metrics } from './metrics';

/** A bounded label for a Web API failure: Slack's error code, `ratelimited`, `http_<status>` or `request_error`. */
export function slackErrorCode(err: unknown): string {
  const e = (err ?? {}) as { code?: string; data?: { error?: unknown }; statusCode?: number };
  switch (e.code) {
    case 'slack_webapi_platform_error':
      return typeof e.data?.error === 'string' && /^[a-z0-9_]{1,64}$/.test(e.data.error) ? e.data.error : 'unknown_error';
    case 'slack_webapi_rate_limited_error':
      return 'ratelimited';
    case 'slack_webapi_http_error':
      return `http_${Number(e.statusCode) || 0}`;
    case 'slack_webapi_request_error':
      return 'request_error';
    default:
      return 'unknown';
  }
}

/**
 * `new WebClient(token, options)` that counts its failed calls. A subclass rather than a wrapper:
 * the client binds chat.postMessage & co. to `this.apiCall` when it is constructed.
 */
export function countingWebClient(token: string, options: webApi.WebClientOptions, metrics: Pick<Metrics, 'recordSlackError'>): webApi.WebClient {
  class CountingWebClient extends webApi.WebClient {
    override async apiCall(method: string, callOptions?: Record<string, unknown>): Promise<webApi.WebAPICallResult> {
      try {
        return await super.apiCall(method, callOptions);
      } catch (e) {
        metrics.recordSlackError(method, slackErrorCode(e));
        throw e;
      }
    }
  }
  return new CountingWebClient(token, options);
}
