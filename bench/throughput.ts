// The attack bench (`npm run bench`) keeps its own, smaller cost section under this name.
export { runThroughput, type ThroughputResult } from './lib/attack-throughput.js';
