/**
 * A hand-written SVG of the side-by-side results: small multiples, one panel per metric,
 * scenarios along the x axis, one bar per protection. No dependencies.
 */
export interface ChartRow {
  readonly scenario: string;
  readonly protection: string;
  readonly values: Readonly<Record<string, number>>;
}

export interface Panel {
  readonly key: string;
  readonly title: string;
  /** Format of the value label above a bar. */
  readonly format: (v: number) => string;
  /** A goal line (e.g. 2 % challenged), drawn dashed. */
  readonly goal?: { value: number; label: string };
}

export interface BarPanel {
  readonly title: string;
  readonly bars: readonly { label: string; value: number; color: string }[];
  readonly format: (v: number) => string;
  readonly goal?: { value: number; label: string };
}

export const PROTECTION_COLORS: Record<string, string> = {
  none: '#9e9e9e',
  'express-rate-limit': '#f5a623',
  'rlf-recipe': '#d0021b',
  shield: '#2a7ab0',
};

const W = 330;
const H = 230;
const PAD = { top: 34, right: 12, bottom: 42, left: 40 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

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

function frame(x: number, y: number, title: string, max: number, body: string[], goal?: { value: number; label: string }): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const heading = goal ? `${title} — ${goal.label} (dashed)` : title;
  const out = [`<g transform="translate(${x},${y})">`, `<text x="${W / 2}" y="18" text-anchor="middle" class="title">${esc(heading)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const gy = PAD.top + plotH - (plotH * i) / 4;
    out.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${gy}" y2="${gy}" class="grid"/>`);
    out.push(`<text x="${PAD.left - 4}" y="${gy + 3}" text-anchor="end" class="tick">${esc(tickText(v))}</text>`);
  }
  out.push(...body);
  if (goal && goal.value <= max) {
    // The line only; its label sits in the title, where no bar value can cover it.
    const gy = PAD.top + plotH - (plotH * goal.value) / max;
    out.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${gy}" y2="${gy}" class="goal"/>`);
  }
  out.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" class="axis"/>`, '</g>');
  return out.join('\n');
}

function bar(bx: number, value: number, width: number, max: number, color: string, label: string): string[] {
  const plotH = H - PAD.top - PAD.bottom;
  const h = value > 0 ? Math.max(1.5, (plotH * Math.min(value, max)) / max) : 0;
  const top = PAD.top + plotH - h;
  const out = [];
  if (h > 0) out.push(`<rect x="${bx.toFixed(1)}" y="${top.toFixed(1)}" width="${width.toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"/>`);
  else out.push(`<rect x="${bx.toFixed(1)}" y="${(PAD.top + plotH - 1).toFixed(1)}" width="${width.toFixed(1)}" height="1" fill="${color}"/>`);
  out.push(`<text x="${(bx + width / 2).toFixed(1)}" y="${(top - 3).toFixed(1)}" text-anchor="middle" class="value">${esc(label)}</text>`);
  return out;
}

function groupedPanel(x: number, y: number, panel: Panel, rows: readonly ChartRow[], scenarios: readonly string[], protections: readonly string[]): string {
  const values = rows.map((r) => r.values[panel.key] ?? 0);
  const max = niceMax(Math.max(...values, panel.goal?.value ?? 0));
  const plotW = W - PAD.left - PAD.right;
  const groupW = plotW / scenarios.length;
  const barW = (groupW * 0.8) / protections.length;
  const body: string[] = [];
  scenarios.forEach((scenario, g) => {
    const gx = PAD.left + g * groupW + groupW * 0.1;
    protections.forEach((protection, p) => {
      const row = rows.find((r) => r.scenario === scenario && r.protection === protection);
      if (!row) return;
      const v = row.values[panel.key] ?? 0;
      body.push(...bar(gx + p * barW, v, barW - 1, max, PROTECTION_COLORS[protection] ?? '#555', panel.format(v)));
    });
    body.push(`<text x="${(gx + groupW * 0.4).toFixed(1)}" y="${H - PAD.bottom + 14}" text-anchor="middle" class="label">${esc(scenario)}</text>`);
  });
  return frame(x, y, panel.title, max, body, panel.goal);
}

function simplePanel(x: number, y: number, panel: BarPanel): string {
  const max = niceMax(Math.max(...panel.bars.map((b) => b.value), panel.goal?.value ?? 0));
  const plotW = W - PAD.left - PAD.right;
  const slot = plotW / panel.bars.length;
  const body: string[] = [];
  panel.bars.forEach((b, i) => {
    const bx = PAD.left + i * slot + slot * 0.15;
    body.push(...bar(bx, b.value, slot * 0.7, max, b.color, panel.format(b.value)));
    const lines = b.label.split('\n');
    lines.forEach((line, j) => {
      body.push(`<text x="${(bx + slot * 0.35).toFixed(1)}" y="${H - PAD.bottom + 14 + j * 11}" text-anchor="middle" class="label">${esc(line)}</text>`);
    });
  });
  return frame(x, y, panel.title, max, body, panel.goal);
}

export function renderChart(options: {
  title: string;
  subtitle: string;
  rows: readonly ChartRow[];
  scenarios: readonly string[];
  protections: readonly string[];
  panels: readonly Panel[];
  extra: readonly BarPanel[];
}): string {
  const cols = 3;
  const count = options.panels.length + options.extra.length;
  const rowsN = Math.ceil(count / cols);
  const top = 64;
  const width = cols * W + 20;
  const height = top + rowsN * H + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" role="img" aria-labelledby="chart-title">`,
    `<title id="chart-title">${esc(options.title)}</title>`,
    '<style>.title{font-size:12px;font-weight:bold;fill:#222}.tick{font-size:9px;fill:#666}.label{font-size:9.5px;fill:#333}' +
      '.value{font-size:8.5px;fill:#222}.grid{stroke:#eee}.axis{stroke:#999}.goal{stroke:#2e7d32;stroke-dasharray:4 3}' +
      '.legend{font-size:10.5px;fill:#222}.head{font-size:15px;font-weight:bold}.sub{font-size:10px;fill:#555}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="20" class="head">${esc(options.title)}</text>`,
    `<text x="12" y="36" class="sub">${esc(options.subtitle)}</text>`,
  ];
  let lx = 12;
  for (const p of options.protections) {
    parts.push(`<rect x="${lx}" y="45" width="11" height="11" fill="${PROTECTION_COLORS[p] ?? '#555'}"/>`);
    parts.push(`<text x="${lx + 15}" y="54" class="legend">${esc(p)}</text>`);
    lx += 36 + p.length * 6.2;
  }
  let i = 0;
  const at = () => {
    const x = 10 + (i % cols) * W;
    const y = top + Math.floor(i / cols) * H;
    i++;
    return [x, y] as const;
  };
  for (const panel of options.panels) parts.push(groupedPanel(...at(), panel, options.rows, options.scenarios, options.protections));
  for (const panel of options.extra) parts.push(simplePanel(...at(), panel));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
