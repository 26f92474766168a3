import type { Report } from '../domain/report';
import { safeJson } from './control-chars';

/** The report as `netdoctor.report/v1` JSON (the CLI's `--output json`), safe to print to a terminal. */
export function renderJson(report: Report): string {
  return safeJson(report) + '\n';
}
