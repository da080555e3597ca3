import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * bench/results.json holds every bench's latest figures side by side. The cost benches own its
 * `cost` section only (`cost.throughput`, `cost.inProcess`): each replaces its own part and
 * leaves everything else — the attack bench's scenarios, goals and throughput — as it was.
 */
export const RESULTS_FILE = join(import.meta.dirname, '..', 'results.json');

export type CostPart = 'throughput' | 'inProcess';

export async function readResults(file = RESULTS_FILE): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

export async function writeCostPart(part: CostPart, value: unknown, file = RESULTS_FILE): Promise<void> {
  const results = await readResults(file);
  const cost = (results.cost ?? {}) as Record<string, unknown>;
  results.cost = { ...cost, [part]: value };
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
}
