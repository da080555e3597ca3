/**
 * The benchmark chart: small multiples, one panel per measure, written as SVG (hand-drawn, no
 * dependency) and PNG (the same SVG rasterised by resvg). Rules that keep it readable:
 * every panel holds one measure; a measure that is zero everywhere in the run gets a line of
 * text under the chart instead of an empty panel; titles wrap instead of running past their panel.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';

/** The parts of a bench run the chart reads (bench/results.json has the same shape). */
export interface ChartInput {
  readonly generatedAt: string;
  readonly mode: string;
  readonly scenarios: readonly {
    readonly name: string;
    readonly protection: string;
    readonly takeovers: number;
    readonly validityLeaks: number;
    readonly legitChallengedPct: number;
    readonly legitBlockedPct: number;
    readonly p50ms: number;
    readonly attack: { readonly sent: number; readonly blocked: number; readonly challenged: number };
  }[];
  readonly plans: readonly { readonly name: string }[];
  readonly throughput: {
    readonly paths: readonly {
      readonly name: string;
      readonly memoryRatio: number;
      readonly redisRatio: number | null;
      readonly roundRatios: { readonly memory: readonly number[]; readonly redis: readonly number[] };
    }[];
    readonly exampleScrypt: { readonly ratio: number; readonly roundRatios: readonly number[] };
  } | null;
}

interface Goal {
  readonly value: number;
  readonly label: string;
}

/** One measure across scenarios (groups) and protections (bars). */
interface GroupedPanel {
  readonly title: string;
  readonly value: (row: ChartInput['scenarios'][number]) => number;
  readonly format: (v: number) => string;
  readonly goal?: Goal;
}

/** One measure over a few labelled bars, each with the spread of its measurement windows. */
interface BarsPanel {
  readonly title: string;
  readonly bars: readonly { label: string; value: number; spread?: readonly number[]; color: string }[];
  readonly format: (v: number) => string;
  readonly goal?: Goal;
}

export const PROTECTION_COLORS: Record<string, string> = {
  none: '#9e9e9e',
  'express-rate-limit': '#f5a623',
  'rlf-recipe': '#d0021b',
  shield: '#2a7ab0',
};
const PROTECTIONS = ['none', 'express-rate-limit', 'rlf-recipe', 'shield'];
const STORE_COLORS = { memory: '#2a7ab0', redis: '#1b4f72' };
/** The throughput goal of the bench (report.ts holds the same number for the goal table). */
const THROUGHPUT_GOAL = 0.85;
const CHALLENGE_GOAL_PCT = 2;

const W = 380;
const H = 250;
const COLS = 3;
const PAD = { top: 46, right: 12, bottom: 40, left: 42 };
const TITLE_CHARS = 52;
const FONT = "Arial, 'Liberation Sans', Helvetica, sans-serif";

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Greedy word wrap to at most two lines of `max` characters (titles are short sentences). */
export function wrap(text: string, max: number): string[] {
  const lines: string[] = [''];
  for (const word of text.split(' ')) {
    const line = lines.at(-1)!;
    if (line === '') lines[lines.length - 1] = word;
    else if (line.length + 1 + word.length <= max) lines[lines.length - 1] = `${line} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** The smallest "nice" axis maximum (4 grid steps of 1, 2, 2.5 or 5 × 10^k) at or above `value`. */
function niceMax(value: number): number {
  if (!(value > 0)) return 4;
  const step = value / 4;
  const exp = 10 ** Math.floor(Math.log10(step));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= step) return 4 * m * exp;
  return 40 * exp;
}

function tickText(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return v < 1 ? v.toFixed(2).replace(/0$/, '') : v.toFixed(1);
}

const plotH = H - PAD.top - PAD.bottom;
const plotWidth = (w: number) => w - PAD.left - PAD.right;
const yOf = (v: number, max: number) => PAD.top + plotH - (plotH * Math.min(v, max)) / max;

function frame(x: number, y: number, w: number, title: string, max: number, body: string[], goal?: Goal): string {
  const plotW = plotWidth(w);
  const heading = goal ? `${title} — ${goal.label} (dashed)` : title;
  const out = [`<g transform="translate(${x},${y})">`];
  wrap(heading, Math.floor((TITLE_CHARS * w) / W)).forEach((line, i) => out.push(`<text x="${w / 2}" y="${16 + i * 14}" text-anchor="middle" class="title">${esc(line)}</text>`));
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const gy = PAD.top + plotH - (plotH * i) / 4;
    out.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${gy}" y2="${gy}" class="grid"/>`);
    out.push(`<text x="${PAD.left - 4}" y="${gy + 3}" text-anchor="end" class="tick">${esc(tickText(v))}</text>`);
  }
  out.push(...body);
  if (goal && goal.value <= max) {
    const gy = yOf(goal.value, max);
    out.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${gy}" y2="${gy}" class="goal"/>`);
  }
  out.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" class="axis"/>`, '</g>');
  return out.join('\n');
}

function bar(bx: number, value: number, width: number, max: number, color: string, label: string, spread?: readonly number[]): string[] {
  const base = PAD.top + plotH;
  // A zero is drawn as a hairline, so "measured, and zero" never looks like "missing".
  const top = value > 0 ? Math.min(yOf(value, max), base - 1.5) : base - 1;
  const out = [`<rect x="${bx.toFixed(1)}" y="${top.toFixed(1)}" width="${width.toFixed(1)}" height="${(base - top).toFixed(1)}" fill="${color}"/>`];
  let labelY = top - 3;
  if (spread && spread.length > 1) {
    const lo = yOf(Math.min(...spread), max);
    const hi = yOf(Math.max(...spread), max);
    const cx = bx + width / 2;
    out.push(`<path d="M${cx.toFixed(1)} ${lo.toFixed(1)}V${hi.toFixed(1)}M${(cx - 5).toFixed(1)} ${lo.toFixed(1)}h10M${(cx - 5).toFixed(1)} ${hi.toFixed(1)}h10" class="spread"/>`);
    labelY = Math.min(labelY, hi - 3);
  }
  out.push(`<text x="${(bx + width / 2).toFixed(1)}" y="${labelY.toFixed(1)}" text-anchor="middle" class="value">${esc(label)}</text>`);
  return out;
}

function groupedPanel(x: number, y: number, panel: GroupedPanel, input: ChartInput, scenarios: readonly string[], protections: readonly string[]): string {
  const max = niceMax(Math.max(...input.scenarios.map(panel.value), panel.goal?.value ?? 0));
  const groupW = plotWidth(W) / scenarios.length;
  const barW = (groupW * 0.8) / protections.length;
  const body: string[] = [];
  scenarios.forEach((scenario, g) => {
    const gx = PAD.left + g * groupW + groupW * 0.1;
    protections.forEach((protection, p) => {
      const row = input.scenarios.find((r) => r.name === scenario && r.protection === protection);
      if (!row) return;
      const v = panel.value(row);
      body.push(...bar(gx + p * barW, v, barW - 1, max, PROTECTION_COLORS[protection] ?? '#555', panel.format(v)));
    });
    body.push(`<text x="${(gx + groupW * 0.4).toFixed(1)}" y="${H - PAD.bottom + 14}" text-anchor="middle" class="label">${esc(scenario)}</text>`);
  });
  return frame(x, y, W, panel.title, max, body, panel.goal);
}

function barsPanel(x: number, y: number, w: number, panel: BarsPanel): string {
  const max = niceMax(Math.max(...panel.bars.flatMap((b) => [b.value, ...(b.spread ?? [])]), panel.goal?.value ?? 0));
  const slot = plotWidth(w) / panel.bars.length;
  const body: string[] = [];
  panel.bars.forEach((b, i) => {
    const bx = PAD.left + i * slot + slot * 0.15;
    body.push(...bar(bx, b.value, slot * 0.7, max, b.color, panel.format(b.value), b.spread));
    b.label.split('\n').forEach((line, j) => {
      body.push(`<text x="${(bx + slot * 0.35).toFixed(1)}" y="${H - PAD.bottom + 14 + j * 11}" text-anchor="middle" class="label">${esc(line)}</text>`);
    });
  });
  return frame(x, y, w, panel.title, max, body, panel.goal);
}

const pct = (part: number, whole: number) => (whole > 0 ? (part / whole) * 100 : 0);

const GROUPED: readonly GroupedPanel[] = [
  { title: 'Takeovers: attacker got a token without 2FA (goal 0)', value: (r) => r.takeovers, format: String },
  { title: 'Validity leaks: a right password told apart (goal 0)', value: (r) => r.validityLeaks, format: String },
  { title: 'Attack attempts stopped (blocked or stepped up), %', value: (r) => pct(r.attack.blocked + r.attack.challenged, r.attack.sent), format: (v) => v.toFixed(0) },
  { title: 'Legitimate known-device logins challenged, %', value: (r) => r.legitChallengedPct, format: (v) => v.toFixed(1), goal: { value: CHALLENGE_GOAL_PCT, label: `goal ≤ ${CHALLENGE_GOAL_PCT}` } },
  { title: 'Legitimate logins blocked (429), % (goal 0)', value: (r) => r.legitBlockedPct, format: (v) => v.toFixed(1) },
  { title: 'p50 latency of all requests, ms', value: (r) => r.p50ms, format: (v) => v.toFixed(0) },
];

function throughputPanels(t: NonNullable<ChartInput['throughput']>): BarsPanel[] {
  const cheap: BarsPanel['bars'][number][] = [];
  for (const p of t.paths) {
    // "returning users, new address each request" → "new address": the title says the rest.
    const short = p.name.replace(/^returning users, /, '').replace(/ each request$/, '');
    cheap.push({ label: `${short}\nmemory`, value: p.memoryRatio, spread: p.roundRatios.memory, color: STORE_COLORS.memory });
    if (p.redisRatio !== null) cheap.push({ label: `${short}\nredis`, value: p.redisRatio, spread: p.roundRatios.redis, color: STORE_COLORS.redis });
  }
  return [
    {
      title: 'Cheap login route: shield req/s ÷ bare Express req/s (whiskers: per-window range)',
      bars: cheap,
      format: (v) => v.toFixed(2),
      goal: { value: THROUGHPUT_GOAL, label: `goal ≥ ${THROUGHPUT_GOAL}` },
    },
    {
      title: "The example's scrypt login: shield req/s ÷ unprotected req/s",
      bars: [{ label: 'scrypt 2^14 login\nshield ÷ none', value: t.exampleScrypt.ratio, spread: t.exampleScrypt.roundRatios, color: '#5dade2' }],
      format: (v) => `${v.toFixed(2)} ×`,
    },
  ];
}

export function chartSvg(input: ChartInput): string {
  const scenarios = input.plans.map((p) => p.name).filter((n) => input.scenarios.some((r) => r.name === n));
  const protections = PROTECTIONS.filter((p) => input.scenarios.some((r) => r.protection === p));
  const drawn = GROUPED.filter((p) => input.scenarios.some((r) => p.value(r) !== 0));
  const allZero = GROUPED.filter((p) => !drawn.includes(p)).map((p) => p.title.replace(/ \(goal 0\)$/, ''));
  const bars = input.throughput ? throughputPanels(input.throughput) : [];
  // The cheap-route panel has one bar per path and store: it takes two columns.
  const slots: { panel: GroupedPanel | BarsPanel; span: number }[] = [
    ...drawn.map((panel) => ({ panel, span: 1 })),
    ...bars.map((panel) => ({ panel, span: panel.bars.length > 3 ? 2 : 1 })),
  ];

  const top = 70;
  const width = COLS * W + 20;
  const placed: { x: number; y: number; slot: (typeof slots)[number] }[] = [];
  let col = 0;
  let row = 0;
  for (const slot of slots) {
    if (col + slot.span > COLS) {
      col = 0;
      row++;
    }
    placed.push({ x: 10 + col * W, y: top + row * H, slot });
    col += slot.span;
  }
  const notes = allZero.length > 0 ? [`Zero for every protection in every scenario of this run, so not drawn: ${allZero.join('; ')}.`] : [];
  const height = top + (row + 1) * H + 12 + notes.length * 16;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${esc(FONT)}" role="img" aria-labelledby="chart-title">`,
    `<title id="chart-title">account-shield vs today’s defences</title>`,
    '<style>.title{font-size:12px;font-weight:bold;fill:#222}.tick{font-size:9px;fill:#666}.label{font-size:9.5px;fill:#333}' +
      '.value{font-size:9px;fill:#222}.grid{stroke:#eee}.axis{stroke:#999}.goal{stroke:#2e7d32;stroke-dasharray:4 3}.spread{stroke:#111;stroke-width:1;fill:none}' +
      '.legend{font-size:11px;fill:#222}.head{font-size:16px;font-weight:bold}.sub{font-size:10.5px;fill:#555}.note{font-size:11px;fill:#333}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="22" class="head">account-shield vs today’s defences — the same credential-stuffing traffic, one run</text>`,
    `<text x="12" y="39" class="sub">${esc(`${input.mode} run ${input.generatedAt.slice(0, 10)}; every count from HTTP answers${input.throughput ? '; throughput as a ratio to a baseline measured in the same run, interleaved' : ''}`)}</text>`,
  ];
  let lx = 12;
  for (const p of protections) {
    parts.push(`<rect x="${lx}" y="49" width="11" height="11" fill="${PROTECTION_COLORS[p] ?? '#555'}"/>`, `<text x="${lx + 15}" y="58" class="legend">${esc(p)}</text>`);
    lx += 36 + p.length * 6.4;
  }
  for (const { x, y, slot } of placed) {
    if ('value' in slot.panel) parts.push(groupedPanel(x, y, slot.panel, input, scenarios, protections));
    else parts.push(barsPanel(x, y, W * slot.span, slot.panel));
  }
  notes.forEach((note, i) => parts.push(`<text x="12" y="${top + (row + 1) * H + 8 + i * 16}" class="note">${esc(note)}</text>`));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** SVG → PNG at twice the size, with the machine's fonts (the SVG asks for Arial or its metric twin). */
export function chartPng(svg: string): Buffer {
  return new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'Liberation Sans' } }).render().asPng();
}

export async function writeChart(input: ChartInput, dir: string): Promise<void> {
  const svg = chartSvg(input);
  await writeFile(join(dir, 'chart.svg'), svg);
  await writeFile(join(dir, 'chart.png'), chartPng(svg));
}
