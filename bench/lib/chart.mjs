/**
 * Line charts for the benchmark reports: drawn as SVG here (no charting library: a few
 * axes, ticks and polylines), put in an HTML page and screenshotted by headless Chromium
 * through playwright-core, so the PNG files committed beside BENCHMARKS.md render on any
 * Markdown viewer. Chromium is Debian's (CHROMIUM_PATH to override), launched with the
 * flags of test/e2e/support/chromium.ts.
 */

const COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df'];
const WIDTH = 800;
const HEIGHT = 360;
const MARGIN = { top: 40, right: 24, bottom: 48, left: 72 };

/** The flags of test/e2e/support/chromium.ts: no call home on a closed network. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function xmlText(text) {
  return String(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** About `count` round tick values covering [low, high] (1, 2 or 5 times a power of ten apart). */
export function ticks(low, high, count = 5) {
  const span = high - low || Math.abs(high) || 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw);
  // From the step at or below low to the first at or above high, so the data fit inside;
  // a point 2% of a step beyond may overhang (a 10-minute run's last sample, at 10.01).
  const first = Math.floor(low / step);
  const last = Math.max(first + 1, Math.ceil(high / step - 0.02));
  const values = [];
  for (let index = first; index <= last; index++)
    values.push(Number((index * step).toPrecision(12)));
  return values;
}

function label(value) {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 1) return value.toFixed(1).replace(/\.0$/, '');
  return value.toPrecision(2);
}

/**
 * @param {object} chart
 * @param {string} chart.title
 * @param {string} chart.xLabel
 * @param {string} chart.yLabel
 * @param {{ name: string, points: [number, number][] }[]} chart.series
 * @param {number} [chart.yMin]  default 0: memory and latency charts start at zero, so a
 *   small drift is not drawn as a cliff
 * @param {{ name: string, points: [number, number][] }[]} [chart.dashed]  fitted lines
 * @returns {string} an <svg> element
 */
export function lineChartSvg({ title, xLabel, yLabel, series, yMin = 0, dashed = [] }) {
  const all = [...series, ...dashed].flatMap((s) => s.points);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const xTicks = ticks(Math.min(...xs, 0), Math.max(...xs, 1));
  const yTicks = ticks(Math.min(yMin, ...ys), Math.max(...ys) * 1.05 || 1);
  const [x0, x1] = [xTicks[0], xTicks.at(-1)];
  const [y0, y1] = [yTicks[0], yTicks.at(-1)];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x) => MARGIN.left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const py = (y) => MARGIN.top + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${xmlText(title)}</text>`,
  ];
  for (const y of yTicks) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${py(y) + 4}" text-anchor="end">${label(y)}</text>`,
    );
  }
  for (const x of xTicks) {
    parts.push(
      `<line x1="${px(x)}" x2="${px(x)}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" stroke="#333"/>`,
      `<text x="${px(x)}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${label(x)}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">${xmlText(xLabel)}</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${xmlText(yLabel)}</text>`,
  );
  const line = (points, color, dash) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2"${dash ? ' stroke-dasharray="6 4"' : ''} points="${points
      .map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`)
      .join(' ')}"/>`;
  const legend = [];
  series.forEach((s, index) => {
    const color = COLORS[index % COLORS.length];
    parts.push(line(s.points, color, false));
    legend.push({ name: s.name, color, dash: false });
  });
  for (const s of dashed) {
    parts.push(line(s.points, '#555', true));
    legend.push({ name: s.name, color: '#555', dash: true });
  }
  // A white box under the legend, so lines passing behind it do not cross its text.
  const longest = Math.max(...legend.map(({ name }) => name.length));
  parts.push(
    `<rect x="${MARGIN.left + 4}" y="${MARGIN.top + 2}" width="${40 + longest * 7}" height="${legend.length * 16 + 6}" fill="white" fill-opacity="0.85"/>`,
  );
  legend.forEach(({ name, color, dash }, index) => {
    const y = MARGIN.top + 14 + index * 16;
    const x = MARGIN.left + 10;
    parts.push(
      `<line x1="${x}" x2="${x + 24}" y1="${y - 4}" y2="${y - 4}" stroke="${color}" stroke-width="2"${dash ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${x + 30}" y="${y}">${xmlText(name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * Screenshots each chart's SVG into its PNG file, in one browser.
 * @param {{ path: string, svg: string }[]} charts
 */
export async function writePngs(charts) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT } });
    for (const { path, svg } of charts) {
      await page.setContent(
        `<!doctype html><html><body style="margin:0;background:white">${svg}</body></html>`,
      );
      await page.locator('svg').screenshot({ path });
    }
  } finally {
    await browser.close();
  }
}
