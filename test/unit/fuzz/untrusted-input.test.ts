// Property-based fuzzing (fast-check) of everything that reads untrusted text: the dump's YAML/JSON
// loader and kubectl log splitter, the log/message parsers the checks use, and the escapers.
// Each property: no exception other than a parser's own error, bounded time per case, and no raw
// control or mrkdwn characters in what reaches a terminal or Slack.
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseObjects, splitKubectlLogs } from '../../../src/cluster/dump-parse';
import { DumpReader } from '../../../src/cluster/dump-reader';
import { parseSandboxError } from '../../../src/checks/support/cni';
import { corefileForward } from '../../../src/checks/support/dns';
import { logExcerpt } from '../../../src/checks/support/evidence';
import { yamlKind } from '../../../src/checks/support/kube-proxy';
import { failureExcerpt } from '../../../src/checks/support/pod-evidence';
import { NetdoctorError } from '../../../src/domain/errors';
import { safeJson, showControls } from '../../../src/render/control-chars';
import { code, codeBlock, text } from '../../../src/slack/escape';

// A fixed seed keeps CI deterministic; NETDOCTOR_FUZZ_SEED=<n> explores other inputs (a failure prints its seed and path).
const RUNS = { numRuns: 300, seed: Number(process.env.NETDOCTOR_FUZZ_SEED ?? 20261130) };
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** Strings biased towards what breaks parsers and renderers: YAML/JSON syntax, markers, controls, mrkdwn. */
const hostileChar = fc.constantFrom(
  ...'{}[]:,-#&*!|>\'"%@`\n\t\r \\<>_~=/'.split(''),
  '\u0000',
  '\u0007',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u2028',
  '\ufeff',
  '\ud800',
  '---\n',
  '...\n',
  '&a ',
  '*a ',
  '<!channel>',
  '```',
  '==== START logs for container app of pod ns/p ====\n',
  '==== END logs for container app of pod ns/p ====\n',
);
const hostile = fc.oneof(fc.string({ maxLength: 200 }), fc.array(fc.oneof(hostileChar, fc.string({ maxLength: 5 })), { maxLength: 60 }).map((a) => a.join('')));

/**
 * Runs fn and returns how long it took. The bound (HANG_MS) catches hangs and catastrophic blowups on
 * inputs of a few hundred characters; it is far above any honest run, even on a loaded machine.
 */
const HANG_MS = 15_000;

function timed(fn: () => void): number {
  const started = Date.now();
  fn();
  return Date.now() - started;
}

describe('fuzz: dump loader', () => {
  it('parseObjects returns objects or throws an Error, in bounded time', () => {
    fc.assert(
      fc.property(hostile, fc.boolean(), (input, json) => {
        const ms = timed(() => {
          try {
            for (const o of parseObjects(input, json)) expect(typeof o).toBe('object');
          } catch (e) {
            expect(e).toBeInstanceOf(Error);
          }
        });
        expect(ms).toBeLessThan(HANG_MS);
      }),
      RUNS,
    );
  });

  it('parseObjects reads back any JSON value it is given', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed = parseObjects(JSON.stringify(value), true);
        if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(typeof (value as { kind?: unknown }).kind === 'string' && Array.isArray((value as { items?: unknown }).items))) {
          // What the text carries: JSON has no -0 (JSON.stringify(-0) is "0").
          expect(parsed).toEqual([JSON.parse(JSON.stringify(value))]);
        }
      }),
      RUNS,
    );
  });

  it('splitKubectlLogs never throws; every section is a slice of the file', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        for (const s of splitKubectlLogs(input)) expect(input).toContain(s.text);
      }),
      RUNS,
    );
  });

  it('DumpReader: a dump of random files is read or refused with a NetdoctorError, nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('a.yaml', 'b.json', 'c.yml', 'ns/p/logs.txt', 'logs/ns/p/app.log'), hostile), { maxLength: 4 }), async (files) => {
        const dir = mkdtempSync(join(tmpdir(), 'nd-fuzz-'));
        try {
          writeFileSync(join(dir, 'base.json'), JSON.stringify({ kind: 'Namespace', metadata: { name: 'ns' } }));
          for (const [name, content] of files) {
            const path = join(dir, name);
            mkdirSync(join(path, '..'), { recursive: true });
            writeFileSync(path, content);
          }
          try {
            const view = await new DumpReader(dir).read({ namespace: 'ns', alsoNamespaces: [], kinds: ['Pod', 'Event', 'Namespace', 'ConfigMap'] });
            expect(view.objectCount).toBeGreaterThanOrEqual(0);
          } catch (e) {
            expect(e).toBeInstanceOf(NetdoctorError);
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('fuzz: log and message parsers', () => {
  it('never throw, in bounded time', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        const ms = timed(() => {
          parseSandboxError(input);
          corefileForward(input);
          yamlKind(input);
          for (const line of [...logExcerpt(input), ...failureExcerpt(input)]) expect(typeof line).toBe('string');
        });
        expect(ms).toBeLessThan(HANG_MS);
      }),
      RUNS,
    );
  });
});

describe('fuzz: escapers', () => {
  it('Slack code, code blocks and text never carry raw controls, `<`, `>` or an unescaped `&`', () => {
    fc.assert(
      fc.property(hostile, (input) => {
        for (const out of [code(input), codeBlock(input), text(input)]) {
          expect(out).not.toMatch(RAW_CONTROL);
          expect(out).not.toMatch(/[<>]/);
          expect(out).not.toMatch(/&(?!amp;|lt;|gt;)/);
        }
        expect(code(input).slice(1, -1)).not.toContain('`');
        expect(codeBlock(input).slice(4, -4)).not.toContain('`');
      }),
      RUNS,
    );
  });

  it('showControls leaves no control character but newline and tab; safeJson none at all, and round-trips', () => {
    fc.assert(
      fc.property(hostile, fc.jsonValue(), (input, value) => {
        expect(showControls(input)).not.toMatch(RAW_CONTROL);
        const json = safeJson({ input, value });
        expect(json).not.toMatch(/[\u007f-\u009f\u2028\u2029]/);
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify({ input, value })));
      }),
      RUNS,
    );
  });
});
