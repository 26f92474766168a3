import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKS } from '../../src/checks';
import { configTable } from '../../src/config';
import { readResults, resultsSection, withResultsSection } from '../../bench/report';

const ROOT = join(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const deployReadme = readFileSync(join(ROOT, 'deploy', 'README.md'), 'utf8');
const catalog = readFileSync(join(ROOT, 'src', 'checks', 'README.md'), 'utf8');

describe('README', () => {
  it('stays short enough to read in five minutes (under 12 KB)', () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(12 * 1024);
  });

  it.each(['deploy/README.md', 'bench/README.md', 'test/README.md', 'src/checks/README.md'])('links %s, which exists', (path) => {
    expect(readme).toContain(`](${path}`);
    expect(existsSync(join(ROOT, path))).toBe(true);
  });

  it.each(CHECKS.map((c) => [c.id]))('names the check %s', (id) => {
    expect(readme).toContain(`\`${id}\``);
  });
});

describe('src/checks/README.md', () => {
  it.each(CHECKS.map((c) => [c.id, c.codes] as const))('lists the check %s with its fault codes', (id, codes) => {
    const row = catalog.split('\n').find((l) => l.startsWith(`| \`${id}\` |`));
    expect(row).toBeDefined();
    const listed = row!.split('|').at(-2)!.trim();
    expect(listed).toBe(codes.map((c) => `\`${c}\``).join(', '));
  });
});

describe('deploy/README.md', () => {
  it.each(configTable().map((row) => [row.env]))('documents %s in the configuration table', (env) => {
    expect(deployReadme).toMatch(new RegExp(`^\\| \`${env}\` \\|`, 'm'));
  });
});

describe('bench/README.md', () => {
  // The table and notes were copied by hand once and kept figures of runs long replaced.
  it('shows what bench/results/latest.json holds (the section `npm run bench` writes)', () => {
    const benchReadme = readFileSync(join(ROOT, 'bench', 'README.md'), 'utf8');
    const results = readResults(join(ROOT, 'bench', 'results', 'latest.json'))!;
    expect(benchReadme).toBe(withResultsSection(benchReadme, resultsSection(results)));
  });
});

describe('the repository', () => {
  // A merge left `<<<<<<< HEAD` in src/checks/README.md once, with two versions of two rows; nothing else noticed it.
  it('holds no unresolved merge conflict in any tracked file', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter((f) => f && existsSync(join(ROOT, f)));
    const conflicted = files.filter((f) => /^(<{7} |>{7} )/m.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(conflicted).toEqual([]);
  });
});
