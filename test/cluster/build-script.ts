// Runs one of the Go tool build scripts (test/cluster/build.sh, deploy/tools/build-helm.sh):
// progress streams to stderr as it comes; on failure the error names the script, its exit
// status and the tail of what it printed, not just "Command failed".
// Only node built-ins: jest's globalSetup loads this untransformed.
import { spawn } from 'node:child_process';

const TAIL_LINES = 40;

/** Runs `bash script`, resolves with the last line of its stdout (the bin dir, by the scripts' convention). */
export function runBuildScript(script: string, progress: (chunk: string) => void = (c) => process.stderr.write(c)): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let tail: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      progress(chunk);
      tail = [...tail, ...chunk.split('\n')].slice(-TAIL_LINES);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lines = stdout.trim().split('\n');
      const last = lines[lines.length - 1]!.trim();
      if (code === 0 && last) {
        resolve(last);
        return;
      }
      const how = signal ? `killed by ${signal}` : `exit status ${code}`;
      reject(new Error(`${script} failed (${how}); last lines of its output:\n${tail.join('\n').trimEnd()}`));
    });
  });
}
