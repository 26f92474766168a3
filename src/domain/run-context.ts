/** The logging surface the core needs; pino loggers satisfy it, and so does a silent stub for tests. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type Clock = () => Date;

/** One run's context (Probot-style): ids, a child logger, the clock. */
export interface RunContext {
  runId: string;
  log: Logger;
  clock: Clock;
  /**
   * Called where a run holds little (between the namespaces of a cluster-wide run): gives memory
   * back if garbage has piled up. The processes pass `heapReclaimer()`; tests may leave it out.
   */
  reclaimMemory?: () => void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
