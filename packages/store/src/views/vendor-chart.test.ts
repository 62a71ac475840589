import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { DaySales } from '../marketplace/vendor-sales.js';
import { SALES_WINDOW_DAYS, windowStart } from '../marketplace/vendor-sales.js';
import { attributesOf, tags, textOf } from '../testing/pages.js';
import { salesChart } from './vendor-chart.js';

/** The chart's arithmetic: bars in proportion, inside the drawing; the table says the same. */

const DAY_MS = 86_400_000;
const series = { currency: 'USD', test: false };

const days = fc
  .array(fc.record({ gross: fc.nat({ max: 10_000_000 }), orders: fc.nat({ max: 50 }) }), {
    minLength: SALES_WINDOW_DAYS,
    maxLength: SALES_WINDOW_DAYS,
  })
  .map((values): DaySales[] =>
    values.map((value, index) => ({
      day: new Date(Date.UTC(2026, 3, 1) + index * DAY_MS).toISOString().slice(0, 10),
      gross: value.orders === 0 ? 0 : value.gross,
      orders: value.orders,
    })),
  );

describe('the sales chart', () => {
  test('every bar is inside the plot, the best day is the tallest, a day without sales is flat', () => {
    fc.assert(
      fc.property(days, (sales) => {
        const markup = salesChart(sales, series).value;
        const svg = attributesOf(/<svg[^>]*>/.exec(markup)![0]);
        const [, , width, height] = svg.viewbox!.split(' ').map(Number);
        const bars = tags(markup, 'rect');
        expect(bars).toHaveLength(sales.length);
        const max = Math.max(...sales.map((day) => day.gross));
        const heights = bars.map((bar) => Number(bar.height));
        const tallest = Math.max(...heights);
        bars.forEach((bar, index) => {
          const y = Number(bar.y);
          const h = Number(bar.height);
          expect(bar['data-day']).toBe(sales[index]!.day);
          expect(h).toBeGreaterThanOrEqual(0);
          expect(y).toBeGreaterThanOrEqual(0);
          expect(y + h).toBeLessThanOrEqual(height! + 1e-9);
          expect(Number(bar.x) + Number(bar.width)).toBeLessThanOrEqual(width!);
          if (sales[index]!.gross === 0) expect(h).toBe(0);
          if (max > 0 && sales[index]!.gross === max) expect(h).toBe(tallest);
          // In proportion to the best day (to the drawing's 0.1 unit of rounding).
          if (max > 0) expect(Math.abs(h / tallest - sales[index]!.gross / max)).toBeLessThan(0.01);
        });
      }),
      { numRuns: 200 },
    );
  });

  test('the table repeats every day, and the description names the total', () => {
    const sales: DaySales[] = Array.from({ length: SALES_WINDOW_DAYS }, (_, index) => ({
      day: new Date(Date.UTC(2026, 3, 1) + index * DAY_MS).toISOString().slice(0, 10),
      gross: index === 3 ? 1500 : index === 10 ? 3000 : 0,
      orders: index === 3 ? 1 : index === 10 ? 2 : 0,
    }));
    const markup = salesChart(sales, { currency: 'USD', test: true }).value;
    expect(markup).toContain('<title id="sales-chart-title">');
    expect(textOf(/<desc[^>]*>([\s\S]*?)<\/desc>/.exec(markup)![1]!)).toBe(
      '$45.00 from 3 payments between 2026-04-01 and 2026-04-30; the best day was 2026-04-11 with $30.00.',
    );
    expect(markup).toContain('(test mode)');
    const rows = [...markup.matchAll(/<tr><th scope="row">[\s\S]*?<\/tr>/g)].map((row) =>
      textOf(row[0]),
    );
    expect(rows).toHaveLength(SALES_WINDOW_DAYS);
    expect(rows[3]).toBe('2026-04-04 1 $15.00');
    expect(rows[10]).toBe('2026-04-11 2 $30.00');
    expect(
      textOf(
        salesChart(
          sales.map((day) => ({ ...day, gross: 0, orders: 0 })),
          series,
        ).value,
      ),
    ).toContain('No sales from 2026-04-01 to 2026-04-30.');
  });

  test('the window: 30 whole UTC days ending with the day of `now`', () => {
    fc.assert(
      fc.property(fc.integer({ min: SALES_WINDOW_DAYS * DAY_MS, max: 4_102_444_800_000 }), (ms) => {
        const now = new Date(ms);
        const start = windowStart(now).getTime();
        expect(start % DAY_MS).toBe(0);
        expect(start).toBeLessThanOrEqual(ms);
        expect(ms - start).toBeLessThan(SALES_WINDOW_DAYS * DAY_MS);
        expect(ms - start).toBeGreaterThanOrEqual((SALES_WINDOW_DAYS - 1) * DAY_MS);
      }),
    );
  });
});
