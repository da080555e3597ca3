/**
 * `npm run bench:chart [-- DIR]`: redraw DIR/chart.svg and DIR/chart.png (default bench/) from
 * DIR/results.json, without rerunning the ten-minute bench.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChartInput, writeChart } from './lib/chart.js';

const dir = process.argv[2] ?? 'bench';
const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as ChartInput;
await writeChart(results, dir);
console.log(`wrote ${join(dir, 'chart.svg')} and ${join(dir, 'chart.png')}`);
