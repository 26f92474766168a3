import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKS } from '../../src/checks';
import { configTable } from '../../src/config';

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

describe('README', () => {
  it.each(configTable().map((row) => [row.env]))('documents %s in the configuration table', (env) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${env}\` \\|`, 'm'));
  });

  it.each(CHECKS.map((c) => [c.id]))('lists the check %s', (id) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${id}\` \\|`, 'm'));
  });
});
