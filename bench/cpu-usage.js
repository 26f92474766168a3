'use strict';
// Preloaded (`node -r`) into a measured CLI run: on exit, writes the process's own CPU time
// and peak RSS to $BENCH_CPU_FILE, so a loaded machine's wait for a core can be told apart
// from the CLI's own cost.
const fs = require('node:fs');

const file = process.env.BENCH_CPU_FILE;
if (file) {
  process.on('exit', () => {
    const u = process.cpuUsage();
    fs.writeFileSync(file, JSON.stringify({ userMs: u.user / 1000, systemMs: u.system / 1000, maxRssKb: process.resourceUsage().maxRSS }));
  });
}
