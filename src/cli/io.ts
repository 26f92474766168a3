/** Where the CLI writes; injected so tests run it in-process. */
export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  isTTY: boolean;
}
