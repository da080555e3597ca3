/**
 * Picks the address out of one line of a dump: a plain list, a combolist (`email:password`)
 * or a CSV with an `email` column. Only the address part is ever returned; the rest of the
 * line (the password in a combolist) is dropped here and never reaches the hasher, a file or
 * a message.
 */
import { LeakCorpusError } from './errors.js';

export type InputFormat = 'auto' | 'text' | 'combo' | 'csv';
export const INPUT_FORMATS: readonly InputFormat[] = ['auto', 'text', 'combo', 'csv'];

/**
 * Returns the raw address of a record, `null` for a record that holds none (counted as
 * skipped), `undefined` for a line that is not a record (blank, CSV header).
 */
export type RecordReader = (line: string) => string | null | undefined;

/** `auto` means CSV for `.csv` / `.tsv` files, otherwise text (which also reads combolists). */
export function resolveFormat(format: InputFormat, fileName: string): 'text' | 'csv' {
  if (format === 'csv') return 'csv';
  if (format === 'auto' && /\.(csv|tsv)$/i.test(fileName)) return 'csv';
  return 'text';
}

export function createRecordReader(format: 'text' | 'csv', source = 'input'): RecordReader {
  return format === 'csv' ? csvReader(source) : textRecord;
}

// Combolists separate address and password with `:` (sometimes `;`, `|` or a tab). None of
// these can appear in an address we accept, so the first one ends the address; on a plain
// list there is none and the whole line is the address.
const COMBO_SEPARATOR = /[:;|\t]/;

function textRecord(line: string): string | null | undefined {
  if (line.trim().length === 0) return undefined;
  const separator = line.search(COMBO_SEPARATOR);
  return separator === -1 ? line : line.slice(0, separator);
}

const EMAIL_HEADER = /^(e-?mail|e-?mail[ _-]?address|mail)$/;

function csvReader(source: string): RecordReader {
  let column = -1;
  let delimiter = ',';
  return (line) => {
    if (line.trim().length === 0) return undefined;
    if (column === -1) {
      delimiter = pickDelimiter(line);
      const header = splitCsvLine(line, delimiter) ?? [];
      column = header.findIndex((cell) => EMAIL_HEADER.test(cell.trim().toLowerCase()));
      if (column === -1) {
        throw new LeakCorpusError('CORPUS_INPUT', `${source}: the CSV header has no "email" column`);
      }
      return undefined;
    }
    const cells = splitCsvLine(line, delimiter);
    return cells?.[column] ?? null;
  };
}

function pickDelimiter(headerLine: string): string {
  let best = ',';
  let bestCount = 0;
  for (const candidate of [',', ';', '\t']) {
    const count = headerLine.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

/**
 * RFC 4180 fields on one line (`"` quotes, `""` escapes). `null` for an unbalanced quote:
 * records spanning lines do not occur in address dumps, so such a line is just invalid.
 */
export function splitCsvLine(line: string, delimiter = ','): string[] | null {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch !== '"') cell += ch;
      else if (line[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  if (quoted) return null;
  cells.push(cell);
  return cells;
}
