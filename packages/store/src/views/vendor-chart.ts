import type { DaySales } from '../marketplace/vendor-sales.js';
import { formatMoney } from './format.js';
import type { SafeHtml } from './html.js';
import { html } from './html.js';

/**
 * The dashboard's sales chart: gross sales per day as bars, inline SVG (no script, no
 * external file; colours from the stylesheet, so the CSP's `style-src 'self'` holds). For
 * assistive technology it is one image named by its <title> and summed up by its <desc>;
 * every bar has a <title> of its own (a tooltip), and the same numbers follow as a table.
 */

// The drawing's own units; the stylesheet scales it to the width of the page.
const WIDTH = 320;
const HEIGHT = 140;
const LEFT = 4;
const TOP = 16;
const BOTTOM = 20;

function dayLabel(day: string): string {
  const [, month, date] = day.split('-');
  return `${Number(month)}/${Number(date)}`;
}

export function salesChart(
  days: readonly DaySales[],
  series: { currency: string; test: boolean },
): SafeHtml {
  const money = (amount: number) => formatMoney(amount, series.currency);
  const total = days.reduce((sum, day) => sum + day.gross, 0);
  const orders = days.reduce((sum, day) => sum + day.orders, 0);
  const best = days.reduce<DaySales | undefined>(
    (top, day) => (top === undefined || day.gross > top.gross ? day : top),
    undefined,
  );
  const max = Math.max(1, best?.gross ?? 0);
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = (WIDTH - LEFT * 2) / Math.max(1, days.length);
  const first = days[0]?.day ?? '';
  const last = days.at(-1)?.day ?? '';
  const mode = series.test ? ' (test mode)' : '';
  const description =
    total === 0
      ? `No sales from ${first} to ${last}.`
      : `${money(total)} from ${orders} ${orders === 1 ? 'payment' : 'payments'} between ${first} and ${last}; the best day was ${best!.day} with ${money(best!.gross)}.`;
  return html`<figure class="sales-chart">
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="sales-chart-title sales-chart-desc" focusable="false">
<title id="sales-chart-title">Gross sales per day, last ${days.length} days, ${series.currency}${mode}</title>
<desc id="sales-chart-desc">${description}</desc>
<line class="chart-axis" x1="${LEFT}" y1="${HEIGHT - BOTTOM}" x2="${WIDTH - LEFT}" y2="${HEIGHT - BOTTOM}"></line>
<line class="chart-grid" x1="${LEFT}" y1="${TOP}" x2="${WIDTH - LEFT}" y2="${TOP}"></line>
<text class="chart-label" x="${LEFT}" y="${TOP - 4}">${money(max)}</text>
${days.map((day, index) => {
  const height = Math.round((day.gross / max) * plotHeight * 10) / 10;
  const x = Math.round((LEFT + index * slot + slot * 0.15) * 10) / 10;
  const width = Math.round(slot * 0.7 * 10) / 10;
  return html`<rect class="chart-bar" data-day="${day.day}" x="${x}" y="${HEIGHT - BOTTOM - height}" width="${width}" height="${height}"><title>${day.day}: ${money(day.gross)}</title></rect>\n`;
})}
<text class="chart-label" x="${LEFT}" y="${HEIGHT - 6}">${dayLabel(first)}</text>
<text class="chart-label" x="${WIDTH - LEFT}" y="${HEIGHT - 6}" text-anchor="end">${dayLabel(last)}</text>
</svg>
<figcaption>Gross sales per day (UTC), ${series.currency}${mode}. ${description}</figcaption>
</figure>
<details class="chart-table">
<summary>The chart as a table</summary>
<div class="table-scroll" role="region" aria-labelledby="sales-table-caption" tabindex="0">
<table>
<caption id="sales-table-caption">Gross sales per day, ${series.currency}${mode}</caption>
<thead><tr><th scope="col">Day (UTC)</th><th scope="col">Payments</th><th scope="col">Gross sales</th></tr></thead>
<tbody>
${days.map(
  (day) =>
    html`<tr><th scope="row"><time datetime="${day.day}">${day.day}</time></th><td class="meter">${day.orders}</td><td class="meter">${money(day.gross)}</td></tr>\n`,
)}</tbody>
</table>
</div>
</details>`;
}
